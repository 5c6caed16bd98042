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
    run: async () => (await (comparison ??= compareBnAct(c)))[q],
  }));
}

export const FUSED_CHECKS: FusedCheck[] = [
  ...bnActChecks('batchnorm+elu', bnActCase('elu', 100)),
  ...bnActChecks('batchnorm+relu', bnActCase('relu', 101)),
  ...bnActChecks('batchnorm+linear', bnActCase('linear', 102)),
  // More rows per channel (1,615) than threads per reducing workgroup (128), not a multiple of them.
  ...bnActChecks('batchnorm+elu 5×17×19×12', bnActCase('elu', 103, [5, 17, 19, 12])),
];

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
