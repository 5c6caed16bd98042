// The `fast` preset end to end through trainModel on the cpu backend: a few
// steps on a toy task, with the recipe's pieces checked one by one.
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { FAST_RECIPE } from '../model/config';
import { WHITEN_LAYER, buildModel } from '../model/model';
import { registerTrainingKernels } from '../kernels';
import { ManualClock } from '../clock';
import { RunControl } from './control';
import { evaluate } from './evaluate';
import { FusedAdam, FusedMomentum } from './fusedOptimizers';
import { trainModel } from './loop';
import type { BatchMetrics } from '../run/records';
import { warmupDecayRate } from './schedule';
import { DEFAULT_SETTINGS, type Settings } from '../run/settings';
import { EMPTY, TOY_STATS, toyData } from './toyData';

beforeAll(async () => {
  await tf.setBackend('cpu');
  // The stock cpu weight gradient takes ~20 s per step of this 2M-weight net; ours ~1.5 s.
  registerTrainingKernels('cpu');
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** Red, green and blue squares: learnable in a few steps. */
const rgbToy = (n: number, seed: number) => toyData(n, seed, { classes: 3 });

describe('trainModel with the fast preset', () => {
  // ~30 s on two cores: six steps of a 2M-weight net on the cpu backend.
  it('whitens, trains with its own recipe and lowers the loss', { timeout: 180_000 }, async () => {
    // The rate of each step as the optimizer sees it when it steps.
    const rates: number[] = [];
    const step = FusedMomentum.prototype.applyGradients;
    const momentum = vi.spyOn(FusedMomentum.prototype, 'applyGradients').mockImplementation(function (this: FusedMomentum, gradients) {
      rates.push(this.getConfig().learningRate as number);
      step.call(this, gradients);
    });
    const adam = vi.spyOn(FusedAdam.prototype, 'applyGradients');
    // 12 images, batch 4: 3 steps per epoch, 2 epochs.
    const settings: Settings = {
      ...DEFAULT_SETTINGS,
      preset: 'fast',
      recipe: 'tuned',
      epochs: 2,
      batchSize: 4,
      learningRate: 0.5,
      optimizer: 'adam',
      patience: 0,
    };
    const model = buildModel({ preset: 'fast', color: 'rgb', seed: 1 });
    const placeholder = Array.from(model.getLayer(WHITEN_LAYER).getWeights()[0]?.dataSync() ?? []);
    const metrics: BatchMetrics[] = [];
    const before = tf.memory().numTensors;
    const result = await trainModel({
      model,
      settings,
      data: { train: rgbToy(12, 1), val: EMPTY, test: rgbToy(6, 2) },
      stats: TOY_STATS,
      readEvery: 1,
      sink: (event) => {
        if (event.type === 'metrics') metrics.push(event.metrics);
      },
      control: new RunControl(new ManualClock(1)),
    });

    // The recipe, not the user's Adam at 0.5: Nesterov SGD starting at the schedule's first rate.
    expect(adam).not.toHaveBeenCalled();
    expect((momentum.mock.contexts[0] as FusedMomentum | undefined)?.getConfig()).toMatchObject({
      momentum: 0.9,
      useNesterov: true,
    });
    expect(rates[0]).toBe(warmupDecayRate(0, 6, FAST_RECIPE.schedule));
    // The whitening replaced the placeholder filters.
    const whitening = Array.from(model.getLayer(WHITEN_LAYER).getWeights()[0]?.dataSync() ?? []);
    expect(whitening).not.toEqual(placeholder);

    expect(result.steps).toBe(6);
    expect(metrics.map((m) => m.step)).toEqual([1, 2, 3, 4, 5, 6]);
    for (const m of metrics) expect(Number.isFinite(m.loss)).toBe(true);
    const [first, second] = result.epochs;
    expect(second?.trainLoss).toBeLessThan(first?.trainLoss as number);
    expect(result.test?.count).toBe(6);
    expect(tf.memory().numTensors).toBe(before);
    // The test report used flip test-time augmentation.
    const test = rgbToy(6, 2);
    const withFlip = await evaluate(model, test, { color: 'rgb', stats: TOY_STATS, flipTestTime: true });
    const withoutFlip = await evaluate(model, test, { color: 'rgb', stats: TOY_STATS });
    expect(result.test?.loss).toBeCloseTo(withFlip.loss, 5);
    expect(result.test?.loss).not.toBeCloseTo(withoutFlip.loss, 5);
    model.dispose();
  });
});
