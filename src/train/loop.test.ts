import * as tf from '@tensorflow/tfjs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../clock';
import { AppError, SettingsError } from '../errors';
import { buildModel } from '../model/model';
import { RunControl } from './control';
import { evaluate } from './evaluate';
import { FusedMomentum } from './fusedOptimizers';
import { registerTrainingKernels, unregisterTrainingKernels } from '../kernels';
import { trainModel, type TrainEvent, type TrainOptions } from './loop';
import type { BatchMetrics, EpochRecord } from '../run/records';
import { DEFAULT_SETTINGS, type Settings } from '../run/settings';
import { EMPTY, TOY_STATS, toyData } from './toyData';

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

const TOY_SETTINGS: Settings = { ...DEFAULT_SETTINGS, preset: 'tiny', epochs: 3, batchSize: 8, learningRate: 0.003, patience: 3 };

/**
 * The run's clock moves 1 ms at every look, whatever the machine is doing:
 * durations are never 0, and the time-based read (every 2 s) never fires
 * unless a test asks for it.
 */
const steadyControl = () => new RunControl(new ManualClock(1));

function options(overrides: Partial<Omit<TrainOptions, 'settings'>> & { settings?: Partial<Settings> }): TrainOptions {
  const settings = { ...TOY_SETTINGS, ...overrides.settings };
  return {
    model: overrides.model ?? buildModel({ preset: 'tiny', color: settings.color, seed: settings.seed }),
    data: { train: toyData(96, 1), val: toyData(20, 2), test: toyData(20, 3) },
    stats: TOY_STATS,
    readEvery: 2,
    control: steadyControl(),
    ...overrides,
    settings,
  };
}

/** A sink that keeps what it is told, by kind. */
function recorder() {
  const metrics: BatchMetrics[] = [];
  const records: EpochRecord[] = [];
  const events: TrainEvent['type'][] = [];
  const sink = (event: TrainEvent) => {
    events.push(event.type);
    if (event.type === 'metrics') metrics.push(event.metrics);
    if (event.type === 'epoch-end') records.push(event.record);
  };
  return { metrics, records, events, sink };
}

