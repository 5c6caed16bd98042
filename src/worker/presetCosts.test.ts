import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock';
import { registerTrainingKernels } from '../kernels';
import { TOY_STATS, toyData } from '../train/toyData';
import { MAX_MEASURE_STEPS, MEASURE_BUDGET_MS, measureStepCost } from './presetCosts';

beforeAll(async () => {
  await tf.setBackend('cpu');
  registerTrainingKernels('cpu');
});

const data = {
  train: toyData(16, 1),
  manifest: { classes: Array.from({ length: 10 }, (_, c) => `class ${c}`), mean: [...TOY_STATS.mean], std: [...TOY_STATS.std] },
} as unknown as Parameters<typeof measureStepCost>[2];

describe('measureStepCost', () => {
  it('times steps after the first until the budget is spent, and leaks no tensors', async () => {
    const before = tf.memory().numTensors;
    // Every look at the clock moves it 100 ms on: each step "takes" 100 ms.
    const cost = await measureStepCost('tiny', 8, data, { clock: new ManualClock(100) });
    expect(cost.timedSteps).toBe(MEASURE_BUDGET_MS / 100);
    expect(cost.imagesPerSecond).toBeCloseTo(8 / 0.1);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('stops at MAX_MEASURE_STEPS on a fast device', async () => {
    const cost = await measureStepCost('tiny', 8, data, { clock: new ManualClock(1) });
    expect(cost.timedSteps).toBe(MAX_MEASURE_STEPS);
  });

  it('times one step after the first even when each takes longer than the budget', async () => {
    const cost = await measureStepCost('tiny', 8, data, { clock: new ManualClock(MEASURE_BUDGET_MS) });
    expect(cost).toEqual({ imagesPerSecond: 8 / (MEASURE_BUDGET_MS / 1000), batchSize: 8, timedSteps: 1 });
  });

  it('gives way at once to a run the user started, with the first step as a rough estimate', async () => {
    const cost = await measureStepCost('tiny', 8, data, { clock: new ManualClock(10), shouldStop: () => true });
    expect(cost.timedSteps).toBe(0);
    expect(cost.imagesPerSecond).toBeGreaterThan(0);
  });
});
