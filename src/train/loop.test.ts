import * as tf from '@tensorflow/tfjs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { PIXELS_PER_IMAGE } from '../data/format';
import { mulberry32 } from '../data/random';
import { AppError, SettingsError } from '../errors';
import { buildModel } from '../model/model';
import { crossEntropy, evaluate, trainModel, type BatchMetrics, type EpochRecord, type SplitData, type TrainOptions } from './loop';
import { registerTrainingKernels, unregisterTrainingKernels } from './kernels';
import { DEFAULT_SETTINGS, type Settings } from './settings';

// tfjs-backend-cpu's own Conv2DBackpropFilter takes ~0.6 s of each ~0.7 s
// step of the tiny net; ours (checked against it in kernels/) keeps these tests quick.
beforeAll(async () => {
  await tf.setBackend('cpu');
  registerTrainingKernels('cpu');
});

afterAll(() => unregisterTrainingKernels('cpu'));

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

/** Ten easily told apart square colours, one per class. */
const PALETTE = [
  [255, 0, 0],
  [0, 255, 0],
  [0, 0, 255],
  [255, 255, 0],
  [255, 0, 255],
  [0, 255, 255],
  [255, 255, 255],
  [255, 128, 0],
  [128, 0, 255],
  [0, 128, 128],
];

/**
 * A learnable toy task: dim noise with a bright 12×12 square in the middle
 * whose colour is the class. Colour survives flips and 4-pixel shifts, so the
 * task stays learnable with augmentation on. `labelOf` lets a test mislabel.
 */
function toyData(n: number, seed: number, labelOf = (cls: number) => cls): SplitData {
  const random = mulberry32(seed);
  const pixels = new Uint8Array(n * PIXELS_PER_IMAGE);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const cls = i % 10;
    labels[i] = labelOf(cls);
    const base = i * PIXELS_PER_IMAGE;
    for (let j = 0; j < PIXELS_PER_IMAGE; j++) pixels[base + j] = Math.floor(random() * 80);
    for (let y = 10; y < 22; y++) for (let x = 10; x < 22; x++) pixels.set(PALETTE[cls] as number[], base + (y * 32 + x) * 3);
  }
  return { pixels, labels, indices: Uint32Array.from({ length: n }, (_, i) => i) };
}

const EMPTY: SplitData = { pixels: new Uint8Array(0), labels: new Uint8Array(0), indices: new Uint32Array(0) };
const STATS = { mean: [60, 60, 60], std: [70, 70, 70] } as const;
const TOY_SETTINGS: Settings = { ...DEFAULT_SETTINGS, preset: 'tiny', epochs: 3, batchSize: 8, learningRate: 0.003, patience: 3 };

function options(overrides: Partial<Omit<TrainOptions, 'settings'>> & { settings?: Partial<Settings> }): TrainOptions {
  const settings = { ...TOY_SETTINGS, ...overrides.settings };
  return {
    model: overrides.model ?? buildModel({ preset: 'tiny', color: settings.color, seed: settings.seed }),
    data: { train: toyData(96, 1), val: toyData(20, 2), test: toyData(20, 3) },
    stats: STATS,
    readEvery: 2,
    ...overrides,
    settings,
  };
}

