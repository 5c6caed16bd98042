import * as tf from '@tensorflow/tfjs';
import { IMAGE, NUM_CLASSES, PIXELS_PER_IMAGE } from '../data/format';
import { toModelInput, type ChannelStats } from '../data/preprocess';
import { inputChannels, type ColorMode } from '../model/config';
import { AppError, SettingsError } from '../errors';
import { augmentBatch, augmentParams } from './augment';
import { epochOrder, fillBatch, trainBatchesPerEpoch } from './batches';
import { earlyStopping } from './earlyStopping';
import type { Settings } from './settings';

/*
 * Our own training loop instead of `model.fit`, so that we control what
 * crosses from the GPU to JavaScript and when (fit reads the loss back
 * synchronously after every batch), can pause and stop between steps, and
 * augment on the GPU.
 */

// ---- Loop hyperparameters (the user-facing ones live in settings.ts) ----------------
/** Momentum of the `sgd` optimizer (the usual value; Sutskever et al. 2013). */
export const SGD_MOMENTUM = 0.9;
/**
 * Probabilities are clipped to [CE_EPSILON, 1] before the log, exactly like
 * Keras's cross-entropy on softmax outputs (its backend epsilon), so one
 * confidently wrong image costs at most −ln 1e−7 ≈ 16 instead of ∞.
 */
export const CE_EPSILON = 1e-7;
/**
 * Steps between reads of loss/accuracy from the GPU. Each read makes the
 * CPU wait until the GPU has caught up, which also keeps the GPU's command
 * queue short; more often costs speed, less often makes the charts jerky.
 */
export const READ_EVERY = 10; // steps
/**
 * …or sooner once this much time has passed, so slow steps (the seed preset
 * on WASM takes seconds each) still move the curves within seconds. Where a
 * step is that slow, one extra sync per step costs nothing measurable.
 */
export const READ_AT_LEAST_EVERY_MS = 2000;
/** Images per evaluation batch: larger than training batches since no gradients are kept. Unit: images. */
export const EVAL_BATCH_SIZE = 200;
/** First images of the test set reported with their probabilities (the UI's sample grid). */
export const TEST_SAMPLES = 16;
/** Misclassified test images listed at most. */
export const MAX_MISCLASSIFIED = 32;
// ---------------------------------------------------------------------------------------

/** One split as the worker holds it: all images as bytes, and which of them to use. */
export interface SplitData {
  /** N × 32 × 32 × 3 bytes, HWC, image i at i × 3072. */
  pixels: Uint8Array;
  /** N labels 0–9. */
  labels: Uint8Array;
  /** The images of `pixels` that belong to this split (e.g. the training part after the validation hold-out). */
  indices: Uint32Array;
}

/** Sent every `readEvery` steps; loss and accuracy are means over the steps since the previous report. */
export interface BatchMetrics {
  /** Optimizer steps done since the start, 1-based. */
  step: number;
  /** 1-based. */
  epoch: number;
  /** Batches done in this epoch, 1 … batchesPerEpoch. */
  batchInEpoch: number;
  batchesPerEpoch: number;
  loss: number;
  /** Fraction 0–1, on the augmented training images in training mode (dropout on). */
  accuracy: number;
  /** Training throughput since the previous report, pauses excluded. */
  imagesPerSecond: number;
}

export interface EpochRecord {
  /** 1-based. */
  epoch: number;
  /** Mean over the epoch's steps, as seen during training (augmented, dropout on). */
  trainLoss: number;
  trainAccuracy: number;
  /** null when there is no validation set. */
  valLoss: number | null;
  valAccuracy: number | null;
  /** Wall time of the epoch including validation, pauses excluded. */
  seconds: number;
  /** Training images per second (validation time excluded). */
  imagesPerSecond: number;
  /** Lowest validation loss so far (the final best epoch is `TrainResult.bestEpoch`). */
  best: boolean;
}

