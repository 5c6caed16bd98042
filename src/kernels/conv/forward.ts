// The forward convolution (kernels `Conv2D` and `FusedConv2D`) computed by the
// backend's own input-gradient kernel, for WebGPU. For stride 1,
//   y[b,r,c,co] = Σ_{i,j,ci} x[b, r−top+i, c−left+j, ci] · W[i,j,ci,co]
// is a transposed convolution of x (as "dy") with W flipped in both spatial
// axes and its channel axes swapped (F = [kh, kw, Cout, Cin]), padded by
// (kh−1−top, kh−1−bottom) rows and (kw−1−left, kw−1−right) columns: the
// mirror image of conv/input-grad.ts. tfjs-backend-webgpu 4.22 runs its
// input gradient as a plain one-thread-per-output loop, which SwiftShader
// executes faster than the tiled implicit-GEMM program of its Conv2D (timings
// in docs/benchmarks.md, "Forward convolution on WebGPU"). So from 16 input
// channels on, for 3×3 filters; everything else keeps the stock kernel.
import { backend_util } from '@tensorflow/tfjs';
import type { KernelBackend, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { composeKernel } from '../backend/compose';

/** The inputs of Conv2D and FusedConv2D (the fused one adds the bias and PReLU's weights). */
export type ForwardInputs = { x: TensorInfo; filter: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo };

export type ForwardAttrs = {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dataFormat?: 'NHWC' | 'NCHW';
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  activation?: string;
  leakyreluAlpha?: number;
};

export type ForwardMethod = 'transposed' | 'stock';
export type ForwardConvRule = (info: backend_util.Conv2DInfo) => ForwardMethod;

/** The WebGPU choice measured above. */
export const webgpuForwardConvRule: ForwardConvRule = (info) =>
  info.filterHeight <= 3 && info.filterWidth <= 3 && info.inChannels >= 16 ? 'transposed' : 'stock';

export function convInfo(x: TensorInfo, filter: TensorInfo, attrs: ForwardAttrs): backend_util.Conv2DInfo {
  return backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    backend_util.convertConv2DDataFormat(attrs.dataFormat ?? 'NHWC'),
  );
}

/** Whether the transposed formulation can do this call at all. */
export function transposedForwardSupported(info: backend_util.Conv2DInfo, activation: string | undefined, hasPrelu: boolean): boolean {
  const { top, bottom, left, right } = info.padInfo;
  return (
    info.dataFormat === 'channelsLast' &&
    info.strideHeight === 1 &&
    info.strideWidth === 1 &&
    info.dilationHeight === 1 &&
    info.dilationWidth === 1 &&
    Math.min(top, bottom, left, right) >= 0 &&
    Math.max(top, bottom) <= info.filterHeight - 1 &&
    Math.max(left, right) <= info.filterWidth - 1 &&
    !hasPrelu &&
    (activation === undefined || activation === 'linear' || activation === 'relu')
  );
}

/** conv2d(x, filter) (+ bias, then ReLU if asked) through the backend's Conv2DBackpropInput. */
export function conv2DViaTransposed(
  backend: KernelBackend,
  backendName: string,
  x: TensorInfo,
  filter: TensorInfo,
  info: backend_util.Conv2DInfo,
  bias: TensorInfo | undefined,
  activation: string | undefined,
): TensorInfo {
  const { filterHeight: kh, filterWidth: kw } = info;
  const { top, bottom, left, right } = info.padInfo;
  return composeKernel(backend, backendName, (c) => {
    const flipped = c.transpose(c.reverse(filter, [0, 1]), [0, 1, 3, 2]);
    let y = c.run(
      'Conv2DBackpropInput',
      { dy: x, filter: flipped },
      {
        strides: [1, 1],
        pad: [
          [0, 0],
          [kh - 1 - top, kh - 1 - bottom],
          [kw - 1 - left, kw - 1 - right],
          [0, 0],
        ],
        dataFormat: 'NHWC',
        dimRoundingMode: 'floor',
        inputShape: info.outShape,
      },
    );
    if (bias !== undefined) y = c.run('Add', { a: y, b: bias });
    if (activation === 'relu') y = c.run('Relu', { x: y });
    return y;
  });
}

/** A Conv2D or FusedConv2D kernelFunc: ours where `rule` and the call allow, else `stock`. */
export function makeForwardConv(backendName: string, rule: ForwardConvRule, stock: KernelFunc): KernelFunc {
  return (args) => {
    const { x, filter, bias, preluActivationWeights } = args.inputs as ForwardInputs;
    const attrs = args.attrs as unknown as ForwardAttrs;
    const info = convInfo(x, filter, attrs);
    if (!transposedForwardSupported(info, attrs.activation, preluActivationWeights !== undefined) || rule(info) !== 'transposed')
      return stock(args);
    return conv2DViaTransposed(args.backend as KernelBackend, backendName, x, filter, info, bias, attrs.activation);
  };
}
