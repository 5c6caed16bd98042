/**
 * Resuming from a checkpoint continues the run as if it had never stopped:
 * same losses, same weights, same step count, same optimizer iterations.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerTrainingKernels, unregisterTrainingKernels } from '../kernels';
import { buildModel } from '../model/model';
import { ManualClock } from '../clock';
import { RunControl } from './control';
import { trainModel, type LoopState, type TrainEvent } from './loop';
import type { BatchMetrics, EpochRecord } from '../run/records';
import { DEFAULT_SETTINGS, type Settings } from '../run/settings';
import { TOY_STATS as STATS, toyData } from './toyData';

beforeAll(async () => {
  await tf.setBackend('cpu');
  // The app's fast convolution gradients: the stock cpu ones would make this file take minutes.
  registerTrainingKernels('cpu');
});
afterAll(() => unregisterTrainingKernels('cpu'));

const DATA = { train: toyData(48, 1), val: toyData(20, 2), test: toyData(20, 3) };
const SETTINGS: Settings = { ...DEFAULT_SETTINGS, preset: 'tiny', epochs: 3, batchSize: 8, learningRate: 0.003, patience: 2, seed: 11 };
const STEPS_PER_EPOCH = 48 / 8;

/** A checkpoint as a store would keep it: copies of the tensors, which the live run keeps changing. */
interface Saved {
  state: LoopState;
  weights: tf.Tensor[];
}

function copy(state: LoopState, model: tf.LayersModel): Saved {
  return {
    state: {
      ...state,
      optimizerWeights: state.optimizerWeights.map((w) => ({ name: w.name, tensor: w.tensor.clone() })),
      bestWeights: state.bestWeights ? state.bestWeights.map((t) => t.clone()) : null,
    },
    weights: model.getWeights().map((t) => t.clone()),
  };
}

const losses = (epochs: EpochRecord[]) =>
  epochs.flatMap((e) => [e.epoch, e.trainLoss, e.trainAccuracy, e.valLoss ?? NaN, e.valAccuracy ?? NaN]);

/**
 * Equal up to float32 rounding. Not bit-exact: tfjs's Adam.setWeights rebuilds
 * its β-powers as pow(β, t + 1) where the uninterrupted run multiplied by β
 * t times, which differs in the last bits (seen: 0.85227499 vs 0.85227497).
 */
function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, tolerance = 1e-4): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    expect(Math.abs((actual[i] as number) - (expected[i] as number)), `${what}[${i}]: ${actual[i]} vs ${expected[i]}`).toBeLessThanOrEqual(
      tolerance,
    );
  }
}

async function uninterrupted(settings: Settings) {
  const model = buildModel({ preset: 'tiny', color: settings.color, seed: settings.seed });
  const saved: Saved[] = [];
  const iterations: number[] = [];
  const result = await trainModel({
    model,
    settings,
    data: DATA,
    stats: STATS,
    readEvery: 5,
    control: new RunControl(new ManualClock(1)),
    sink: async (event: TrainEvent) => {
      if (event.type !== 'checkpoint') return;
      saved.push(copy(event.state, model));
      iterations.push((await event.state.optimizerWeights[0]?.tensor.data())?.[0] as number);
    },
  });
  const weights = await Promise.all(model.getWeights().map((w) => w.data()));
  model.dispose();
  return { result, saved, iterations, weights };
}

async function resumed(settings: Settings, from: Saved) {
  const model = buildModel({ preset: 'tiny', color: settings.color, seed: settings.seed });
  model.setWeights(from.weights);
  const metrics: BatchMetrics[] = [];
  const iterations: number[] = [];
  let started = false;
  const result = await trainModel({
    model,
    settings,
    data: DATA,
    stats: STATS,
    readEvery: 5,
    resume: from.state,
    control: new RunControl(new ManualClock(1)),
    sink: async (event: TrainEvent) => {
      // 'start' marks a new run's initial weights: a resumed run's are not.
      if (event.type === 'start') started = true;
      if (event.type === 'metrics') metrics.push(event.metrics);
      if (event.type === 'checkpoint') iterations.push((await event.state.optimizerWeights[0]?.tensor.data())?.[0] as number);
    },
  });
  const weights = await Promise.all(model.getWeights().map((w) => w.data()));
  model.dispose();
  return { result, metrics, iterations, weights, started };
}