export interface Evaluation {
  /** Mean cross-entropy over the real (unpadded) images. */
  loss: number;
  /** Fraction 0–1. */
  accuracy: number;
  count: number;
  /** Accuracy per true class (recall); NaN for a class with no image in the split. */
  perClass: number[];
  /** confusion[trueLabel][predicted] = image count, 10 × 10. */
  confusion: number[][];
  /** The first `sampleCount` images of the split, with the model's probabilities. */
  samples: { index: number; label: number; predicted: number; probs: number[] }[];
  /** Up to `misclassifiedLimit` wrongly classified images, in split order. */
  misclassified: { index: number; label: number; predicted: number }[];
}

export interface TrainHooks {
  onBatchMetrics(metrics: BatchMetrics): void;
  onEpochEnd(record: EpochRecord): void;
  /** Awaited before every step; resolves at once unless the user paused, and must also resolve on stop. */
  waitWhilePaused(): Promise<void>;
  /** Checked before every step; true ends training (best weights restored, test still evaluated). */
  shouldStop(): boolean;
}

export interface TrainOptions {
  /** A model from `buildModel` whose colour matches `settings.color`; trained in place. */
  model: tf.LayersModel;
  /** Uses epochs, batchSize, learningRate, optimizer, augment, patience, seed and color. validationShare and
   *  trainLimit are already applied to `data` by the caller (see `splitTrainingSet`). */
  settings: Settings;
  /** `val` or `test` may have no indices: validation (and so early stopping) or the test report is skipped. */
  data: { train: SplitData; val: SplitData; test: SplitData };
  /** Training-set channel statistics, 0–255 scale (the manifest's `mean` and `std`). */
  stats: ChannelStats;
  hooks?: Partial<TrainHooks>;
  /** Steps between metric reads; defaults to READ_EVERY. */
  readEvery?: number;
}

export interface TrainResult {
  epochs: EpochRecord[];
  /** Epoch with the lowest validation loss; null without validation. */
  bestEpoch: number | null;
  stopReason: 'completed' | 'early-stopping' | 'user';
  /** The model now holds the weights of `bestEpoch` (only when patience > 0 and a later epoch was worse). */
  restoredBestWeights: boolean;
  steps: number;
  /** null when the test split is empty. */
  test: Evaluation | null;
}

const NO_HOOKS: TrainHooks = {
  onBatchMetrics: () => {},
  onEpochEnd: () => {},
  waitWhilePaused: () => Promise.resolve(),
  shouldStop: () => false,
};

