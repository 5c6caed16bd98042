// The convolution input gradient (kernel `Conv2DBackpropInput`) as a forward
// Conv2D, composed from the backend's own kernels (see ../backend/compose.ts). For stride
// 1, dx[b,r,c,ci] = Σ_{i,j,co} dy[b, r+top−i, c+left−j, co] · W[i,j,ci,co]:
// a 'valid' correlation of dy padded by (kh−1−top, kh−1−bottom) rows and
// (kw−1−left, kw−1−right) columns with W flipped in both spatial axes and its
// channel axes swapped to [kh, kw, Cout, Cin].
import type { Conv2DBackpropInputAttrs, KernelBackend, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { backend_util } from '@tensorflow/tfjs';
import { composeKernel } from '../backend/compose';
import type { KernelArgs } from './filter-grad';

export function inputGradConvInfo(filter: TensorInfo, attrs: Conv2DBackpropInputAttrs): backend_util.Conv2DInfo {
  return backend_util.computeConv2DInfo(
    attrs.inputShape,
    filter.shape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    backend_util.convertConv2DDataFormat(attrs.dataFormat),
  );
}

/**
 * Whether the forward-conv formulation covers this call: stride 1, NHWC, no padding wider than the filter,
 * and dy shaped as the forward convolution's output. tfjs accepts a dy of another shape (conv2dTranspose with
 * an outputShape its input does not produce) and its kernels read dy as if it had that shape; ours would
 * convolve all of dy and return a dx of another shape (tfjs's spec "input=8x8x8,output=4x4x8,…,p=same vec4").
 */
export function convInputGradSupported(info: backend_util.Conv2DInfo, dy: TensorInfo): boolean {
  const { top, bottom, left, right } = info.padInfo;
  const [batch, height, width, channels] = dy.shape;
  return (
    batch === info.batchSize &&
    height === info.outHeight &&
    width === info.outWidth &&
    channels === info.outChannels &&
    info.dataFormat === 'channelsLast' &&
    info.strideHeight === 1 &&
    info.strideWidth === 1 &&
    Math.min(top, bottom, left, right) >= 0 &&
    Math.max(top, bottom) <= info.filterHeight - 1 &&
    Math.max(left, right) <= info.filterWidth - 1
  );
}

/** Our input gradient; throws for shapes `convInputGradSupported` rejects. */
export function conv2DBackpropInputViaConv(args: KernelArgs, backendName: string): TensorInfo {
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const attrs = args.attrs as unknown as Conv2DBackpropInputAttrs;
  const info = inputGradConvInfo(filter, attrs);
  if (!convInputGradSupported(info, dy)) {
    throw new Error(
      `Conv2DBackpropInput via conv cannot do dataFormat ${attrs.dataFormat}, strides ${String(attrs.strides)}, ` +
        `pad ${JSON.stringify(attrs.pad)}, dy of shape [${String(dy.shape)}] on backend '${backendName}'`,
    );
  }
  const { filterHeight: kh, filterWidth: kw } = info;
  const { top, bottom, left, right } = info.padInfo;
  return composeKernel(args.backend as KernelBackend, backendName, (c) => {
    const flipped = c.transpose(c.reverse(filter, [0, 1]), [0, 1, 3, 2]);
    const pad: [[number, number], [number, number], [number, number], [number, number]] = [
      [0, 0],
      [kh - 1 - top, kh - 1 - bottom],
      [kw - 1 - left, kw - 1 - right],
      [0, 0],
    ];
    return c.conv2d(dy, flipped, pad, [1, 1], [1, 1]);
  });
}

export type InputGradRule = (info: backend_util.Conv2DInfo) => 'conv' | 'stock';

/** A Conv2DBackpropInput kernelFunc that runs ours where `rule` says 'conv' and the shape allows, else `stock`. */
export function makeConv2DBackpropInput(backendName: string, rule: InputGradRule, stock: KernelFunc): KernelFunc {
  return (args) => {
    const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
    const info = inputGradConvInfo(filter, args.attrs as unknown as Conv2DBackpropInputAttrs);
    if (convInputGradSupported(info, dy) && rule(info) === 'conv') return conv2DBackpropInputViaConv(args, backendName);
    return stock(args);
  };
}
