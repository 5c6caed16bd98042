/**
 * Checks of the step's own kernels against tfjs on the job's backend (part of
 * the bench page's `fused` job, see fused-checks.ts): the fused optimizers,
 * dropout's mask, the batch's way in, the loss, and one whole training step of
 * the tiny preset against the same step made of tfjs ops. Every reference
 * runs on TensorFlow.js's stock kernels (onStockKernels).
 */
import * as tf from '@tensorflow/tfjs';
import { toModelInput } from '../data/preprocess';
import { buildModel } from '../model/model';
import { augmentBatch, augmentParams } from '../train/augment';
import { MAX_SHIFT, resolveRecipe } from '../run/recipe';
import { FusedAdam, FusedMomentum } from '../train/fusedOptimizers';
import { batchInput, paramsRows } from '../kernels/input/webgpu';
import { crossEntropyMetrics, crossEntropyObjective } from '../kernels/loss/cross-entropy';
import { dropoutTraining, kept } from '../kernels/dropout/dropout';
import { valueError } from '../kernels/testing';
import { CE_EPSILON, createOptimizer, createTrainStep, crossEntropy } from '../train/step';
import { onStockKernels } from './backend';

export interface StepCheck {
  name: string;
  /** Where the check exercises a kernel of ours (elsewhere it would compare tfjs with itself). */
  backends: readonly string[];
  run: () => Promise<number>;
}

const GPU = ['webgpu', 'webgl'] as const;

/** max|a − b| / max(max|b|, floor) */
function relative(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-30): number {
  let [diff, scale] = [0, floor];
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs((a[i] as number) - (b[i] as number)));
    scale = Math.max(scale, Math.abs(b[i] as number));
  }
  return diff / scale;
}

/**
 * Three steps of each optimizer on the same two variables and gradients; the
 * worst error over weights and slots, value by value (valueError), so that an
 * error in small values does not vanish against the largest: Adam's v spans
 * five decades. Slots are measured down to 1e-3 of their largest. Weights
 * (max ≈ 2.7) move by about lr a step, 0.01–0.05 in all: one nearer 0 than
 * that is the difference of larger numbers, so they are measured down to 1e-2
 * of their largest. Seen on SwiftShader: Adam's weights 8.3e-6 on WebGPU and
 * 8.2e-6 on WebGL (tfjs's 1 − β₂ᵗ is a float32 running product, ours is
 * rounded from float64), slots and momentum 0; the bench spec's 1e-4 leaves a
 * margin of 12.
 */
async function optimizerError(fused: tf.Optimizer, reference: tf.Optimizer, tag: string): Promise<number> {
  const make = (side: string) => [
    tf.variable(tf.randomNormal([3, 3, 5, 7], 0, 1, 'float32', 1), true, `check-${tag}-${side}/kernel`),
    tf.variable(tf.randomNormal([7], 0, 1, 'float32', 2), true, `check-${tag}-${side}/bias`),
  ];
  const [a, b] = [make('fused'), make('tfjs')];
  let worst = 0;
  for (let step = 0; step < 3; step++) {
    const grads = a.map((v, i) => tf.randomNormal(v.shape, 0, 0.1, 'float32', 10 * step + i + 1));
    fused.applyGradients(a.map((v, i) => ({ name: v.name, tensor: grads[i] as tf.Tensor })));
    const rw = await onStockKernels(async () => {
      reference.applyGradients(b.map((v, i) => ({ name: v.name, tensor: grads[i] as tf.Tensor })));
      const weights = await reference.getWeights();
      await Promise.all([...b, ...weights.map((w) => w.tensor)].map((t) => t.data()));
      return weights;
    });
    tf.dispose(grads);
    const fw = await fused.getWeights();
    const pairs: [tf.Tensor, tf.Tensor, number][] = [
      ...a.map((v, i) => [v, b[i], 1e-2] as [tf.Tensor, tf.Tensor, number]),
      ...fw.map((w, i) => [w.tensor, (rw[i] as { tensor: tf.Tensor }).tensor, 1e-3] as [tf.Tensor, tf.Tensor, number]),
    ];
    for (const [x, y, floor] of pairs) worst = Math.max(worst, valueError(await x.data(), await y.data(), floor));
  }
  tf.dispose([...a, ...b]);
  fused.dispose();
  reference.dispose();
  return worst;
}

