// Per-channel Sum and Mean of an NHWC activation (kernels `Sum`, `Mean` over
// axes [0, 1, 2]), for wasm, through XNNPACK's average pooling.
//
// Why: BatchNorm's statistics and gradient and every convolution's bias
// gradient reduce a [B, H, W, C] tensor over B, H and W — 30 such reductions
// in a seed training step. tfjs-backend-wasm 4.22 reduces only over the
// innermost axes, so it first transposes the whole tensor to [C, B·H·W]; both
// that transpose and the reduction are plain single-threaded loops. Average
// pooling with one H×W window per image streams the tensor once, in
// XNNPACK, on the thread pool; what is left is a [B, C] mean, which the
// stock kernel does in no time.
import { util } from '@tensorflow/tfjs';
import type { KernelBackend, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { composeKernel } from '../backend/compose';

/** Whether this call reduces a float32 [B, H, W, C] (H·W > 1) over exactly B, H and W. */
export function isChannelReduce(x: TensorInfo, axis: number | number[]): boolean {
  if (x.shape.length !== 4 || x.dtype !== 'float32') return false;
  const axes = [...util.parseAxisParam(axis, x.shape)].sort();
  const [, h, w] = x.shape as [number, number, number, number];
  return axes.length === 3 && axes[0] === 0 && axes[1] === 1 && axes[2] === 2 && h * w > 1;
}

/** A Sum or Mean kernelFunc: ours for per-channel reductions of NHWC tensors, `stock` for everything else. */
export function makeChannelReduce(kind: 'Sum' | 'Mean', backendName: string, stock: KernelFunc): KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
    if (!isChannelReduce(x, axis)) return stock(args);
    const [b, h, w, c] = x.shape as [number, number, number, number];
    return composeKernel(args.backend as KernelBackend, backendName, (k) => {
      const pooled = k.run('AvgPool', { x }, { filterSize: [h, w], strides: [h, w], pad: 'valid' });
      // The same reduction over the images' means: their mean (equal groups) is the mean over B·H·W, their sum times H·W the sum.
      const perImage = k.reshape(pooled, [b, c]);
      let out = k.adopt(stock({ inputs: { x: perImage }, backend: args.backend, attrs: { axis: 0, keepDims: false } }) as TensorInfo);
      if (kind === 'Sum') out = k.run('Multiply', { a: out, b: k.constant(Float32Array.of(h * w), []) });
      return keepDims ? k.reshape(out, [1, 1, 1, c]) : out;
    });
  };
}