export async function trainModel(opts: TrainOptions): Promise<TrainResult> {
  const { model, settings, data, stats } = opts;
  const hooks: TrainHooks = { ...NO_HOOKS, ...opts.hooks };
  const readEvery = opts.readEvery ?? READ_EVERY;
  if (!Number.isInteger(readEvery) || readEvery < 1) throw new RangeError(`readEvery must be a whole number ≥ 1, got ${readEvery}`);
  const batchSize = settings.batchSize;
  checkModelInput(model, settings.color);
  const batchesPerEpoch = trainBatchesPerEpoch(data.train.indices.length, batchSize);
  if (batchesPerEpoch === 0) {
    const n = data.train.indices.length;
    throw new SettingsError(`Batch size ${batchSize} is larger than the ${n} training images`, {
      batchSize: `Batch size must be at most the number of training images (${n})`,
    });
  }

  const optimizer = settings.optimizer === 'sgd' ? tf.train.momentum(settings.learningRate, SGD_MOMENTUM) : tf.train.adam(settings.learningRate);
  // Passed explicitly: without a list, minimize() updates every trainable
  // variable in the engine, including those of other models in this tab.
  const trainable = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const evalOptions = { color: settings.color, stats };
  const keepBest = settings.patience > 0 && data.val.indices.length > 0;
  const clock = activeClock();
  const yielder = createYielder();
  // Reused by every step: one batch of floats, never a whole split.
  const xBuffer = new Float32Array(batchSize * PIXELS_PER_IMAGE);
  const yBuffer = new Int32Array(batchSize);
  /** Per-step [loss, accuracy] on the device, waiting to be read. */
  const pending: tf.Tensor1D[] = [];
  let bestWeights: tf.Tensor[] | null = null;
  const epochs: EpochRecord[] = [];
  const valLosses: number[] = [];
  let bestEpoch: number | null = null;
  let stopReason: TrainResult['stopReason'] = 'completed';
  let step = 0;

  const trainStep = (): tf.Tensor1D =>
    tf.tidy(() => {
      // Wraps xBuffer without a copy; backends upload it in the first op
      // below, and the tensor dies with this tidy, before the buffer is refilled.
      const raw = tf.tensor4d(xBuffer, [batchSize, IMAGE.height, IMAGE.width, IMAGE.channels]);
      const normalized = toModelInput(raw, { color: settings.color, ...stats });
      const x = settings.augment ? augmentBatch(normalized, augmentParams(step, settings.seed, batchSize)) : normalized;
      const labels = tf.tensor1d(yBuffer, 'int32');
      // Accuracy is computed from the same forward pass; kept so it survives
      // minimize()'s inner tidy, and disposed by hand below.
      const held: { accuracy?: tf.Scalar } = {};
      const loss = optimizer.minimize(
        () => {
          // training: true makes BatchNorm use batch statistics (and update its
          // running averages) and Dropout drop.
          const probs = model.apply(x, { training: true }) as tf.Tensor2D;
          held.accuracy = tf.keep(accuracyOf(probs, labels));
          return crossEntropy(probs, labels);
        },
        true,
        trainable,
      ) as tf.Scalar;
      const accuracy = held.accuracy as tf.Scalar;
      const out = tf.stack([loss, accuracy]) as tf.Tensor1D;
      accuracy.dispose();
      return out;
    });

  try {
    epochLoop: for (let epoch = 1; epoch <= settings.epochs; epoch++) {
      const epochStart = clock.now();
      const order = epochOrder(data.train.indices, epoch, settings.seed);
      const sums = { loss: 0, accuracy: 0, steps: 0 };
      let lastReport = epochStart;

      const readMetrics = async (batchInEpoch: number) => {
        if (pending.length === 0) return;
        const count = pending.length;
        const stacked = tf.stack(pending);
        tf.dispose(pending);
        pending.length = 0;
        const values = await stacked.data().finally(() => stacked.dispose());
        let loss = 0;
        let accuracy = 0;
        for (let i = 0; i < count; i++) {
          loss += values[2 * i] as number;
          accuracy += values[2 * i + 1] as number;
        }
        if (!Number.isFinite(loss)) {
          throw new AppError('training-failed', `The loss became ${loss} around step ${step}; try a lower learning rate.`);
        }
        sums.loss += loss;
        sums.accuracy += accuracy;
        sums.steps += count;
        const now = clock.now();
        hooks.onBatchMetrics({
          step,
          epoch,
          batchInEpoch,
          batchesPerEpoch,
          loss: loss / count,
          accuracy: accuracy / count,
          imagesPerSecond: (count * batchSize) / ((now - lastReport) / 1000),
        });
        lastReport = now;
      };

      for (let batch = 0; batch < batchesPerEpoch; batch++) {
        await clock.excluding(hooks.waitWhilePaused());
        if (hooks.shouldStop()) {
          await readMetrics(batch);
          stopReason = 'user';
          break epochLoop;
        }
        fillBatch(data.train.pixels, data.train.labels, order, batch * batchSize, batchSize, xBuffer, yBuffer);
        pending.push(trainStep());
        step++;
        if (pending.length >= readEvery || clock.now() - lastReport >= READ_AT_LEAST_EVERY_MS) await readMetrics(batch + 1);
        // Let the worker handle pause/stop messages between steps.
        await yielder.next();
      }
      await readMetrics(batchesPerEpoch);
      const trainSeconds = (clock.now() - epochStart) / 1000;

      let valLoss: number | null = null;
      let valAccuracy: number | null = null;
      let best = false;
      let stop = false;
      if (data.val.indices.length > 0) {
        const val = await evaluate(model, data.val, evalOptions);
        valLoss = val.loss;
        valAccuracy = val.accuracy;
        valLosses.push(val.loss);
        const decision = earlyStopping(valLosses, settings.patience);
        bestEpoch = decision.bestEpoch;
        best = decision.improved;
        stop = decision.stop;
        if (best && keepBest) {
          if (bestWeights) tf.dispose(bestWeights);
          bestWeights = snapshotWeights(model);
        }
      }

      const record: EpochRecord = {
        epoch,
        trainLoss: sums.loss / sums.steps,
        trainAccuracy: sums.accuracy / sums.steps,
        valLoss,
        valAccuracy,
        seconds: (clock.now() - epochStart) / 1000,
        imagesPerSecond: (batchesPerEpoch * batchSize) / trainSeconds,
        best,
      };
      epochs.push(record);
      hooks.onEpochEnd(record);
      if (stop) {
        stopReason = 'early-stopping';
        break;
      }
    }

    let restoredBestWeights = false;
    if (bestWeights && bestEpoch !== epochs.length) {
      // setWeights shares the snapshot's data with the variables (reference
      // counted), so disposing the snapshot afterwards is safe.
      model.setWeights(bestWeights);
      restoredBestWeights = true;
    }
    const test = data.test.indices.length > 0 ? await evaluate(model, data.test, evalOptions) : null;
    return { epochs, bestEpoch, stopReason, restoredBestWeights, steps: step, test };
  } finally {
    tf.dispose(pending);
    if (bestWeights) tf.dispose(bestWeights);
    optimizer.dispose();
    yielder.close();
  }
}

