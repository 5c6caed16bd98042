/**
 * The kernels of a seed training step one at a time, at the shapes the step
 * gives them (batch 64): run at 1 thread and at N, they show which kernels
 * the WASM backend's thread pool really speeds up. Our kernels are
 * registered, so Conv2DBackpropFilter, Conv2DBackpropInput, MaxPoolGrad,
 * Tile, per-channel Sum and Mean, FusedBatchNorm and Transpose are ours (some also
 * timed as tfjs's own, "stock"); everything else is tfjs's own. The
 * convolutions run on our relaxed-SIMD kernel at 1 thread and on XNNPACK's
 * pool at N (conv/fma-wasm.ts), so their speedup here is the two kernels' ratio.
 */
import * as tf from '@tensorflow/tfjs';
import type { NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { stockKernel } from '../kernels';
import { randomValues } from '../kernels/testing';
import type { OpRow, OpsJob } from './protocol';

type Case = { name: string; run: () => tf.Tensor };

const random = (shape: number[], seed: number) =>
  tf.tensor(
    randomValues(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ),
    shape,
  );

const kernel = (name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown>) =>
  tf.engine().runKernel(name, inputs, attrs as NamedAttrMap) as tf.Tensor;

/** tfjs's own kernel where ours replaced it, called directly. */
function stock(name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown>): tf.Tensor {
  const config = stockKernel(name, tf.getBackend());
  if (config === undefined) throw new Error(`no stock ${name} on ${tf.getBackend()}`);
  return tf
    .engine()
    .makeTensorFromTensorInfo(config.kernelFunc({ inputs, backend: tf.backend(), attrs: attrs as NamedAttrMap }) as TensorInfo);
}

/** The tensors the cases read, made once per batch size (disposed by the caller). */
function caseInputs(batch: number) {
  const x32 = random([batch, 32, 32, 32], 1) as tf.Tensor4D;
  const dy32 = random([batch, 32, 32, 32], 2) as tf.Tensor4D;
  const x128 = random([batch, 8, 8, 128], 3) as tf.Tensor4D;
  const w32 = random([3, 3, 32, 32], 4) as tf.Tensor4D;
  const w128 = random([3, 3, 128, 128], 5) as tf.Tensor4D;
  const channel = random([32], 6) as tf.Tensor1D;
  const patches = random([batch * 32 * 32, 288], 7) as tf.Tensor2D;
  const rows = random([batch * 32 * 32, 32], 8) as tf.Tensor2D;
  const patchesT = random([288, batch * 32 * 32], 9) as tf.Tensor2D;
  const pooled = tf.maxPool(x32, 2, 2, 'valid');
  const xT = tf.transpose(x32, [3, 1, 2, 0]) as tf.Tensor4D;
  const dyT = tf.transpose(dy32, [1, 2, 0, 3]) as tf.Tensor4D;
  return { x32, dy32, x128, w32, w128, channel, patches, rows, patchesT, pooled, xT, dyT };
}
type Inputs = ReturnType<typeof caseInputs>;

/** Convolutions and matrix products, whole and in the pieces of our weight gradient. */
function convolutionCases({ x32, dy32, x128, w32, w128, patches, rows, patchesT, xT, dyT }: Inputs): Case[] {
  const conv = { strides: 1, pad: 'same', dataFormat: 'NHWC', dimRoundingMode: 'floor' } as const;
  return [
    { name: 'Conv2D 32→32, 32² (XNNPACK)', run: () => tf.conv2d(x32, w32, 1, 'same') },
    { name: 'Conv2D 128→128, 8² (XNNPACK)', run: () => tf.conv2d(x128, w128, 1, 'same') },
    { name: 'MatMul [65536×288]·[288×32] (XNNPACK fully connected)', run: () => tf.matMul(patches, random([288, 32], 10)) },
    { name: 'MatMul [288×65536]·[65536×32] (plain)', run: () => tf.matMul(patchesT, rows) },
    { name: 'MatMul [65536×32]ᵀ·[65536×32] (transposeA)', run: () => tf.matMul(rows, rows, true, false) },
    {
      name: 'Conv2DBackpropFilter 32→32, 32² (ours)',
      run: () => kernel('Conv2DBackpropFilter', { x: x32, dy: dy32 }, { ...conv, filterShape: [3, 3, 32, 32] }),
    },
    {
      name: 'Conv2DBackpropInput 32→32, 32² (ours)',
      run: () => kernel('Conv2DBackpropInput', { dy: dy32, filter: w32 }, { ...conv, inputShape: x32.shape }),
    },
    {
      name: 'Conv2DBackpropInput 32→32, 32² (stock)',
      run: () => stock('Conv2DBackpropInput', { dy: dy32, filter: w32 }, { ...conv, inputShape: x32.shape }),
    },
    // The pieces of our 'conv' weight gradient for 32→32 at 32² (see conv/filter-grad.ts).
    { name: '  its x transposed to [32,32,32,64]', run: () => tf.transpose(x32, [3, 1, 2, 0]) },
    { name: '  its dy transposed to [32,32,64,32]', run: () => tf.transpose(dy32, [1, 2, 0, 3]) },
    {
      // A fresh filter each call, as in training, so that XNNPACK packs it again (the copy of dy, an Add, is included).
      name: '  its Conv2D, [32,32,32,64] * [32,32,64,32] → [32,3,3,32], + a copy of dy',
      run: () =>
        tf.conv2d(xT, tf.add(dyT, 0) as tf.Tensor4D, 1, [
          [0, 0],
          [1, 1],
          [1, 1],
          [0, 0],
        ]),
    },
  ];
}

/** Elementwise, reduction, normalisation, pooling and layout kernels, ours beside the stock ones. */
function layerCases({ x32, dy32, channel, pooled }: Inputs, batch: number): Case[] {
  return [
    { name: 'Add [64,32,32,32] + same', run: () => tf.add(x32, dy32) },
    { name: 'Mul [64,32,32,32] · [32] (broadcast)', run: () => tf.mul(x32, channel) },
    { name: 'Sum over B,H,W of [64,32,32,32] (ours)', run: () => tf.sum(x32, [0, 1, 2]) },
    { name: 'Sum over B,H,W of [64,32,32,32] (stock)', run: () => stock('Sum', { x: x32 }, { axis: [0, 1, 2], keepDims: false }) },
    { name: 'Mean over B,H,W of [64,32,32,32] (ours)', run: () => tf.mean(x32, [0, 1, 2]) },
    { name: 'Square [64,32,32,32]', run: () => tf.square(x32) },
    { name: 'Elu [64,32,32,32]', run: () => tf.elu(x32) },
    { name: 'EluGrad [64,32,32,32]', run: () => kernel('EluGrad', { dy: dy32, y: x32 }, {}) },
    {
      name: 'FusedBatchNorm [64,32,32,32] (ours)',
      run: () => tf.batchNorm(x32, channel, tf.abs(channel), channel, channel, 1e-3),
    },
    {
      name: 'FusedBatchNorm [64,32,32,32] (stock)',
      run: () =>
        stock(
          'FusedBatchNorm',
          { x: x32, mean: channel, variance: tf.abs(channel), offset: channel, scale: channel },
          { varianceEpsilon: 1e-3 },
        ),
    },
    { name: 'MaxPool 2×2 [64,32,32,32]', run: () => tf.maxPool(x32, 2, 2, 'valid') },
    {
      name: 'MaxPoolGrad 2×2 [64,32,32,32] (ours)',
      run: () => kernel('MaxPoolGrad', { dy: pooled, input: x32, output: pooled }, { filterSize: 2, strides: 2, pad: 'valid' }),
    },
    {
      name: 'MaxPoolGrad 2×2 [64,32,32,32] (stock)',
      run: () => stock('MaxPoolGrad', { dy: pooled, input: x32, output: pooled }, { filterSize: 2, strides: 2, pad: 'valid' }),
    },
    { name: 'Transpose [64,32,32,32] → [32,32,32,64] (ours)', run: () => tf.transpose(x32, [3, 1, 2, 0]) },
    { name: 'Transpose [64,32,32,32] → [32,32,32,64] (stock)', run: () => stock('Transpose', { x: x32 }, { perm: [3, 1, 2, 0] }) },
    {
      name: 'PadV2 [64,32,32,32] by 1',
      run: () =>
        tf.pad(x32, [
          [0, 0],
          [1, 1],
          [1, 1],
          [0, 0],
        ]),
    },
    { name: 'Slice [64,32,32,32] → [64,30,30,32] (ours)', run: () => tf.slice(x32, [0, 1, 1, 0], [batch, 30, 30, 32]) },
    {
      name: 'Slice [64,32,32,32] → [64,30,30,32] (stock)',
      run: () => stock('Slice', { x: x32 }, { begin: [0, 1, 1, 0], size: [batch, 30, 30, 32] }),
    },
    { name: 'Tile [1,1,1,32] → [64,32,32,32] (ours)', run: () => tf.tile(channel.reshape([1, 1, 1, 32]), [batch, 32, 32, 1]) },
    {
      name: 'Tile [1,1,1,32] → [64,32,32,32] (stock)',
      run: () => stock('Tile', { x: channel.reshape([1, 1, 1, 32]) }, { reps: [batch, 32, 32, 1] }),
    },
  ];
}

/** The cases, and the tensors they read (disposed by the caller). */
function cases(batch: number): { cases: Case[]; inputs: tf.Tensor[] } {
  const inputs = caseInputs(batch);
  return { cases: [...convolutionCases(inputs), ...layerCases(inputs, batch)], inputs: Object.values(inputs) };
}

/** The middle value (the upper middle of an even count). */
export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

/** ms per call of each case (median of `reps` after one untimed call). WASM only: its kernels finish before they return. */
export function runOpsJob(job: OpsJob, log: (text: string) => void): OpRow[] {
  if (tf.getBackend() !== 'wasm') throw new Error(`The ops job times WASM kernels, not ${tf.getBackend()}`);
  const { cases: list, inputs } = cases(job.batch);
  const rows: OpRow[] = [];
  try {
    for (const c of list) {
      const times: number[] = [];
      for (let r = 0; r <= job.reps; r++) {
        const start = performance.now();
        const out = tf.tidy(c.run);
        const ms = performance.now() - start;
        out.dispose();
        if (r > 0) times.push(ms);
      }
      rows.push({ name: c.name, ms: median(times) });
      log(`op ${c.name}: ${median(times).toFixed(1)} ms`);
    }
  } finally {
    tf.dispose(inputs);
  }
  return rows;
}
