/**
 * One optimizer step on one batch, and the optimizer it steps with. This is
 * THE training step of `trainModel`; the benchmark (src/bench) times it on its
 * own. Measurements behind its choices: docs/benchmarks.md.
 */
import * as tf from '@tensorflow/tfjs';
import { IMAGE, PIXELS_PER_IMAGE } from '../data/format';
import { STREAMS, mixSeed } from '../data/random';
import { toModelInput, type ChannelStats } from '../data/preprocess';
import type { ColorMode } from '../model/config';
import { MAX_SHIFT, type Recipe } from '../run/recipe';
import { augmentBatch, augmentParams, type AugmentParams } from './augment';
import { applyForTraining } from './forward';
import { FusedAdam, FusedMomentum } from './fusedOptimizers';
import { BATCH_INPUT, batchInput, paramsRows } from '../kernels/input/webgpu';
import { CROSS_ENTROPY, crossEntropyMetrics, crossEntropyObjective } from '../kernels/loss/cross-entropy';
import { DeviceSlot } from '../kernels/backend/device-slot';
import { stepTakes } from '../kernels/register';
import { allReduceMean, shareOf, type ReplicaLink } from './replicas';
import { warmupDecayRate } from './schedule';
import type { Settings } from '../run/settings';

/**
 * Probabilities are clipped to [CE_EPSILON, 1] before the log, exactly like
 * Keras's cross-entropy on softmax outputs (its backend epsilon), so one
 * confidently wrong image costs at most −ln 1e−7 ≈ 16 instead of ∞.
 */
export const CE_EPSILON = 1e-7;

/** An optimizer with the learning rate of each step: constant, or the recipe's warm-up and decay. */
export interface ScheduledOptimizer {
  readonly optimizer: tf.Optimizer;
  /** Sets the rate of optimizer step `step` (0-based); a no-op for a constant rate. */
  setStep(step: number): void;
  dispose(): void;
}

/**
 * The optimizer a run of `totalSteps` steps trains with, as its recipe says:
 * Adam or momentum SGD (Nesterov's or not), at a constant rate or on a
 * warm-up/decay schedule. Both are tfjs's, with one fused update per variable
 * where the backend has one (fusedOptimizers.ts). Adam's ε is the backend's
 * (1e-7 in float32), as tf.train.adam's.
 */
export function createOptimizer(recipe: Pick<Recipe, 'optimizer' | 'schedule'>, totalSteps: number): ScheduledOptimizer {
  const { optimizer: spec, schedule } = recipe;
  const rateAt = (step: number) => (schedule.kind === 'constant' ? schedule.rate : warmupDecayRate(step, totalSteps, schedule));
  const optimizer =
    spec.kind === 'adam' ? new FusedAdam(rateAt(0), spec.beta1, spec.beta2) : new FusedMomentum(rateAt(0), spec.momentum, spec.nesterov);
  const setStep = schedule.kind === 'constant' ? () => {} : (step: number) => optimizer.setLearningRate(rateAt(step));
  return { optimizer, setStep, dispose: () => disposeOptimizer(optimizer) };
}

/**
 * optimizer.dispose(), plus the learning-rate scalar that tfjs 4.22's
 * MomentumOptimizer.dispose() forgets (SGDOptimizer keeps it in `c`).
 */
function disposeOptimizer(optimizer: tf.Optimizer): void {
  optimizer.dispose();
  if (optimizer instanceof tf.MomentumOptimizer) (optimizer as unknown as { c?: tf.Tensor }).c?.dispose();
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
    // Scaled after the fact: tfjs-backend-wasm 4.22's OneHot writes zeros for on/off values that are not whole numbers.
    const target = tf.add(tf.mul(tf.oneHot(labels, classes), 1 - labelSmoothing), labelSmoothing / classes);
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
   * BatchNorm as one closed-form-gradient op per layer (../kernels/batchnorm/closed-form.ts) instead
   * of tfjs-layers' op-by-op autodiff; same numbers, fewer kernels. Defaults
   * to true; false is for the benchmark's A/B.
   */
  closedFormBatchNorm?: boolean;
  /**
   * Train as one of several data-parallel replicas (replicas.ts): `batchSize`
   * is then this replica's share of the link's batch, its augmentation is its
   * rows of the whole batch's, and the gradients are averaged across the
   * replicas before the optimizer applies them. CPU backends only: every step
   * reads the gradients back.
   */
  replica?: ReplicaLink;
}

/** The step's options from the run's recipe, and the colour and seed of its settings. */
export function stepSettings(
  settings: Pick<Settings, 'color' | 'seed'>,
  recipe: Readonly<Recipe>,
): Pick<TrainStepOptions, 'batchSize' | 'color' | 'augment' | 'seed' | 'maxShift' | 'labelSmoothing' | 'weightDecay'> {
  return {
    batchSize: recipe.batchSize,
    color: settings.color,
    augment: recipe.augment,
    seed: settings.seed,
    maxShift: recipe.maxShift,
    labelSmoothing: recipe.labelSmoothing,
    weightDecay: recipe.weightDecay,
  };
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
  /** Lets go of what the step keeps on the device between steps (WebGPU's batch buffers). */
  dispose(): void;
}

