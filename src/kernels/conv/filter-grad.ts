// The convolution weight gradient (kernel `Conv2DBackpropFilter`), composed
// from the backend's own kernels (see ../backend/compose.ts). Two formulations:
//
// 'im2col': the kh·kw shifted windows of the padded input, laid out as one
//   [kh·kw·Cin, B·H'·W'] matrix, times dy as [B·H'·W', Cout]. The input is
//   transposed to [Cin, B, H, W] first so each window is a plain slice and the
//   windows stack on axis 0; that keeps the matrix product free of
//   transpose flags, which cost 10× on wasm (BatchMatMul [65536,288]ᵀ×[65536,32]:
//   555 ms with transposeA, 43 ms for the same product pre-transposed; Node 20,
//   SIMD, one thread).
// 'im2colNhwc': the same windows sliced from NHWC x and concatenated on the
//   channel axis, [B·H'·W', kh·kw·Cin]ᵀ × dy: no transpose of x, but a
//   transposeA product. On WebGPU (SwiftShader) that layout was the faster of
//   the two (see rules.ts); on wasm it is the 10× slow path.
// 'taps': for each of the kh·kw filter taps, its shifted window of the padded
//   NHWC input as [B·H'·W', Cin]ᵀ times dy: kh·kw products, no patch matrix
//   (whose concatenation copies kh·kw times the input). Faster on WebGPU for
//   wide inputs (see rules.ts).
// 'conv': for stride s the gradient is the correlation
//   dW[i,j,ci,co] = Σ_{b,y,x} xpad[b, i+s·y, j+s·x, ci] · dy[b,y,x,co],
//   i.e. a forward Conv2D of x as [Cin, H, W, B] (the batch becomes the
//   channels) with dy as a [H', W', B, Cout] filter dilated by s, giving
//   [Cin, kh, kw, Cout]. On wasm that runs through XNNPACK's convolution.
import { backend_util, getKernel } from '@tensorflow/tfjs';
import type { Conv2DBackpropFilterAttrs, KernelBackend, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';
import { composeKernel, type KernelComposer } from '../backend/compose';
import { PATCHES } from './patches-webgpu';

export type FilterGradMethod = 'im2col' | 'im2colNhwc' | 'taps' | 'conv' | 'patches' | 'stock';

export type KernelArgs = { inputs: NamedTensorInfoMap; backend: unknown; attrs?: NamedAttrMap };

export function filterGradConvInfo(x: TensorInfo, attrs: Conv2DBackpropFilterAttrs): backend_util.Conv2DInfo {
  return backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    backend_util.convertConv2DDataFormat(attrs.dataFormat),
  );
}

/** Which formulations can compute this gradient at all on `backendName` (the stock kernel aside). */
export function supportedFilterGradMethods(info: backend_util.Conv2DInfo, backendName: string): FilterGradMethod[] {
  if (info.dataFormat !== 'channelsLast') return [];
  const { top, bottom, left, right } = info.padInfo;
  if (Math.min(top, bottom, left, right) < 0) return [];
  const unitStride = info.strideHeight === 1 && info.strideWidth === 1;
  if (!unitStride) return ['conv'];
  const patches = getKernel(PATCHES, backendName) !== undefined;
  return ['im2col', 'im2colNhwc', 'taps', 'conv', ...(patches ? (['patches'] as const) : [])];
}

function im2colFilterGrad(c: KernelComposer, x: TensorInfo, dy: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
  const { batchSize: b, inChannels: cin, outChannels: cout, outHeight: oh, outWidth: ow, filterHeight: kh, filterWidth: kw } = info;
  const { top, bottom, left, right } = info.padInfo;
  const n = b * oh * ow;
  const xT = c.transpose(x, [3, 0, 1, 2]);
  const xpT = c.pad(xT, [
    [0, 0],
    [0, 0],
    [top, bottom],
    [left, right],
  ]);
  c.release(xT);
  const windows: TensorInfo[] = [];
  const rows: TensorInfo[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const w = c.slice(xpT, [0, 0, i, j], [cin, b, oh, ow]);
      windows.push(w);
      rows.push(c.reshape(w, [cin, n]));
    }
  }
  c.release(xpT);
  const patches = c.concat(rows, 0);
  // The windows are as large as the patch matrix itself (75 MB for 32→32
  // channels, 32×32, batch 64): free them before the product allocates more.
  for (const t of [...rows, ...windows]) c.release(t);
  const product = c.matMul(patches, c.reshape(dy, [n, cout]));
  return c.reshape(product, info.filterShape);
}

/** x with the convolution's 'same' (or 'valid': none) padding around H and W. */
function padSpatially(c: KernelComposer, x: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
  const { top, bottom, left, right } = info.padInfo;
  return c.pad(x, [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ]);
}

function im2colNhwcFilterGrad(c: KernelComposer, x: TensorInfo, dy: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
  const { batchSize: b, inChannels: cin, outChannels: cout, outHeight: oh, outWidth: ow, filterHeight: kh, filterWidth: kw } = info;
  const n = b * oh * ow;
  const xp = padSpatially(c, x, info);
  const windows: TensorInfo[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) windows.push(c.slice(xp, [0, i, j, 0], [b, oh, ow, cin]));
  }
  c.release(xp);
  const patches = c.concat(windows, 3);
  for (const t of windows) c.release(t);
  const product = c.matMul(c.reshape(patches, [n, kh * kw * cin]), c.reshape(dy, [n, cout]), true, false);
  return c.reshape(product, info.filterShape);
}