/** Our dropout on this backend against the mask `kept` computes in JS: forward values and the gradient's zeros. */
async function dropoutError(): Promise<number> {
  const rate = 0.3;
  const seed = 0x9e3779b9;
  const x = tf.randomNormal([4, 9, 11, 6], 0, 1, 'float32', 5);
  const y = await dropoutTraining(x, rate, seed).data();
  const values = await x.data();
  const expected = Float32Array.from(values, (v, i) => (kept(seed, i, rate) ? v / (1 - rate) : 0));
  const grad = await tf
    .grad((t: tf.Tensor) => tf.sum(dropoutTraining(t, rate, seed)))(x)
    .data();
  const expectedGrad = Float32Array.from(values, (_, i) => (kept(seed, i, rate) ? 1 / (1 - rate) : 0));
  x.dispose();
  return Math.max(relative(y, expected), relative(grad, expectedGrad));
}

const STATS = { mean: [125.3, 123.0, 113.9], std: [63.0, 62.1, 66.7] } as const;

/** Our batch input (standardise, gray, flip, shift) against toModelInput then augmentBatch, on this backend. */
async function batchInputError(color: 'rgb' | 'gray'): Promise<number> {
  const batch = 8;
  const pixels = tf.randomUniform([batch, 32, 32, 3], 0, 255, 'float32', 6) as tf.Tensor4D;
  const params = augmentParams(3, 7, batch);
  const rows = tf.tensor2d(paramsRows(params, new Int32Array(batch * 3)), [batch, 3], 'int32');
  const ours = await batchInput(pixels, rows, color, STATS).data();
  const reference = await onStockKernels(() =>
    tf.tidy(() => augmentBatch(toModelInput(pixels, { color, ...STATS }), params, MAX_SHIFT)).data(),
  );
  tf.dispose([pixels, rows]);
  return relative(ours, reference);
}

/** Our loss kernels (objective with smoothing, its gradient, the metrics) against the tfjs ops of step.ts. */
async function crossEntropyError(): Promise<number> {
  const probs = tf.softmax(tf.randomNormal([24, 10], 0, 3, 'float32', 8)) as tf.Tensor2D;
  const labels = tf.tensor1d(
    Array.from({ length: 24 }, (_, i) => (i * 7) % 10),
    'int32',
  );
  let worst = 0;
  for (const smoothing of [0, 0.2]) {
    const ours = await crossEntropyObjective(probs, labels, smoothing, CE_EPSILON).data();
    const g = await tf
      .grad((p: tf.Tensor) => crossEntropyObjective(p as tf.Tensor2D, labels, smoothing, CE_EPSILON))(probs)
      .data();
    const [reference, gRef] = await onStockKernels(() =>
      Promise.all([
        crossEntropy(probs, labels, smoothing).data(),
        tf
          .grad((p: tf.Tensor) => crossEntropy(p as tf.Tensor2D, labels, smoothing))(probs)
          .data(),
      ]),
    );
    worst = Math.max(worst, relative(ours, reference), relative(g, gRef));
  }
  const metrics = await crossEntropyMetrics(probs, labels, CE_EPSILON).data();
  const [accuracy, plain] = await onStockKernels(() =>
    Promise.all([
      tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(probs, 1), labels), 'float32'))).data(),
      crossEntropy(probs, labels).data(),
    ]),
  );
  tf.dispose([probs, labels]);
  return Math.max(worst, relative(metrics, [plain[0] as number, accuracy[0] as number]));
}

/** Indices in `model.weights` of the conv biases that feed a BatchNorm, whose gradient is 0 in exact arithmetic. */
function biasesBeforeBatchNorm(model: tf.LayersModel): Set<number> {
  const out = new Set<number>();
  model.layers.forEach((layer, i) => {
    if (layer.getClassName() !== 'Conv2D' || model.layers[i + 1]?.getClassName() !== 'BatchNormalization') return;
    const bias = layer.weights.find((w) => w.originalName.endsWith('/bias'));
    if (bias) out.add(model.weights.indexOf(bias));
  });
  return out;
}

/**
 * One training step of the tiny preset (momentum SGD, augmentation on) as
 * createTrainStep makes it on this backend (fused wherever it can be) against
 * the same step in tfjs ops and tfjs-layers: each weight's and running
 * statistic's change against its own largest change, so that a small weight
 * is not measured against a large one. SGD rather than Adam: Adam's first
 * step moves every weight by ±lr whatever its gradient's size, so a bias
 * whose gradient is 0 up to rounding (a conv bias before BatchNorm) would
 * flip at random. Those biases have no change of their own to compare with:
 * theirs is rounding noise, measured against the largest change of the model.
 * Seen on SwiftShader: at most 3.7e-6 of a weight's own change on WebGPU,
 * 7.3e-6 on WebGL (bn1's γ, whose gradient sums 8,192 products); the bench
 * spec's bound of 1e-4 leaves a margin of 13.
 */
