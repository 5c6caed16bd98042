import * as tf from '@tensorflow/tfjs';
import { IMAGE, NUM_CLASSES, PIXELS_PER_IMAGE } from '../data/format';
import { toModelInput, type ChannelStats } from '../data/preprocess';
import { inputChannels, presetRecipe, type ColorMode, type TrainingRecipe } from '../model/config';
import { WHITEN_KERNEL, setWhitening } from '../model/model';
import { addPatches, emptyPatchMoments, whiteningFilters } from '../model/whitening';
import { AppError, SettingsError } from '../errors';
import { MAX_SHIFT, augmentBatch, augmentParams } from './augment';
import { applyForTraining } from './batchnorm';
import { warmupDecayRate } from './schedule';
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
  /**
   * Awaited after every epoch (after onEpochEnd) with everything needed to
   * continue the run later (`TrainOptions.resume`). Its tensors are live and
   * change with the next step: read them before resolving, keep none.
   */
  onCheckpoint(state: LoopState): Promise<void>;
}

/** Where a run stands between two epochs: saved as a checkpoint, given back as `TrainOptions.resume`. */
export interface LoopState {
  /** The epochs done, 1 … n in order; training continues at epoch n + 1. */
  epochs: EpochRecord[];
  /** Optimizer steps done; the step counter (and so the augmentation of each step) continues from here. */
  step: number;
  /** `optimizer.getWeights()`: its iteration count first, then its moment estimates. */
  optimizerWeights: { name: string; tensor: tf.Tensor }[];
  /** The best epoch's weights when they differ from the model's current ones (early stopping may restore them); else null. */
  bestWeights: tf.Tensor[] | null;
  /** Early stopping had already ended training: a resumed run only evaluates. */
  stopped: boolean;
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
  /**
   * Continue an interrupted run: the caller has already put the checkpoint's
   * weights into `model`; the loop restores the optimizer (iteration count
   * included), the history, early stopping's state and the step counter.
   * Its tensors are read, not kept: the caller disposes them afterwards.
   */
  resume?: LoopState;
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
  onCheckpoint: () => Promise.resolve(),
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

  if (opts.resume) checkResume(opts.resume, settings.epochs);

  // A preset with its own recipe (`fast`) brings optimizer, schedule and the rest;
  // the others train with the user's optimizer and a constant learning rate.
  const recipe = presetRecipe(settings.preset);
  const totalSteps = settings.epochs * batchesPerEpoch;
  const rateAt = (s: number) => (recipe ? warmupDecayRate(s, totalSteps, recipe.schedule) : settings.learningRate);
  // A resumed run's model already holds the whitening it trained with (it is part of the weights).
  if (recipe && !opts.resume) await computeWhitening(model, data.train, stats, settings.color, recipe);
  const optimizer = recipe
    ? tf.train.momentum(rateAt(0), recipe.momentum, true)
    : settings.optimizer === 'sgd'
      ? tf.train.momentum(settings.learningRate, SGD_MOMENTUM)
      : tf.train.adam(settings.learningRate);
  const evalOptions = { color: settings.color, stats, flipTestTime: recipe?.flipTestTime ?? false };
  const keepBest = settings.patience > 0 && data.val.indices.length > 0;
  const clock = activeClock();
  const yielder = createYielder();
  const trainStep = createTrainStep({
    model,
    optimizer,
    batchSize,
    color: settings.color,
    stats,
    augment: settings.augment,
    seed: settings.seed,
    maxShift: recipe?.maxShift ?? MAX_SHIFT,
    labelSmoothing: recipe?.labelSmoothing ?? 0,
    weightDecay: recipe?.weightDecay ?? 0,
  });
  /** Per-step [loss, accuracy] on the device, waiting to be read. */
  const pending: tf.Tensor1D[] = [];
  let bestWeights: tf.Tensor[] | null = null;
  const epochs: EpochRecord[] = [];
  const valLosses: number[] = [];
  let bestEpoch: number | null = null;
  let stopReason: TrainResult['stopReason'] = 'completed';
  let step = 0;
  const resume = opts.resume;
  if (resume) {
    epochs.push(...resume.epochs);
    for (const e of resume.epochs) if (e.valLoss !== null) valLosses.push(e.valLoss);
    if (valLosses.length > 0) bestEpoch = earlyStopping(valLosses, settings.patience).bestEpoch;
    step = resume.step;
    if (resume.stopped) stopReason = 'early-stopping';
  }