export interface EvaluateOptions {
  color: ColorMode;
  stats: ChannelStats;
  /** Images per batch; the last batch is padded to this size. Defaults to EVAL_BATCH_SIZE. */
  batchSize?: number;
  /** Defaults to TEST_SAMPLES. */
  sampleCount?: number;
  /** Defaults to MAX_MISCLASSIFIED. */
  misclassifiedLimit?: number;
}

/**
 * Loss, accuracy and the confusion matrix of `split` in inference mode
 * (BatchNorm running statistics, no dropout, no augmentation). Used for
 * validation after each epoch and for the final test report.
 *
 * Probabilities come back to the CPU one batch at a time (10 floats per
 * image), while the GPU already works on the next batch.
 */
export async function evaluate(model: tf.LayersModel, split: SplitData, opts: EvaluateOptions): Promise<Evaluation> {
  const n = split.indices.length;
  if (n === 0) throw new RangeError('Cannot evaluate an empty split');
  checkModelInput(model, opts.color);
  const batchSize = Math.min(opts.batchSize ?? EVAL_BATCH_SIZE, n);
  const sampleCount = opts.sampleCount ?? TEST_SAMPLES;
  const misclassifiedLimit = opts.misclassifiedLimit ?? MAX_MISCLASSIFIED;
  const xBuffer = new Float32Array(batchSize * PIXELS_PER_IMAGE);
  const yBuffer = new Int32Array(batchSize);

  const confusion = Array.from({ length: NUM_CLASSES }, () => new Array<number>(NUM_CLASSES).fill(0));
  const samples: Evaluation['samples'] = [];
  const misclassified: Evaluation['misclassified'] = [];
  let lossSum = 0;
  let correct = 0;

  interface InFlight {
    probs: tf.Tensor2D;
    start: number;
    labels: Int32Array;
  }
  const consume = async ({ probs, start, labels }: InFlight) => {
    const values = await probs.data();
    labels.forEach((label, row) => {
      const p = values.subarray(row * NUM_CLASSES, (row + 1) * NUM_CLASSES);
      let predicted = 0;
      for (let c = 1; c < NUM_CLASSES; c++) if ((p[c] as number) > (p[predicted] as number)) predicted = c;
      lossSum -= Math.log(Math.min(1, Math.max(CE_EPSILON, p[label] as number)));
      const counts = confusion[label] as number[];
      counts[predicted] = (counts[predicted] as number) + 1;
      const position = start + row;
      const index = split.indices[position] as number;
      if (predicted === label) correct++;
      else if (misclassified.length < misclassifiedLimit) misclassified.push({ index, label, predicted });
      if (position < sampleCount) samples.push({ index, label, predicted, probs: Array.from(p) });
    });
  };

  let inFlight: InFlight | null = null;
  try {
    for (let start = 0; start < n; start += batchSize) {
      const real = fillBatch(split.pixels, split.labels, split.indices, start, batchSize, xBuffer, yBuffer);
      const probs = tf.tidy(() => {
        const raw = tf.tensor4d(xBuffer, [batchSize, IMAGE.height, IMAGE.width, IMAGE.channels]);
        return model.apply(toModelInput(raw, { color: opts.color, ...opts.stats }), { training: false }) as tf.Tensor2D;
      });
      const previous: InFlight | null = inFlight;
      inFlight = { probs, start, labels: yBuffer.slice(0, real) };
      if (previous) await consume(previous).finally(() => previous.probs.dispose());
    }
    const last = inFlight;
    inFlight = null;
    if (last) await consume(last).finally(() => last.probs.dispose());
  } finally {
    inFlight?.probs.dispose();
  }

  const perClass = confusion.map((row, c) => {
    const total = row.reduce((a, b) => a + b, 0);
    return total === 0 ? Number.NaN : (row[c] as number) / total;
  });
  return { loss: lossSum / n, accuracy: correct / n, count: n, perClass, confusion, samples, misclassified };
}