describe('trainModel', () => {
  it('learns the toy task, reports as promised and keeps tensor counts flat', async () => {
    const memoryAtEpochEnd: number[] = [];
    const metrics: BatchMetrics[] = [];
    const records: EpochRecord[] = [];
    const opts = options({
      readEvery: 4,
      hooks: {
        onBatchMetrics: (m) => metrics.push(m),
        onEpochEnd: (r) => {
          records.push(r);
          memoryAtEpochEnd.push(tf.memory().numTensors);
        },
      },
    });
    const before = tf.memory().numTensors;
    const result = await trainModel(opts);

    // Ownership: nothing accumulates per epoch, and nothing is left behind.
    expect(memoryAtEpochEnd).toHaveLength(3);
    expect(memoryAtEpochEnd[2]).toBe(memoryAtEpochEnd[0]);
    expect(tf.memory().numTensors).toBe(before);

    // 96 images / 8 = 12 steps per epoch, read every 4 steps.
    expect(result.steps).toBe(36);
    expect(metrics.map((m) => [m.epoch, m.batchInEpoch, m.step])).toEqual([
      [1, 4, 4],
      [1, 8, 8],
      [1, 12, 12],
      [2, 4, 16],
      [2, 8, 20],
      [2, 12, 24],
      [3, 4, 28],
      [3, 8, 32],
      [3, 12, 36],
    ]);
    for (const m of metrics) {
      expect(m.batchesPerEpoch).toBe(12);
      expect(m.imagesPerSecond).toBeGreaterThan(0);
      expect(Number.isFinite(m.imagesPerSecond)).toBe(true);
    }

    // Learning: loss down, accuracy far above the 10 % of guessing.
    expect(records).toEqual(result.epochs);
    const [first, , last] = result.epochs as [EpochRecord, EpochRecord, EpochRecord];
    expect(last.trainLoss).toBeLessThan(first.trainLoss);
    expect(last.valLoss).toBeLessThan(first.valLoss as number);
    expect(last.trainAccuracy).toBeGreaterThan(0.5);
    expect(result.test?.accuracy).toBeGreaterThan(0.5);
    expect(result.epochs.map((r) => r.epoch)).toEqual([1, 2, 3]);
    for (const r of result.epochs) {
      expect(r.seconds).toBeGreaterThan(0);
      expect(r.imagesPerSecond).toBeGreaterThan(0);
    }
    expect(result.stopReason).toBe('completed');

    // The test report.
    const test = result.test;
    expect(test?.count).toBe(20);
    expect(test?.confusion.flat().reduce((a, b) => a + b)).toBe(20);
    expect(test?.samples).toHaveLength(16);
    expect(test?.samples[3]).toMatchObject({ index: 3, label: 3 });
    expect(test?.samples[0]?.probs.reduce((a, b) => a + b)).toBeCloseTo(1, 4);
    opts.model.dispose();
  });

  it('stops early when validation gets worse and restores the best weights', async () => {
    // Validation labels are shifted by one class, so the better the model
    // learns the training task, the worse its validation loss.
    const opts = options({
      settings: { epochs: 6, patience: 1, batchSize: 16 },
      data: { train: toyData(48, 1), val: toyData(20, 2, (c) => (c + 1) % 10), test: EMPTY },
    });
    const result = await trainModel(opts);
    expect(result.stopReason).toBe('early-stopping');
    const stoppedAt = result.epochs.length;
    expect(stoppedAt).toBeLessThan(6);
    expect(result.bestEpoch).toBe(stoppedAt - 1);
    expect(result.epochs.map((r) => r.best)).toEqual([...new Array(stoppedAt - 1).fill(true), false]);
    expect(result.restoredBestWeights).toBe(true);
    expect(result.test).toBeNull();
    const now = await evaluate(opts.model, opts.data.val, { color: 'rgb', stats: STATS });
    const best = result.epochs[stoppedAt - 2] as EpochRecord;
    expect(now.loss).toBeCloseTo(best.valLoss as number, 5);
    expect(now.loss).not.toBeCloseTo(result.epochs[stoppedAt - 1]?.valLoss as number, 3);
    opts.model.dispose();
  });

  it('gives the same run for the same seed and another for another seed', async () => {
    const run = async (seed: number) => {
      const opts = options({ settings: { epochs: 1, seed }, data: { train: toyData(24, 1), val: EMPTY, test: EMPTY } });
      const losses: number[] = [];
      await trainModel({ ...opts, readEvery: 1, hooks: { onBatchMetrics: (m) => losses.push(m.loss) } });
      opts.model.dispose();
      return losses;
    };
    const a = await run(5);
    expect(a).toHaveLength(3);
    expect(await run(5)).toEqual(a);
    expect(await run(6)).not.toEqual(a);
  });

  it('pauses and stops between steps when the hooks say so', async () => {
    let checks = 0;
    let waits = 0;
    const opts = options({
      data: { train: toyData(96, 1), val: toyData(20, 2), test: toyData(20, 3) },
      hooks: {
        waitWhilePaused: async () => {
          waits++;
          await new Promise((resolve) => setTimeout(resolve, 1));
        },
        shouldStop: () => ++checks > 4,
      },
    });
    const before = tf.memory().numTensors;
    const result = await trainModel(opts);
    expect(result.stopReason).toBe('user');
    expect(result.steps).toBe(4);
    expect(waits).toBe(5);
    expect(result.epochs).toHaveLength(0);
    expect(result.test?.count).toBe(20);
    expect(tf.memory().numTensors).toBe(before);
    opts.model.dispose();
  });

  it('yields to the event loop between steps, so a stop message sent meanwhile is seen', async () => {
    let stop = false;
    setTimeout(() => {
      stop = true;
    }, 0);
    const opts = options({
      settings: { epochs: 3 },
      data: { train: toyData(32, 1), val: EMPTY, test: EMPTY },
      hooks: { shouldStop: () => stop },
    });
    const result = await trainModel(opts);
    expect(result.stopReason).toBe('user');
    expect(result.steps).toBeLessThanOrEqual(3); // of 12
    opts.model.dispose();
  });

  it('yields through a MessageChannel where there is no setImmediate (browsers)', async () => {
    let channels = 0;
    class CountingChannel extends MessageChannel {
      constructor() {
        super();
        channels++;
      }
    }
    vi.stubGlobal('setImmediate', undefined);
    vi.stubGlobal('MessageChannel', CountingChannel);
    const opts = options({ settings: { epochs: 1 }, data: { train: toyData(16, 1), val: EMPTY, test: EMPTY } });
    const result = await trainModel(opts);
    expect(result.steps).toBe(2);
    expect(channels).toBe(1);
    opts.model.dispose();
  });

  it('uses SGD with momentum 0.9 when asked, in training mode (BatchNorm statistics move)', async () => {
    const momentum = vi.spyOn(tf.train, 'momentum');
    const opts = options({
      settings: { epochs: 1, optimizer: 'sgd', learningRate: 0.05 },
      data: { train: toyData(32, 1), val: EMPTY, test: EMPTY },
    });
    const result = await trainModel(opts);
    expect(momentum).toHaveBeenCalledWith(0.05, 0.9);
    expect(Number.isFinite(result.epochs[0]?.trainLoss)).toBe(true);
    // Training mode: BatchNorm's running mean moved away from its initial zeros.
    const movingMean = opts.model.weights.find((w) => w.name.startsWith('bn1/moving_mean'));
    expect(
      movingMean
        ?.read()
        .dataSync()
        .some((v) => v !== 0),
    ).toBe(true);
    opts.model.dispose();
  });

  it('skips validation and early stopping without a validation set', async () => {
    const opts = options({ settings: { epochs: 1 }, data: { train: toyData(32, 1), val: EMPTY, test: EMPTY } });
    const result = await trainModel(opts);
    expect(result.epochs[0]).toMatchObject({ valLoss: null, valAccuracy: null, best: false });
    expect(result.bestEpoch).toBeNull();
    expect(result.restoredBestWeights).toBe(false);
    opts.model.dispose();
  });

  it('fails with training-failed when the loss is not finite, and cleans up', async () => {
    const opts = options({ settings: { epochs: 1 }, stats: { mean: [Number.NaN, 0, 0], std: [1, 1, 1] } });
    const before = tf.memory().numTensors;
    const failure = trainModel(opts);
    await expect(failure).rejects.toBeInstanceOf(AppError);
    await expect(failure).rejects.toMatchObject({ code: 'training-failed' });
    expect(tf.memory().numTensors).toBe(before);
    opts.model.dispose();
  });

  it('refuses a batch larger than the training set and a model of the wrong colour', async () => {
    const small = options({ settings: { batchSize: 64 }, data: { train: toyData(32, 1), val: EMPTY, test: EMPTY } });
    await expect(trainModel(small)).rejects.toBeInstanceOf(SettingsError);
    small.model.dispose();
    const gray = buildModel({ preset: 'tiny', color: 'gray', seed: 1 });
    await expect(trainModel(options({ model: gray }))).rejects.toThrow(RangeError);
    gray.dispose();
  });
});

