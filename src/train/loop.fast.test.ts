// The `fast` preset end to end through trainModel on the cpu backend: a few
// steps on a toy task, with the recipe's pieces checked one by one.
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { PIXELS_PER_IMAGE } from '../data/format';
import { mulberry32 } from '../data/random';
import { FAST_RECIPE } from '../model/config';
import { WHITEN_LAYER, buildModel } from '../model/model';
import { registerTrainingKernels } from './kernels';
import { crossEntropy, evaluate, trainModel, type BatchMetrics, type SplitData } from './loop';
import { warmupDecayRate } from './schedule';
import { DEFAULT_SETTINGS, type Settings } from './settings';

beforeAll(async () => {
  await tf.setBackend('cpu');
  // The stock cpu weight gradient takes ~20 s per step of this 2M-weight net; ours ~1.5 s.
  registerTrainingKernels('cpu');
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** Dim noise with a bright square whose colour (red, green or blue) is the class: learnable in a few steps. */
function toyData(n: number, seed: number): SplitData {
  const random = mulberry32(seed);
  const pixels = new Uint8Array(n * PIXELS_PER_IMAGE);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const cls = i % 3;
    labels[i] = cls;
    for (let j = 0; j < PIXELS_PER_IMAGE; j++) pixels[i * PIXELS_PER_IMAGE + j] = Math.floor(random() * 60);
    for (let y = 8; y < 24; y++) for (let x = 8; x < 24; x++) pixels[i * PIXELS_PER_IMAGE + (y * 32 + x) * 3 + cls] = 255;
  }
  return { pixels, labels, indices: Uint32Array.from({ length: n }, (_, i) => i) };
}

const EMPTY: SplitData = { pixels: new Uint8Array(0), labels: new Uint8Array(0), indices: new Uint32Array(0) };
const STATS = { mean: [40, 40, 40], std: [60, 60, 60] } as const;

describe('trainModel with the fast preset', () => {
  // ~30 s on two cores: six steps of a 2M-weight net on the cpu backend.
  it('whitens, trains with its own recipe and lowers the loss', { timeout: 180_000 }, async () => {
    const momentum = vi.spyOn(tf.train, 'momentum');
    const adam = vi.spyOn(tf.train, 'adam');
    // 12 images, batch 4: 3 steps per epoch, 2 epochs.
    const settings: Settings = {
      ...DEFAULT_SETTINGS,
      preset: 'fast',
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
      data: { train: toyData(12, 1), val: EMPTY, test: toyData(6, 2) },
      stats: STATS,
      readEvery: 1,
      hooks: { onBatchMetrics: (m) => metrics.push(m) },
    });

    // The recipe, not the user's Adam at 0.5: Nesterov SGD starting at the schedule's first rate.
    expect(adam).not.toHaveBeenCalled();
    expect(momentum).toHaveBeenCalledWith(warmupDecayRate(0, 6, FAST_RECIPE.schedule), FAST_RECIPE.momentum, true);
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
    const test = toyData(6, 2);
    const withFlip = await evaluate(model, test, { color: 'rgb', stats: STATS, flipTestTime: true });
    const withoutFlip = await evaluate(model, test, { color: 'rgb', stats: STATS });
    expect(result.test?.loss).toBeCloseTo(withFlip.loss, 5);
    expect(result.test?.loss).not.toBeCloseTo(withoutFlip.loss, 5);
    model.dispose();
  });
});

describe('evaluate with flip test-time augmentation', () => {
  it('averages the probabilities of each image and its mirror image', async () => {
    const model = buildModel({ preset: 'tiny', color: 'rgb', seed: 4 });
    const split = toyData(5, 3);
    const result = await evaluate(model, split, { color: 'rgb', stats: STATS, flipTestTime: true, sampleCount: 5 });
    const expected = tf.tidy(() => {
      const x = tf.div(
        tf.sub(tf.tensor4d(Float32Array.from(split.pixels), [5, 32, 32, 3]), tf.tensor1d([...STATS.mean])),
        tf.tensor1d([...STATS.std]),
      ) as tf.Tensor4D;
      const p = tf.div(tf.add(model.predict(x) as tf.Tensor, model.predict(tf.reverse(x, 2)) as tf.Tensor), 2);
      return p.arraySync() as number[][];
    });
    result.samples.forEach((sample, i) => sample.probs.forEach((p, c) => expect(p).toBeCloseTo(expected[i]?.[c] as number, 5)));
    model.dispose();
  });
});

describe('crossEntropy with label smoothing', () => {
  it('targets 1 − ε + ε/K on the label and ε/K elsewhere', async () => {
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