function patchesFilterGrad(c: KernelComposer, x: TensorInfo, dy: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
  const { batchSize: b, outChannels: cout, outHeight: oh, outWidth: ow, filterHeight: kh, filterWidth: kw } = info;
  const { top, left } = info.padInfo;
  const attrs = { filterHeight: kh, filterWidth: kw, padTop: top, padLeft: left, outHeight: oh, outWidth: ow };
  const patches = c.run(PATCHES, { x }, attrs);
  const product = c.matMul(patches, c.reshape(dy, [b * oh * ow, cout]), true, false);
  return c.reshape(product, info.filterShape);
}

/** One product per filter tap: Σ over B·H'·W' of the tap's window of x (NHWC, [N, Cin]ᵀ) times dy ([N, Cout]), no patch matrix. */
function tapsFilterGrad(c: KernelComposer, x: TensorInfo, dy: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
  const { batchSize: b, inChannels: cin, outChannels: cout, outHeight: oh, outWidth: ow, filterHeight: kh, filterWidth: kw } = info;
  const n = b * oh * ow;
  const xp = padSpatially(c, x, info);
  const dy2 = c.reshape(dy, [n, cout]);
  const taps: TensorInfo[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const w = c.slice(xp, [0, i, j, 0], [b, oh, ow, cin]);
      const rows = c.reshape(w, [n, cin]);
      taps.push(c.matMul(rows, dy2, true, false));
      c.release(rows);
      c.release(w);
    }
  }
  c.release(xp);
  return c.reshape(c.concat(taps, 0), info.filterShape);
}

function convFilterGrad(c: KernelComposer, x: TensorInfo, dy: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
  const { inChannels: cin, outChannels: cout, filterHeight: kh, filterWidth: kw } = info;
  const { top, bottom, left, right } = info.padInfo;
  const xT = c.transpose(x, [3, 1, 2, 0]);
  const dyT = c.transpose(dy, [1, 2, 0, 3]);
  let g = c.conv2d(
    xT,
    dyT,
    [
      [0, 0],
      [top, bottom],
      [left, right],
      [0, 0],
    ],
    [1, 1],
    [info.strideHeight, info.strideWidth],
  );
  // With a stride the padded input can hold rows past the last window the
  // forward pass used; those give rows/columns beyond the filter's size.
  if (g.shape[1] !== kh || g.shape[2] !== kw) g = c.slice(g, [0, 0, 0, 0], [cin, kh, kw, cout]);
  return c.transpose(g, [1, 2, 0, 3]);
}

/** Our weight gradient with the formulation fixed; throws for shapes `method` cannot do. */
export function conv2DBackpropFilterWith(method: Exclude<FilterGradMethod, 'stock'>, args: KernelArgs, backendName: string): TensorInfo {
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const attrs = args.attrs as unknown as Conv2DBackpropFilterAttrs;
  const info = filterGradConvInfo(x, attrs);
  if (!supportedFilterGradMethods(info, backendName).includes(method)) {
    throw new Error(
      `Conv2DBackpropFilter '${method}' cannot do dataFormat ${attrs.dataFormat}, strides ${String(attrs.strides)}, ` +
        `pad ${JSON.stringify(attrs.pad)} on backend '${backendName}'`,
    );
  }
  const backend = args.backend as KernelBackend;
  const impl = {
    im2col: im2colFilterGrad,
    im2colNhwc: im2colNhwcFilterGrad,
    taps: tapsFilterGrad,
    conv: convFilterGrad,
    patches: patchesFilterGrad,
  }[method];
  return composeKernel(backend, backendName, (c) => impl(c, x, dy, info));
}

export type FilterGradRule = (info: backend_util.Conv2DInfo, possible: FilterGradMethod[]) => FilterGradMethod;

/**
 * A Conv2DBackpropFilter kernelFunc for `backendName` that asks `rule` which
 * formulation to use for each call; `stock` is the backend's own kernel (if it
 * has one), used when the rule says 'stock' or no formulation fits the shape.
 */
export function makeConv2DBackpropFilter(backendName: string, rule: FilterGradRule, stock?: KernelFunc): KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const attrs = args.attrs as unknown as Conv2DBackpropFilterAttrs;
    const info = filterGradConvInfo(x, attrs);
    const possible: FilterGradMethod[] = supportedFilterGradMethods(info, backendName);
    if (stock !== undefined) possible.push('stock');
    if (possible.length === 0) {
      throw new Error(
        `Conv2DBackpropFilter on '${backendName}': no implementation for dataFormat ${attrs.dataFormat}, ` +
          `pad ${JSON.stringify(attrs.pad)} (the backend has no stock kernel; ours needs NHWC and non-negative padding)`,
      );
    }
    const method = rule(info, possible);
    if (method === 'stock') {
      if (stock === undefined) throw new Error(`Conv2DBackpropFilter rule chose 'stock' but '${backendName}' has none`);
      return stock(args);
    }
    return conv2DBackpropFilterWith(method, args, backendName);
  };
}
