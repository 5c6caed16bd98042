// The fused BatchNorm + activation op on the cpu backend (our plain-JS kernels,
// the same arithmetic as the WGSL ones) against the unfused closed form with
// tfjs's own activation and autodiff.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BN_ACT_QUANTITIES, bnActFixture, compareBnAct, type BnActCase } from './check';
import { BN_ACT_KERNELS, BN_STATS, type BnActivation } from './fused';
import { registerTrainingKernels, unregisterTrainingKernels } from '../register';

beforeAll(async () => {
  await tf.setBackend('cpu');
  registerTrainingKernels('cpu');
});
afterAll(() => unregisterTrainingKernels('cpu'));

const ACTIVATIONS: BnActivation[] = ['elu', 'relu', 'linear'];
const cases: [string, BnActCase][] = ACTIVATIONS.flatMap((activation, k) => [
  [
    `${activation}, [3, 5, 7, 6], channel 2 constant`,
    { shape: [3, 5, 7, 6], activation, frozenGamma: false, constantChannel: 2, seed: 10 + k },
  ],
  [`${activation}, [4, 3, 5], γ frozen`, { shape: [4, 3, 5], activation, frozenGamma: true, seed: 20 + k, epsilon: 1e-5, momentum: 0.6 }],
]);

describe('batchNormActTraining on cpu', () => {
  it('has its kernels on cpu once registered', () => {
    for (const k of BN_ACT_KERNELS) expect(tf.getKernel(k, 'cpu')).toBeDefined();
  });

  it.each(cases)('matches BatchNorm then the activation, unfused (max error / max value < 1e-4): %s', async (_name, c) => {
    const before = tf.memory().numTensors;
    const errors = await compareBnAct(c);
    for (const q of BN_ACT_QUANTITIES) {
      if (q === 'dGamma' && c.frozenGamma) continue;
      expect(errors[q], q).toBeLessThan(1e-4);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('gives the numbers of the formulas, not only the same as the closed form', async () => {
    // One channel, four values: μ = 2.5, σ² = 1.25, γ = 2, β = 0.5 (set below), ε = 0.
    const x = tf.tensor([1, 2, 3, 4], [4, 1]);
    const stats = tf.engine().runKernel(BN_STATS, { x }, {}) as tf.Tensor;
    expect(Array.from(await stats.data())).toEqual([2.5, 1.25]);
    const gamma = tf.tensor([2]);
    const beta = tf.tensor([0.5]);
    const y = tf
      .engine()
      .runKernel('CifarBnActForward', { x, stats, gamma, beta }, { epsilon: 0, activation: 'relu' } as never) as tf.Tensor;
    const s = 1 / Math.sqrt(1.25);
    const want = [1, 2, 3, 4].map((v) => Math.max(2 * (v - 2.5) * s + 0.5, 0));
    const got = Array.from(await y.data());
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i] as number, 6));
    expect(got[0]).toBe(0);
    tf.dispose([x, stats, gamma, beta, y]);
  });

  it('returns no γ gradient for a frozen γ and leaves γ alone', () => {
    const fixture = bnActFixture({ shape: [2, 3, 4], activation: 'elu', frozenGamma: true, seed: 5 });
    const p = fixture.pass(true);
    expect(p.grads.map((g) => g.shape)).toEqual([[2, 3, 4], [4]]);
    tf.dispose([p.y, ...p.grads]);
    fixture.dispose();
  });

  it('moves the running averages on every pass (so their check is not vacuous)', () => {
    const fixture = bnActFixture({ shape: [3, 4], activation: 'relu', frozenGamma: false, seed: 6 });
    const variance = () => {
      const p = fixture.pass(true);
      const v = Array.from(p.movingVariance.dataSync());
      tf.dispose([p.y, ...p.grads]);
      return v;
    };
    expect(variance()).not.toEqual(variance());
    fixture.dispose();
  });
});