  try {
    if (resume) {
      // Adam's bias correction and every moment estimate continue where they were.
      await optimizer.setWeights(resume.optimizerWeights);
      if (keepBest && bestEpoch !== null) {
        const saved = resume.bestWeights;
        bestWeights = bestEpoch === epochs.length ? snapshotWeights(model) : saved ? tf.tidy(() => saved.map((w) => w.clone())) : null;
      }
    }
    const firstEpoch = resume?.stopped ? settings.epochs + 1 : epochs.length + 1;
    epochLoop: for (let epoch = firstEpoch; epoch <= settings.epochs; epoch++) {
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
        fillBatch(data.train.pixels, data.train.labels, order, batch * batchSize, batchSize, trainStep.x, trainStep.y);
        if (recipe) (optimizer as tf.MomentumOptimizer).setLearningRate(rateAt(step));
        pending.push(trainStep.run(step));
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
      if (opts.hooks?.onCheckpoint) {
        const optimizerWeights = await optimizer.getWeights();
        try {
          await hooks.onCheckpoint({
            epochs: epochs.slice(),
            step,
            optimizerWeights,
            bestWeights: bestEpoch !== epoch ? bestWeights : null,
            stopped: stop,
          });
        } finally {
          // getWeights() returns the optimizer's own variables plus a fresh scalar holding its iteration count: only that one is ours.
          tf.dispose(optimizerWeights.filter((w) => !(w.tensor instanceof tf.Variable)).map((w) => w.tensor));
        }
      }
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
    disposeOptimizer(optimizer);
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
  /** Average the probabilities of each image and its mirror image (test-time augmentation); off by default. */
  flipTestTime?: boolean;
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
        const x = toModelInput(raw, { color: opts.color, ...opts.stats });
        const probs = model.apply(x, { training: false }) as tf.Tensor2D;
        if (!opts.flipTestTime) return probs;
        // Axis 2 is the width: the mirror image, as augmentBatch's flips show it in training.
        return tf.div(tf.add(probs, model.apply(tf.reverse(x, 2), { training: false }) as tf.Tensor2D), 2) as tf.Tensor2D;
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

/**
 * Mean sparse categorical cross-entropy of softmax outputs, clipped like Keras.
 * With `labelSmoothing` ε > 0 the target puts 1 − ε + ε/K on the label and ε/K
 * on each of the K classes' others (Szegedy et al. 2016, §7).
 */
export function crossEntropy(probs: tf.Tensor2D, labels: tf.Tensor1D, labelSmoothing = 0): tf.Scalar {
  if (!(labelSmoothing >= 0 && labelSmoothing < 1)) throw new RangeError(`labelSmoothing must be in [0, 1), got ${labelSmoothing}`);
  return tf.tidy(() => {
    const classes = probs.shape[1];
    if (labelSmoothing === 0) {
      const picked = tf.sum(tf.mul(probs, tf.oneHot(labels, classes)), 1);
      return tf.neg(tf.mean(tf.log(tf.clipByValue(picked, CE_EPSILON, 1)))) as tf.Scalar;
    }
    const target = tf.oneHot(labels, classes, 1 - labelSmoothing + labelSmoothing / classes, labelSmoothing / classes, 'float32');
    return tf.neg(tf.mean(tf.sum(tf.mul(target, tf.log(tf.clipByValue(probs, CE_EPSILON, 1))), 1))) as tf.Scalar;
  });
}

export interface TrainStepOptions {
  /** Trained in place: its trainable weights are the optimizer's variables. */
  model: tf.LayersModel;
  optimizer: tf.Optimizer;
  /** Images per step. Unit: images. */
  batchSize: number;
  color: ColorMode;
  /** Training-set channel statistics, 0–255 scale. */
  stats: ChannelStats;
  /** Flip and shift every batch on the device (augmentParams of the step and seed). */
  augment: boolean;
  seed: number;
  /** Largest shift of the augmentation. Unit: pixels; defaults to MAX_SHIFT. */
  maxShift?: number;
  /** See crossEntropy. Unit: fraction; defaults to 0. */
  labelSmoothing?: number;
  /** Adds ½·λ·Σw² over the conv and dense kernels to the loss (L2, as SGD's weight decay). Unit: λ; defaults to 0. */
  weightDecay?: number;
  /**
   * BatchNorm as one closed-form-gradient op per layer (batchnorm.ts) instead
   * of tfjs-layers' op-by-op autodiff; same numbers. Defaults to true: seed,
   * batch 16, SwiftShader WebGPU, interleaved `npm run bench` runs: 10.9 s per
   * step against 16.0 s with tfjs-layers' BatchNorm. False is for that A/B.
   */
  closedFormBatchNorm?: boolean;
}

export interface TrainStep {
  /** The batch's pixels (B × 32 × 32 × 3, 0–255, HWC): fill before each `run`. Reused by every step. */
  readonly x: Float32Array;
  /** The batch's labels, 0–9. */
  readonly y: Int32Array;
  /**
   * One optimizer step on the batch now in `x` and `y`, `step` (0-based) seeding
   * its augmentation. Returns [cross-entropy, accuracy] of the batch (without
   * label smoothing or weight decay), still on the device: nothing is read
   * back, so the caller decides when the CPU waits for the GPU.
   */
  run(step: number): tf.Tensor1D;
}

/**
 * THE training step of `trainModel`, also timed on its own by the benchmark (src/bench).
 *
 * No shader warm-up before the first step: compiling all of a step's GPU
 * programs first (tfjs's compile-only mode) did not bring the first step
 * sooner on SwiftShader WebGPU, where running dominates compiling (seed,
 * batch 64: 29 s to the first loss without; 6.9 s warm-up + 40 s with, and
 * 75 s against 11 + 81 s in another run; tiny, batch 16: 7.7 s against
 * 5.3 + 2.0 s; `npm run bench -- --shader-warmup`).
 */
export function createTrainStep(opts: TrainStepOptions): TrainStep {
  const { model, optimizer, batchSize, color, stats, augment, seed } = opts;
  const maxShift = opts.maxShift ?? MAX_SHIFT;
  const labelSmoothing = opts.labelSmoothing ?? 0;
  const weightDecay = opts.weightDecay ?? 0;
  const forward =
    (opts.closedFormBatchNorm ?? true)
      ? (t: tf.Tensor) => applyForTraining(model, t)
      : (t: tf.Tensor) => model.apply(t, { training: true }) as tf.Tensor;
  // Passed explicitly: without a list, minimize() updates every trainable
  // variable in the engine, including those of other models in this tab.
  const trainable = model.trainableWeights.map((w) => w.read() as tf.Variable);
  // originalName, not name: a model built after another with the same layer names has conv1/kernel_1.
  const decayed = model.trainableWeights.filter((w) => w.originalName.endsWith('/kernel')).map((w) => w.read() as tf.Variable);
  // Reused by every step: one batch of floats, never a whole split.
  const x = new Float32Array(batchSize * PIXELS_PER_IMAGE);
  const y = new Int32Array(batchSize);
  const run = (step: number): tf.Tensor1D =>
    tf.tidy(() => {
      // Wraps x without a copy; backends upload it in the first op below, and
      // the tensor dies with this tidy, before the buffer is refilled.
      const raw = tf.tensor4d(x, [batchSize, IMAGE.height, IMAGE.width, IMAGE.channels]);
      const normalized = toModelInput(raw, { color, ...stats });
      const input = augment ? augmentBatch(normalized, augmentParams(step, seed, batchSize, maxShift), maxShift) : normalized;
      const labels = tf.tensor1d(y, 'int32');
      // Accuracy (and, when smoothing or decay change the objective, the plain
      // cross-entropy, comparable with the validation loss) come from the same
      // forward pass; kept so they survive minimize()'s inner tidy, and
      // disposed by hand below.
      const held: { accuracy?: tf.Scalar; crossEntropy?: tf.Scalar } = {};
      const objective = optimizer.minimize(
        () => {
          // training: true makes BatchNorm use batch statistics (and update its
          // running averages) and Dropout drop.
          const probs = forward(input) as tf.Tensor2D;
          held.accuracy = tf.keep(accuracyOf(probs, labels));
          const plain = crossEntropy(probs, labels);
          if (labelSmoothing === 0 && weightDecay === 0) return plain;
          held.crossEntropy = tf.keep(plain);
          const smoothed = labelSmoothing > 0 ? crossEntropy(probs, labels, labelSmoothing) : plain;
          if (weightDecay === 0) return smoothed;
          return tf.add(smoothed, tf.mul(weightDecay / 2, tf.addN(decayed.map((w) => tf.sum(tf.square(w)))))) as tf.Scalar;
        },
        true,
        trainable,
      ) as tf.Scalar;
      const accuracy = held.accuracy as tf.Scalar;
      const out = tf.stack([held.crossEntropy ?? objective, accuracy]) as tf.Tensor1D;
      accuracy.dispose();
      held.crossEntropy?.dispose();
      return out;
    });
  return { x, y, run };
}

/**
 * Sets a `fast` model's frozen whitening filters from the first
 * `recipe.whitenImages` training images, standardised exactly as training
 * sees them (before augmentation), a chunk at a time.
 */
async function computeWhitening(
  model: tf.LayersModel,
  train: SplitData,
  stats: ChannelStats,
  color: ColorMode,
  recipe: TrainingRecipe,
): Promise<void> {
  const channels = inputChannels(color);
  const moments = emptyPatchMoments(WHITEN_KERNEL, channels);
  const count = Math.min(recipe.whitenImages, train.indices.length);
  const chunk = 500; // images per read-back: 6 MB of floats
  const xBuffer = new Float32Array(chunk * PIXELS_PER_IMAGE);
  const yBuffer = new Int32Array(chunk);
  for (let start = 0; start < count; start += chunk) {
    const real = Math.min(chunk, count - start);
    fillBatch(train.pixels, train.labels, train.indices, start, chunk, xBuffer, yBuffer);
    const normalized = tf.tidy(() =>
      toModelInput(tf.tensor4d(xBuffer, [chunk, IMAGE.height, IMAGE.width, IMAGE.channels]), { color, ...stats }),
    );
    const values = await normalized.data<'float32'>().finally(() => normalized.dispose());
    addPatches(moments, values, real, IMAGE.height, IMAGE.width);
  }
  setWhitening(model, whiteningFilters(moments, recipe.whitenEpsilon));
}

/**
 * optimizer.dispose(), plus the learning-rate scalar that tfjs 4.22's
 * MomentumOptimizer.dispose() forgets (SGDOptimizer keeps it in `c`).
 */
function disposeOptimizer(optimizer: tf.Optimizer): void {
  optimizer.dispose();
  if (optimizer instanceof tf.MomentumOptimizer) (optimizer as unknown as { c?: tf.Tensor }).c?.dispose();
}

function accuracyOf(probs: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(probs, 1), labels), 'float32')));
}

/** A resume state that fits these settings: whole epochs 1 … n with n ≤ epochs, an optimizer iteration count. */
function checkResume(resume: LoopState, totalEpochs: number): void {
  const n = resume.epochs.length;
  if (n > totalEpochs || resume.epochs.some((e, i) => e.epoch !== i + 1)) {
    throw new RangeError(`Cannot resume: the saved epochs (${n}) do not fit a ${totalEpochs}-epoch run`);
  }
  if (!Number.isInteger(resume.step) || resume.step < 0) throw new RangeError(`Cannot resume at step ${resume.step}`);
  if (resume.optimizerWeights.length === 0)
    throw new RangeError('Cannot resume without the optimizer state (its iteration count comes first)');
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