describe('trainModel', () => {
  it('learns the toy task, reports as promised and keeps tensor counts flat', async () => {
    const memoryAtEpochEnd: number[] = [];
    const { metrics, records, events, sink } = recorder();
    const opts = options({
      readEvery: 4,
      sink: (event) => {
        sink(event);
        if (event.type === 'epoch-end') memoryAtEpochEnd.push(tf.memory().numTensors);
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
    // The start, then each epoch: its three reads, its record, then its checkpoint.
    expect(events).toEqual([
      'start',
      ...Array.from({ length: 3 }, () => ['metrics', 'metrics', 'metrics', 'epoch-end', 'checkpoint']).flat(),
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
      // Time to accuracy: the images of every epoch so far (12 steps of the batch), and time that only grows.
      expect(r.images).toBe(r.epoch * 12 * opts.settings.batchSize);
    }
    const elapsed = result.epochs.map((r) => r.elapsedSeconds as number);
    expect(elapsed[0]).toBeGreaterThanOrEqual((result.epochs[0] as EpochRecord).seconds);
    expect(elapsed[1]).toBeGreaterThan(elapsed[0] as number);
    expect(elapsed[2]).toBeGreaterThan(elapsed[1] as number);
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

  it("learns a data set of 3 classes of the user's own on a network built for 3, and reports on those 3", async () => {
    const opts = options({
      model: buildModel({ preset: 'tiny', color: 'rgb', seed: 1, classes: 3 }),
      data: { train: toyData(96, 1, { classes: 3 }), val: toyData(21, 2, { classes: 3 }), test: toyData(21, 3, { classes: 3 }) },
    });
    const result = await trainModel(opts);
    const [first, , last] = result.epochs as [EpochRecord, EpochRecord, EpochRecord];
    expect(last.trainLoss).toBeLessThan(first.trainLoss);
    // Far above the third of guessing.
    expect(result.test?.accuracy).toBeGreaterThan(0.6);
    expect(result.test?.confusion.map((row) => row.length)).toEqual([3, 3, 3]);
    expect(result.test?.perClass).toHaveLength(3);
    expect(result.test?.samples[0]?.probs).toHaveLength(3);
    opts.model.dispose();
  });

  it('stops early when validation gets worse and restores the best weights', async () => {
    // Validation labels are shifted by one class, so the better the model
    // learns the training task, the worse its validation loss.
    const opts = options({
      settings: { epochs: 6, patience: 1, batchSize: 16 },
      data: { train: toyData(48, 1), val: toyData(20, 2, { labelOf: (c) => (c + 1) % 10 }), test: EMPTY },
    });
    const result = await trainModel(opts);
    expect(result.stopReason).toBe('early-stopping');
    const stoppedAt = result.epochs.length;
    expect(stoppedAt).toBeLessThan(6);
    expect(result.bestEpoch).toBe(stoppedAt - 1);
    expect(result.epochs.map((r) => r.best)).toEqual([...new Array(stoppedAt - 1).fill(true), false]);
    expect(result.restoredBestWeights).toBe(true);
    expect(result.test).toBeNull();
    const now = await evaluate(opts.model, opts.data.val, { color: 'rgb', stats: TOY_STATS });
    const best = result.epochs[stoppedAt - 2] as EpochRecord;
    expect(now.loss).toBeCloseTo(best.valLoss as number, 5);
    expect(now.loss).not.toBeCloseTo(result.epochs[stoppedAt - 1]?.valLoss as number, 3);
    opts.model.dispose();
  });

  it('gives the same run for the same seed and another for another seed', async () => {
    const run = async (seed: number) => {
      const opts = options({ settings: { epochs: 1, seed }, data: { train: toyData(24, 1), val: EMPTY, test: EMPTY } });
      const { metrics, sink } = recorder();
      await trainModel({ ...opts, readEvery: 1, sink });
      opts.model.dispose();
      return metrics.map((m) => m.loss);
    };
    const a = await run(5);
    expect(a).toHaveLength(3);
    expect(await run(5)).toEqual(a);
    expect(await run(6)).not.toEqual(a);
  });

  it('stops between steps when told to, still reading the steps done and evaluating on the test set', async () => {
    const control = steadyControl();
    const { metrics, sink } = recorder();
    const opts = options({
      control,
      sink: (event) => {
        sink(event);
        if (event.type === 'metrics') control.stop();
      },
    });
    const before = tf.memory().numTensors;
    const result = await trainModel(opts);
    expect(result.stopReason).toBe('user');
    expect(result.steps).toBe(2);
    expect(metrics.map((m) => m.step)).toEqual([2]);
    expect(result.epochs).toHaveLength(0);
    expect(result.test?.count).toBe(20);
    expect(tf.memory().numTensors).toBe(before);
    opts.model.dispose();
  });

  it('holds still while paused, and paused time does not count as training time', async () => {
    const clock = new ManualClock(1);
    const control = new RunControl(clock);
    const { metrics, records, sink } = recorder();
    let stepsWhilePaused = -1;
    const opts = options({
      settings: { epochs: 1 },
      data: { train: toyData(32, 1), val: EMPTY, test: EMPTY },
      control,
      sink: (event) => {
        sink(event);
        if (event.type !== 'metrics' || event.metrics.step !== 2) return;
        control.pause();
        // A later macrotask: the loop has had every chance to run on by then.
        setImmediate(() => {
          setImmediate(() => {
            stepsWhilePaused = metrics.length;
            clock.advance(60_000);
            control.resume();
          });
        });
      },
    });
    const result = await trainModel(opts);
    expect(stepsWhilePaused).toBe(1);
    expect(result.steps).toBe(4);
    expect(records[0]?.seconds).toBeLessThan(1);
    // The minute paused is not time spent reaching an accuracy either.
    expect(records[0]?.elapsedSeconds).toBeLessThan(1);
    opts.model.dispose();
  });

  it('reads at least every 2 s of run time even when fewer than readEvery steps are waiting', async () => {
    // Every look at this clock moves it 1 s on, so 2 s pass between every other check.
    const { metrics, sink } = recorder();
    const opts = options({
      readEvery: 100,
      settings: { epochs: 1 },
      data: { train: toyData(48, 1), val: EMPTY, test: EMPTY },
      control: new RunControl(new ManualClock(1000)),
      sink,
    });
    await trainModel(opts);
    expect(metrics.map((m) => m.step)).toEqual([2, 4, 6]);
    opts.model.dispose();
  });

  it('yields to the event loop between steps, so a stop message sent meanwhile is seen', async () => {
    const control = steadyControl();
    setTimeout(() => control.stop(), 0);
    const opts = options({ settings: { epochs: 3 }, data: { train: toyData(32, 1), val: EMPTY, test: EMPTY }, control });
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
    const momentum = vi.spyOn(FusedMomentum.prototype, 'applyGradients');
    const opts = options({
      settings: { epochs: 1, optimizer: 'sgd', learningRate: 0.05 },
      data: { train: toyData(32, 1), val: EMPTY, test: EMPTY },
    });
    const result = await trainModel(opts);
    expect(momentum).toHaveBeenCalled();
    expect((momentum.mock.contexts[0] as FusedMomentum | undefined)?.getConfig()).toMatchObject({
      learningRate: 0.05,
      momentum: 0.9,
      useNesterov: false,
    });
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