/**
 * The batch as the model sees it: standardised, flipped and shifted. On
 * WebGPU one kernel of ours reads the pixels, labels and augmentation from
 * buffers that stay on the device (kernels/input/webgpu.ts); elsewhere the
 * pixels are wrapped as a new tensor each step and go through tfjs ops.
 */
function batchFeed(opts: TrainStepOptions, x: Float32Array, y: Int32Array) {
  const { batchSize, color, stats, augment } = opts;
  const maxShift = opts.maxShift ?? MAX_SHIFT;
  const paramsOf = (step: number) => stepAugmentation(opts, step);
  const shape: [number, number, number, number] = [batchSize, IMAGE.height, IMAGE.width, IMAGE.channels];
  const fused = stepTakes(BATCH_INPUT);
  if (!fused) {
    return {
      // Wraps x without a copy; backends upload it in the first op, and the
      // tensor dies with the step's tidy, before the buffer is refilled.
      input(step: number): { input: tf.Tensor4D; labels: tf.Tensor1D } {
        const normalized = toModelInput(tf.tensor4d(x, shape), { color, ...stats });
        const input = augment ? augmentBatch(normalized, paramsOf(step), maxShift) : normalized;
        return { input, labels: tf.tensor1d(y, 'int32') };
      },
      dispose() {},
    };
  }
  const slots = {
    x: new DeviceSlot(shape, 'float32'),
    y: new DeviceSlot([batchSize], 'int32'),
    params: new DeviceSlot([batchSize, 3], 'int32'),
  };
  const rows = new Int32Array(batchSize * 3); // stays zeros (no flip, no shift) without augmentation
  return {
    input(step: number): { input: tf.Tensor4D; labels: tf.Tensor1D } {
      if (augment) paramsRows(paramsOf(step), rows);
      const params = slots.params.write(rows) as tf.Tensor2D;
      return { input: batchInput(slots.x.write(x) as tf.Tensor4D, params, color, stats), labels: slots.y.write(y) as tf.Tensor1D };
    },
    dispose() {
      for (const slot of Object.values(slots)) slot.dispose();
    },
  };
}

/** The flips and shifts of step `step` for this worker's rows: a replica takes its rows of the whole batch's. */
function stepAugmentation(opts: TrainStepOptions, step: number): AugmentParams {
  const maxShift = opts.maxShift ?? MAX_SHIFT;
  const link = opts.replica;
  if (!link) return augmentParams(step, opts.seed, opts.batchSize, maxShift);
  const all = augmentParams(step, opts.seed, link.batchSize, maxShift);
  const first = link.index * opts.batchSize;
  const rows = (a: Uint8Array | Int8Array) => a.slice(first, first + opts.batchSize);
  return { flip: rows(all.flip) as Uint8Array, dx: rows(all.dx) as Int8Array, dy: rows(all.dy) as Int8Array };
}

/** No shader warm-up before the first step: it did not bring the first step sooner (docs/benchmarks.md). */
export function createTrainStep(opts: TrainStepOptions): TrainStep {
  const { model, optimizer, batchSize, seed, replica } = opts;
  if (replica && shareOf(replica.batchSize, replica.count) !== batchSize) {
    throw new RangeError(`A replica of ${replica.count} trains ${replica.batchSize / replica.count} images per step, not ${batchSize}`);
  }
  const labelSmoothing = opts.labelSmoothing ?? 0;
  const weightDecay = opts.weightDecay ?? 0;
  // Every replica takes its rows of the whole batch's dropout masks: one worker and two drop the same elements.
  const dropoutPart = replica?.index ?? 0;
  const forward =
    (opts.closedFormBatchNorm ?? true)
      ? (t: tf.Tensor, step: number) => applyForTraining(model, t, { dropoutSeed: mixSeed(seed, STREAMS.dropout, step), dropoutPart })
      : (t: tf.Tensor, _step: number) => model.apply(t, { training: true }) as tf.Tensor;
  // Passed explicitly: without a list, minimize() updates every trainable
  // variable in the engine, including those of other models in this tab.
  const trainable = model.trainableWeights.map((w) => w.read() as tf.Variable);
  // originalName, not name: a model built after another with the same layer names has conv1/kernel_1.
  const decayed = model.trainableWeights.filter((w) => w.originalName.endsWith('/kernel')).map((w) => w.read() as tf.Variable);
  // Reused by every step: one batch of floats, never a whole split.
  const x = new Float32Array(batchSize * PIXELS_PER_IMAGE);
  const y = new Int32Array(batchSize);
  const feed = batchFeed(opts, x, y);
  // dL/dL, the seed of every backward pass; see minimize.
  const one = tf.keep(tf.scalar(1));
  const fusedLoss = stepTakes(CROSS_ENTROPY);
  const run = (step: number): tf.Tensor1D =>
    tf.tidy(() => {
      const { input, labels } = feed.input(step);
      // The metrics come from the same forward pass; kept so they survive
      // minimize()'s inner tidy.
      let metrics: tf.Tensor1D | undefined;
      minimize(
        optimizer,
        () => {
          // training: true makes BatchNorm use batch statistics (and update its
          // running averages) and Dropout drop.
          const probs = forward(input, step) as tf.Tensor2D;
          const losses = batchLosses(probs, labels, labelSmoothing, fusedLoss);
          metrics = tf.keep(losses.metrics);
          if (weightDecay === 0) return losses.objective;
          return tf.add(losses.objective, tf.mul(weightDecay / 2, tf.addN(decayed.map((w) => tf.sum(tf.square(w)))))) as tf.Scalar;
        },
        trainable,
        one,
        replica
          ? (grads) => {
              const averaged = averageAcrossReplicas(replica, grads, metrics as tf.Tensor1D);
              metrics?.dispose();
              metrics = averaged.metrics;
              return averaged.grads;
            }
          : null,
      );
      return metrics as tf.Tensor1D;
    });
  return {
    x,
    y,
    run,
    dispose: () => {
      feed.dispose();
      one.dispose();
    },
  };
}

