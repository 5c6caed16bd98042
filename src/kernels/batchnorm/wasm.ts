// BatchNorm's normalisation (kernel `FusedBatchNorm`) as one multiply and one
// add over the activation, for wasm:
//   y = offset + (x − mean)·scale/√(variance + ε) = x·a + b,
//   a = scale/√(variance + ε),  b = offset − mean·a   (per channel).
//
// Why: tfjs-backend-wasm 4.22's FusedBatchNorm is a single-threaded loop that
// divides every element by a double-precision square root, and steps four
// broadcast indices per element. Multiply and Add are XNNPACK's vectorised
// broadcasting kernels, which run on the thread pool; the per-channel
// arithmetic on a and b is a few kernels on C values.
import type { KernelBackend, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { composeKernel } from '../backend/compose';

type BatchNormInputs = { x: TensorInfo; mean: TensorInfo; variance: TensorInfo; offset?: TensorInfo; scale?: TensorInfo };

/** Whether every per-channel input is a float32 vector over x's last axis (the layout BatchNorm layers give). */
export function isChannelBatchNorm({ x, mean, variance, offset, scale }: BatchNormInputs): boolean {
  const channels = x.shape[x.shape.length - 1];
  const perChannel = (t: TensorInfo | undefined) =>
    t === undefined || (t.shape.length === 1 && t.shape[0] === channels && t.dtype === 'float32');
  return (
    x.dtype === 'float32' && x.shape.length >= 2 && perChannel(mean) && perChannel(variance) && perChannel(offset) && perChannel(scale)
  );
}

/** A FusedBatchNorm kernelFunc: ours for per-channel statistics, `stock` for any other broadcast. */
export function makeBatchNorm(backendName: string, stock: KernelFunc): KernelFunc {
  return (args) => {
    const inputs = args.inputs as BatchNormInputs;
    if (!isChannelBatchNorm(inputs)) return stock(args);
    const { varianceEpsilon } = args.attrs as unknown as { varianceEpsilon: number };
    const { x, mean, variance, offset, scale } = inputs;
    return composeKernel(args.backend as KernelBackend, backendName, (k) => {
      const invStd = k.run('Rsqrt', { x: k.run('Add', { a: variance, b: k.constant(Float32Array.of(varianceEpsilon), []) }) });
      const a = scale === undefined ? invStd : k.run('Multiply', { a: scale, b: invStd });
      const shift = k.run('Multiply', { a: mean, b: a });
      const b = offset === undefined ? k.run('Neg', { x: shift }) : k.run('Sub', { a: offset, b: shift });
      return k.run('Add', { a: k.run('Multiply', { a: x, b: a }), b });
    });
  };
}
