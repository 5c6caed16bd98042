/**
 * Our fused ops against their unfused TensorFlow.js references on the job's
 * backend (the bench page's `fused` job; e2e/bench.spec.ts asserts every
 * error < 1e-4 on WebGPU and WebGL). Each check runs on the backends where it
 * exercises a kernel of ours; every reference runs on TensorFlow.js's stock
 * kernels (onStockKernels), ours unregistered meanwhile. An entry is a name
 * and a function returning a relative error, mostly max|ours − reference| /
 * max|reference| (the optimizers value by value, the training step weight by
 * weight: step-checks.ts): adding a check is one line in fusedChecks().
 */
import * as tf from '@tensorflow/tfjs';
import { bnActFixture, compareBnAct, type BnActCase, type BnActQuantity } from '../kernels/batchnorm/check';
import { relativeError } from '../kernels/testing';
import type { BnActivation } from '../kernels/batchnorm/fused';
import { applyForTraining } from '../train/forward';
import { buildModel } from '../model/model';
import { onStockKernels } from './backend';
import { STEP_CHECKS, type StepCheck } from './step-checks';

/** A name, the backends it runs on, and its relative error. */
export type FusedCheck = StepCheck;

/** Odd sizes, a constant channel (variance 0); γ frozen for ReLU as in the fast preset. */
const bnActCase = (activation: BnActivation, seed: number, shape = [3, 5, 7, 6]): BnActCase => ({
  shape,
  activation,
  frozenGamma: activation === 'relu',
  constantChannel: 2,
  seed,
});

/** One comparison per case, shared by its quantities' entries (each computed on first use). */
function bnActChecks(label: string, c: BnActCase): FusedCheck[] {
  const quantities: BnActQuantity[] = ['forward', 'movingMean', 'movingVariance', 'dx', 'dBeta'];
  // A frozen γ gets no gradient: nothing to compare.
  if (!c.frozenGamma) quantities.push('dGamma');
  let comparison: ReturnType<typeof compareBnAct> | undefined;
  return quantities.map((q) => ({
    name: `${label} ${q}`,
    backends: ['webgpu'],
    run: async () => (await (comparison ??= compareBnAct(c, onStockKernels)))[q],
  }));
}

/**
 * The tiny preset (conv → BatchNorm → ELU blocks, no dropout) through
 * applyForTraining, fused wherever the backend allows, with our kernels,
 * against tfjs-layers' own training-mode apply on the stock kernels: every
 * weight gradient, and the running averages.
 * A conv bias just before BatchNorm has gradient 0 in exact arithmetic, so
 * errors are measured against at least 1 % of the largest gradient.
 */
async function tinyModelErrors(): Promise<{ grads: number; moving: number }> {
  const x = tf.randomNormal([4, 32, 32, 3], 0.5, 2, 'float32', 7);
  const y = tf.randomNormal([4, 10], 0, 1, 'float32', 8);
  const pass = async (forward: (m: tf.LayersModel) => tf.Tensor) => {
    const model = buildModel({ preset: 'tiny', color: 'rgb', seed: 3 });
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(forward(model), y)) as tf.Scalar, vars);
    const g = await Promise.all(vars.map((v) => (grads[v.name] as tf.Tensor).data()));
    const moving = await Promise.all(model.weights.filter((w) => w.originalName.includes('/moving_')).map((w) => w.read().data()));
    tf.dispose([value, ...Object.values(grads)]);
    model.dispose();
    return { g, moving };
  };
  const ours = await pass((m) => applyForTraining(m, x));
  const stock = await onStockKernels(() => pass((m) => m.apply(x, { training: true }) as tf.Tensor));
  tf.dispose([x, y]);
  const maxAbs = (v: ArrayLike<number>) => {
    let m = 0;
    for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i] as number));
    return m;
  };
  const floor = 0.01 * Math.max(...stock.g.map(maxAbs));
  /** Largest over tensors of max|a − b| / max(max|b|, minScale). */
  const worst = (a: ArrayLike<number>[], b: ArrayLike<number>[], minScale: number) =>
    Math.max(
      ...a.map((v, i) => {
        const want = b[i] as ArrayLike<number>;
        const scale = Math.max(maxAbs(want), 1e-30);
        return (relativeError(v, want) * scale) / Math.max(scale, minScale);
      }),
    );
  return { grads: worst(ours.g, stock.g, floor), moving: worst(ours.moving, stock.moving, 0) };
}
/**
 * Every check, with fresh closures: a check that shares one computation
 * between its entries (a BatchNorm case's quantities, the tiny model's two)
 * computes it again in each list, so running two lists runs the kernels twice.
 */
export function fusedChecks(): FusedCheck[] {
  let tiny: ReturnType<typeof tinyModelErrors> | undefined;
  return [
    { name: 'tiny model gradients', backends: ['webgpu', 'webgl'], run: async () => (await (tiny ??= tinyModelErrors())).grads },
    { name: 'tiny model running averages', backends: ['webgpu', 'webgl'], run: async () => (await (tiny ??= tinyModelErrors())).moving },
    ...bnActChecks('batchnorm+elu', bnActCase('elu', 100)),
    ...bnActChecks('batchnorm+relu', bnActCase('relu', 101)),
    ...bnActChecks('batchnorm+linear', bnActCase('linear', 102)),
    // More rows per channel (1,615) than threads per reducing workgroup (128), not a multiple of them.
    ...bnActChecks('batchnorm+elu 5×17×19×12', bnActCase('elu', 103, [5, 17, 19, 12])),
    // 4,259,840 values: more workgroups of 64 than a dispatch may have along x (65,535 by default),
    // so TensorFlow.js spreads the elementwise passes over x and y, and the kernels must find their index
    // from both. ELU, not ReLU: among millions of values some pre-activation lies within rounding of 0,
    // where ReLU's derivative jumps and float32 sides may disagree on one element (seen under wgpu).
    // No constant channel: over 65,536 rows the stock side's dx for it is 7e-4 from a float64 reference, ours 2e-5.
    ...bnActChecks('batchnorm+elu 16×64×64×65', { shape: [16, 64, 64, 65], activation: 'elu', frozenGamma: false, seed: 104 }),
    ...STEP_CHECKS,
  ];
}

/**
 * Dispatches of one fused BatchNorm + ELU forward and backward (running
 * averages included) of one layer, counted by `dispatches` (a reader of the
 * running total), after an untimed pass that compiles the shaders.
 */
export async function bnActDispatches(dispatches: () => number): Promise<number> {
  const fixture = bnActFixture({ shape: [4, 8, 8, 16], activation: 'elu', frozenGamma: false, seed: 7 });
  const pass = async () => {
    const p = fixture.pass(true);
    await Promise.all(p.grads.map((g) => g.data()));
    tf.dispose([p.y, ...p.grads]);
  };
  try {
    await pass();
    const before = dispatches();
    const p = fixture.pass(true);
    const count = dispatches() - before;
    await Promise.all(p.grads.map((g) => g.data()));
    tf.dispose([p.y, ...p.grads]);
    return count;
  } finally {
    fixture.dispose();
  }
}