/**
 * optimizer.minimize(f, false, trainable), seeding the backward pass with a
 * 1 kept on the device: tfjs makes `ones([])` from a JS number in every
 * minimize(), a new GPU buffer per step on WebGPU. Every variable keeps its
 * place in the list (a null gradient included), as the optimizers' slots
 * are paired with variables by position.
 */
function minimize(
  optimizer: tf.Optimizer,
  f: () => tf.Scalar,
  trainable: tf.Variable[],
  one: tf.Scalar,
  reduce: ((grads: tf.Tensor[]) => tf.Tensor[]) | null,
): void {
  const { value, grads } = tf.engine().gradients(f, trainable, one, true);
  const applied = reduce ? reduce(grads) : grads;
  optimizer.applyGradients(trainable.map((v, i) => ({ name: v.name, tensor: applied[i] as tf.Tensor })));
  tf.dispose([value, ...grads.filter((g): g is tf.Tensor => g != null)]);
  if (applied !== grads) tf.dispose(applied);
}

/** The mean of every replica's gradients and metrics, as new tensors in place of this replica's own. */
function averageAcrossReplicas(link: ReplicaLink, grads: tf.Tensor[], metrics: tf.Tensor1D): { grads: tf.Tensor[]; metrics: tf.Tensor1D } {
  // A variable the loss does not reach has no gradient (null) in every replica alike.
  const present = grads.filter((g): g is tf.Tensor => g != null);
  const params = present.reduce((n, g) => n + g.size, 0);
  if (params !== link.params) throw new RangeError(`The model has ${params} trainable values; the replicas' link expects ${link.params}`);
  const mean = allReduceMean(link, (slot) => {
    let offset = 0;
    for (const g of present) {
      slot.set(g.dataSync() as Float32Array, offset);
      offset += g.size;
    }
    slot.set(metrics.dataSync() as Float32Array, offset);
  });
  let at = 0;
  // Views of the shared mean: the wasm backend copies them into its heap, the cpu backend keeps the view. Either
  // way the gradients die in this step's minimize(), before any replica writes the next mean.
  const averaged = grads.map((g) => {
    if (!g) return g;
    const values = mean.subarray(at, at + g.size);
    at += g.size;
    return tf.tensor(values, g.shape, 'float32');
  });
  return { grads: averaged, metrics: tf.tensor1d(mean.slice(params)) };
}

/**
 * The objective minimised (cross-entropy, with label smoothing where the
 * recipe has it) and the metrics reported ([plain cross-entropy, comparable
 * with the validation loss; accuracy]). On WebGPU two kernels of ours
 * (kernels/loss/cross-entropy.ts) instead of ~22 tfjs dispatches.
 */
function batchLosses(
  probs: tf.Tensor2D,
  labels: tf.Tensor1D,
  labelSmoothing: number,
  fused: boolean,
): { metrics: tf.Tensor1D; objective: tf.Scalar } {
  if (fused) {
    return {
      metrics: crossEntropyMetrics(probs, labels, CE_EPSILON),
      objective: crossEntropyObjective(probs, labels, labelSmoothing, CE_EPSILON),
    };
  }
  const plain = crossEntropy(probs, labels);
  const accuracy = tf.mean(tf.cast(tf.equal(tf.argMax(probs, 1), labels), 'float32'));
  const objective = labelSmoothing > 0 ? crossEntropy(probs, labels, labelSmoothing) : plain;
  return { metrics: tf.stack([plain, accuracy]) as tf.Tensor1D, objective };
}
