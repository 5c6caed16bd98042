/**
 * Our fused ops against their unfused TensorFlow.js references on the job's
 * backend (the bench page's `fused` job; e2e/bench.spec.ts asserts every
 * error < 1e-4 on WebGPU). An entry is a name and a function returning
 * max|ours − reference| / max|reference|: adding a check is one line in
 * FUSED_CHECKS.
 */
import * as tf from '@tensorflow/tfjs';
import { bnActFixture, compareBnAct, type BnActCase, type BnActQuantity } from '../train/kernels/bn-act-check';
import type { BnActivation } from '../train/kernels/bn-act';

export interface FusedCheck {
  name: string;
  run: () => Promise<number>;
}

/** Odd sizes, a constant channel (variance 0); γ frozen for ReLU as in the fast preset. */
const bnActCase = (activation: BnActivation, k: number): BnActCase => ({
  shape: [3, 5, 7, 6],
  activation,
  frozenGamma: activation === 'relu',
  constantChannel: 2,
  seed: 100 + k,
});

/** One comparison per activation, shared by its quantities' entries. */
const comparisons = new Map<BnActivation, ReturnType<typeof compareBnAct>>();
function bnActChecks(activation: BnActivation, k: number): FusedCheck[] {
  const quantities: BnActQuantity[] = ['forward', 'movingMean', 'movingVariance', 'dx', 'dBeta'];
  // A frozen γ gets no gradient: nothing to compare.
  if (!bnActCase(activation, k).frozenGamma) quantities.push('dGamma');
  return quantities.map((q) => ({
    name: `batchnorm+${activation} ${q}`,
    run: async () => {
      let comparison = comparisons.get(activation);
      if (comparison === undefined) comparisons.set(activation, (comparison = compareBnAct(bnActCase(activation, k))));
      return (await comparison)[q];
    },
  }));
}

export const FUSED_CHECKS: FusedCheck[] = [...bnActChecks('elu', 0), ...bnActChecks('relu', 1), ...bnActChecks('linear', 2)];

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
