import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { createOptimizer, crossEntropy } from './step';
import { warmupDecayRate } from './schedule';

// wasm too: its OneHot once turned the smoothed target into zeros.
describe.each(['cpu', 'wasm'])('crossEntropy on %s', (backend) => {
  beforeAll(async () => {
    await tf.setBackend(backend);
  });

  it('is the mean −ln p(label), clipped at 1e-7', async () => {
    const probs = tf.tensor2d([
      [0.5, 0.25, 0.25],
      [0, 1, 0],
    ]);
    const loss = await crossEntropy(probs, tf.tensor1d([1, 0], 'int32')).data();
    expect(loss[0]).toBeCloseTo((-Math.log(0.25) - Math.log(1e-7)) / 2, 4);
  });

  it('with label smoothing targets 1 − ε + ε/K on the label and ε/K elsewhere', async () => {
    const probs = tf.tensor2d([[0.7, 0.2, 0.1]]);
    const labels = tf.tensor1d([0], 'int32');
    const eps = 0.3;
    const expected = -((1 - eps + eps / 3) * Math.log(0.7) + (eps / 3) * Math.log(0.2) + (eps / 3) * Math.log(0.1));
    expect((await crossEntropy(probs, labels, eps).data())[0]).toBeCloseTo(expected, 5);
    expect((await crossEntropy(probs, labels, 0).data())[0]).toBeCloseTo(-Math.log(0.7), 5);
    expect(() => crossEntropy(probs, labels, 1)).toThrow(RangeError);
    tf.dispose([probs, labels]);
  });
});

describe('createOptimizer', () => {
  const schedule = { kind: 'warmup-decay', peak: 0.01, warmupFraction: 0.2, startFactor: 0.1, endFactor: 0 } as const;
  const rateOf = (o: tf.Optimizer) => (o as unknown as { learningRate: number }).learningRate;

  it.each([
    ['Adam', { kind: 'adam', beta1: 0.9, beta2: 0.999 }],
    ['Nesterov SGD', { kind: 'momentum', momentum: 0.9, nesterov: true }],
  ] as const)('moves %s along a warm-up and decay schedule, step by step', (_, optimizer) => {
    const scheduled = createOptimizer({ optimizer, schedule }, 11);
    expect(rateOf(scheduled.optimizer)).toBeCloseTo(warmupDecayRate(0, 11, schedule), 12);
    scheduled.setStep(2);
    expect(rateOf(scheduled.optimizer)).toBeCloseTo(warmupDecayRate(2, 11, schedule), 12);
    scheduled.setStep(7);
    expect(rateOf(scheduled.optimizer)).toBeCloseTo(warmupDecayRate(7, 11, schedule), 12);
    expect(warmupDecayRate(7, 11, schedule)).not.toBeCloseTo(warmupDecayRate(2, 11, schedule), 6);
    scheduled.dispose();
  });

  it('keeps a constant rate constant', () => {
    const constant = createOptimizer(
      { optimizer: { kind: 'adam', beta1: 0.9, beta2: 0.999 }, schedule: { kind: 'constant', rate: 0.003 } },
      11,
    );
    constant.setStep(5);
    expect(rateOf(constant.optimizer)).toBe(0.003);
    constant.dispose();
  });
});