describe('trainModel with resume', () => {
  it('continues at the next epoch as the uninterrupted run would, to float rounding (adam and sgd)', async () => {
    for (const optimizer of ['adam', 'sgd'] as const) {
      const settings = { ...SETTINGS, optimizer };
      const whole = await uninterrupted(settings);
      expect(whole.saved).toHaveLength(3);
      expect(whole.iterations).toEqual([1, 2, 3].map((e) => e * STEPS_PER_EPOCH));

      const afterTwo = whole.saved[1] as Saved;
      expect(afterTwo.state.step).toBe(2 * STEPS_PER_EPOCH);
      const part = await resumed(settings, afterTwo);
      expect(part.started).toBe(false);

      // History kept, the third epoch identical, the step counter and the optimizer's iterations carried on.
      expectClose(losses(part.result.epochs), losses(whole.result.epochs), `${optimizer} epochs`);
      // The first two epochs are the checkpoint's own records, untouched.
      expect(part.result.epochs.slice(0, 2)).toEqual(whole.result.epochs.slice(0, 2));
      expect(part.result.steps).toBe(3 * STEPS_PER_EPOCH);
      expect(part.metrics[0]?.epoch).toBe(3);
      expect(part.metrics[0]?.step).toBeGreaterThan(2 * STEPS_PER_EPOCH);
      expect(part.metrics.at(-1)?.step).toBe(3 * STEPS_PER_EPOCH);
      expect(part.iterations).toEqual([3 * STEPS_PER_EPOCH]);
      part.weights.forEach((w, i) => expectClose(w, whole.weights[i] as Float32Array, `${optimizer} weight ${i}`));
      expect(part.result.test?.accuracy).toBe(whole.result.test?.accuracy);
      for (const s of whole.saved)
        tf.dispose([...s.weights, ...s.state.optimizerWeights.map((w) => w.tensor), ...(s.state.bestWeights ?? [])]);
    }
  });

  it('needs the optimizer state: resuming with fresh moments gives a different third epoch', async () => {
    const whole = await uninterrupted(SETTINGS);
    const afterTwo = whole.saved[1] as Saved;
    const iterOnly = afterTwo.state.optimizerWeights.slice(0, 1);
    const part = await resumed(SETTINGS, { ...afterTwo, state: { ...afterTwo.state, optimizerWeights: iterOnly } });
    // Far beyond the rounding tolerance of the test above.
    expect(Math.abs((part.result.epochs[2]?.trainLoss as number) - (whole.result.epochs[2]?.trainLoss as number))).toBeGreaterThan(1e-2);
    for (const s of whole.saved)
      tf.dispose([...s.weights, ...s.state.optimizerWeights.map((w) => w.tensor), ...(s.state.bestWeights ?? [])]);
  });

  it('a run that early stopping had ended only evaluates when resumed', async () => {
    const whole = await uninterrupted(SETTINGS);
    const last = whole.saved[2] as Saved;
    const part = await resumed(SETTINGS, { ...last, state: { ...last.state, stopped: true } });
    expect(part.metrics).toEqual([]);
    expect(part.result.stopReason).toBe('early-stopping');
    expect(part.result.test).not.toBeNull();
    for (const s of whole.saved)
      tf.dispose([...s.weights, ...s.state.optimizerWeights.map((w) => w.tensor), ...(s.state.bestWeights ?? [])]);
  });

  it('refuses a state that does not fit the settings, and leaks no tensors', async () => {
    const model = buildModel({ preset: 'tiny', color: 'rgb', seed: 1 });
    const before = tf.memory().numTensors;
    const record = { epoch: 1, trainLoss: 1, trainAccuracy: 0, valLoss: 1, valAccuracy: 0, seconds: 1, imagesPerSecond: 1, best: true };
    const state = (epochs: EpochRecord[]): LoopState => ({ epochs, step: 12, optimizerWeights: [], bestWeights: null, stopped: false });
    await expect(
      trainModel({
        model,
        settings: { ...SETTINGS, epochs: 1 },
        data: DATA,
        stats: STATS,
        resume: state([record, { ...record, epoch: 2 }]),
      }),
    ).rejects.toThrow(/do not fit/);
    await expect(
      trainModel({ model, settings: SETTINGS, data: DATA, stats: STATS, resume: state([{ ...record, epoch: 2 }]) }),
    ).rejects.toThrow(/do not fit/);
    await expect(trainModel({ model, settings: SETTINGS, data: DATA, stats: STATS, resume: state([record]) })).rejects.toThrow(
      /optimizer state/,
    );
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});