/** Mean sparse categorical cross-entropy of softmax outputs, clipped like Keras. */
export function crossEntropy(probs: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const picked = tf.sum(tf.mul(probs, tf.oneHot(labels, probs.shape[1])), 1);
    return tf.neg(tf.mean(tf.log(tf.clipByValue(picked, CE_EPSILON, 1)))) as tf.Scalar;
  });
}

function accuracyOf(probs: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(probs, 1), labels), 'float32')));
}

/** Copies of all weights, BatchNorm running statistics included (they are part of what was best). */
function snapshotWeights(model: tf.LayersModel): tf.Tensor[] {
  // getWeights() returns the variables' own tensors, which the optimizer overwrites: clone.
  return tf.tidy(() => model.getWeights().map((w) => w.clone()));
}

function checkModelInput(model: tf.LayersModel, color: ColorMode): void {
  const channels = model.inputs[0]?.shape[3];
  if (channels !== inputChannels(color)) {
    throw new RangeError(`The model takes ${channels} channels but colour "${color}" gives ${inputChannels(color)}`);
  }
}

/** Milliseconds that stop while the user has paused, so speeds and epoch times mean compute time. */
function activeClock() {
  let paused = 0;
  return {
    now: () => performance.now() - paused,
    excluding: async (wait: Promise<void>) => {
      const start = performance.now();
      await wait;
      paused += performance.now() - start;
    },
  };
}

/**
 * Resolves on a later macrotask, so that messages queued for the worker
 * (pause, stop) are handled between steps. setTimeout(0) would do, but
 * browsers clamp nested timeouts to ≥ 4 ms (HTML spec, timer nesting level
 * > 5): ~3 s per 700-step epoch. MessageChannel messages are not clamped.
 * Node (tests, scripts) gets setImmediate instead: it drains a port's messages
 * in one go, including ones posted meanwhile, which would starve its timers.
 */
function createYielder(): { next(): Promise<void>; close(): void } {
  if (typeof setImmediate === 'function') {
    return { next: () => new Promise((resolve) => setImmediate(resolve)), close: () => {} };
  }
  if (typeof MessageChannel === 'undefined') {
    return { next: () => new Promise((resolve) => setTimeout(resolve, 0)), close: () => {} };
  }
  const channel = new MessageChannel();
  const waiting: (() => void)[] = [];
  channel.port1.onmessage = () => waiting.shift()?.();
  return {
    next: () =>
      new Promise<void>((resolve) => {
        waiting.push(resolve);
        channel.port2.postMessage(null);
      }),
    close: () => {
      channel.port1.close();
      channel.port2.close();
    },
  };
}