describe('evaluate', () => {
  it('matches a direct computation, ignoring the padded rows of the last batch', async () => {
    const model = buildModel({ preset: 'tiny', color: 'rgb', seed: 3 });
    const split = toyData(10, 4);
    // Batches of 4: 4 + 4 + 2 real rows, the last padded with 2 zero images.
    const result = await evaluate(model, split, { color: 'rgb', stats: STATS, batchSize: 4, sampleCount: 3, misclassifiedLimit: 2 });

    const probs = tf.tidy(() => {
      const x = tf.tensor4d(Float32Array.from(split.pixels), [10, 32, 32, 3]);
      const normalized = tf.div(tf.sub(x, tf.tensor1d([...STATS.mean])), tf.tensor1d([...STATS.std]));
      return (model.predict(normalized) as tf.Tensor2D).arraySync();
    });
    const predicted = probs.map((p) => p.indexOf(Math.max(...p)));
    const labels = Array.from(split.labels);
    const loss = labels.reduce((sum, label, i) => sum - Math.log(Math.max(1e-7, probs[i]?.[label] as number)), 0) / 10;
    expect(result.count).toBe(10);
    expect(result.loss).toBeCloseTo(loss, 5);
    expect(result.accuracy).toBeCloseTo(predicted.filter((p, i) => p === labels[i]).length / 10, 10);
    expect(result.confusion.map((row) => row.reduce((a, b) => a + b))).toEqual(new Array(10).fill(1));
    labels.forEach((label, i) => expect(result.confusion[label]?.[predicted[i] as number]).toBe(1));
    expect(result.samples.map((s) => [s.index, s.label, s.predicted])).toEqual([0, 1, 2].map((i) => [i, labels[i], predicted[i]]));
    const wrong = labels.flatMap((label, i) => (predicted[i] === label ? [] : [{ index: i, label, predicted: predicted[i] }]));
    expect(result.misclassified).toEqual(wrong.slice(0, 2));
    result.perClass.forEach((acc, c) => expect(acc).toBe(predicted[c] === c ? 1 : 0));
    model.dispose();
  });

  it('refuses an empty split', async () => {
    const model = buildModel({ preset: 'tiny', color: 'rgb', seed: 1 });
    await expect(evaluate(model, EMPTY, { color: 'rgb', stats: STATS })).rejects.toThrow(RangeError);
    model.dispose();
  });
});

describe('crossEntropy', () => {
  it('is the mean −ln p(label), clipped at 1e-7', async () => {
    const probs = tf.tensor2d([
      [0.5, 0.25, 0.25],
      [0, 1, 0],
    ]);
    const loss = await crossEntropy(probs, tf.tensor1d([1, 0], 'int32')).data();
    expect(loss[0]).toBeCloseTo((-Math.log(0.25) - Math.log(1e-7)) / 2, 4);
  });
});