async function tinyStepError(): Promise<number> {
  const batch = 8;
  const settings = { preset: 'tiny', recipe: 'blog', optimizer: 'sgd', learningRate: 0.05 } as const;
  const pixels = (await tf.randomUniform([batch * 32 * 32 * 3], 0, 255, 'float32', 9).data()) as Float32Array;
  const labels = Int32Array.from({ length: batch }, (_, i) => i % 10);
  const before = buildModel({ preset: 'tiny', color: 'rgb', seed: 3 });
  const start = await Promise.all(before.weights.map((w) => w.read().data()));
  const noiseOnly = biasesBeforeBatchNorm(before);
  before.dispose();

  const ours = buildModel({ preset: 'tiny', color: 'rgb', seed: 3 });
  const optimizer = createOptimizer(resolveRecipe({ ...settings, batchSize: batch, augment: false }), 10);
  const step = createTrainStep({
    model: ours,
    optimizer: optimizer.optimizer,
    batchSize: batch,
    color: 'rgb',
    stats: STATS,
    augment: true,
    seed: 5,
  });
  step.x.set(pixels);
  step.y.set(labels);
  const metrics = step.run(0);
  const oursMetrics = await metrics.data();
  const oursAfter = await Promise.all(ours.weights.map((w) => w.read().data()));
  tf.dispose(metrics);
  step.dispose();
  optimizer.dispose();
  ours.dispose();

  const { refValues, refAfter } = await onStockKernels(async () => {
    const reference = buildModel({ preset: 'tiny', color: 'rgb', seed: 3 });
    const sgd = tf.train.momentum(settings.learningRate, 0.9);
    const refMetrics = tf.tidy(() => {
      const input = augmentBatch(
        toModelInput(tf.tensor4d(pixels, [batch, 32, 32, 3]), { color: 'rgb', ...STATS }),
        augmentParams(0, 5, batch),
        MAX_SHIFT,
      );
      const y = tf.tensor1d(labels, 'int32');
      let out: tf.Tensor | undefined;
      const trainable = reference.trainableWeights.map((w) => w.read() as tf.Variable);
      sgd.minimize(
        () => {
          const probs = reference.apply(input, { training: true }) as tf.Tensor2D;
          const loss = crossEntropy(probs, y);
          out = tf.keep(tf.stack([loss, tf.mean(tf.cast(tf.equal(tf.argMax(probs, 1), y), 'float32'))]));
          return loss;
        },
        false,
        trainable,
      );
      return out as tf.Tensor;
    });
    const refValues = await refMetrics.data();
    const refAfter = await Promise.all(reference.weights.map((w) => w.read().data()));
    tf.dispose(refMetrics);
    sgd.dispose();
    reference.dispose();
    return { refValues, refAfter };
  });

  const delta = (after: ArrayLike<number>[]) =>
    after.map((a, i) => Float32Array.from(a as Float32Array, (v, j) => v - ((start[i] as Float32Array)[j] as number)));
  const [dOurs, dRef] = [delta(oursAfter), delta(refAfter)];
  const largest = Math.max(...dRef.map((d) => d.reduce((m, v) => Math.max(m, Math.abs(v)), 0)));
  const weights = Math.max(...dOurs.map((d, i) => relative(d, dRef[i] as Float32Array, noiseOnly.has(i) ? largest : 1e-30)));
  return Math.max(weights, relative(oursMetrics, refValues));
}

export const STEP_CHECKS: StepCheck[] = [
  { name: 'adam update', backends: GPU, run: () => optimizerError(new FusedAdam(0.01, 0.9, 0.999), tf.train.adam(0.01), 'adam') },
  {
    name: 'nesterov momentum update',
    backends: GPU,
    run: () => optimizerError(new FusedMomentum(0.05, 0.9, true), tf.train.momentum(0.05, 0.9, true), 'nesterov'),
  },
  { name: 'dropout mask', backends: GPU, run: dropoutError },
  { name: 'batch input rgb', backends: ['webgpu'], run: () => batchInputError('rgb') },
  { name: 'batch input gray', backends: ['webgpu'], run: () => batchInputError('gray') },
  { name: 'cross-entropy', backends: GPU, run: crossEntropyError },
  { name: 'tiny training step', backends: GPU, run: tinyStepError },
];
