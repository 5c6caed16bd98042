/**
 * Our own training loop instead of `model.fit`, so that we control what
 * crosses from the GPU to JavaScript and when (fit reads the loss back
 * synchronously after every batch), can pause and stop between steps, and
 * augment on the GPU.
 *
 * `trainModel` reads top to bottom: check and prepare, then epochs of steps
 * (each epoch validated, reported and checkpointed), then the test report.
 * Everything it tells the outside world goes through one sink; everything the
 * outside world tells it comes through one RunControl.
 */
import * as tf from '@tensorflow/tfjs';
import type { ChannelStats } from '../data/preprocess';
import { setModelWeights } from '../model/model';
import { SettingsError } from '../errors';
import { epochOrder, fillBatch, trainBatchesPerEpoch } from './batches';
import { RunControl } from './control';
import { earlyStopping, type EarlyStoppingDecision } from './earlyStopping';
import { checkModelInput, evaluate } from './evaluate';
import { fitWhitening } from './fitWhitening';
import type { BatchMetrics, EpochRecord, StopReason, Subset, TrainResult } from '../run/records';
import { resolveRecipe, type Recipe } from '../run/recipe';
import type { Settings } from '../run/settings';
import { elapsedSeconds } from '../run/timeToAccuracy';
import { createOptimizer, createTrainStep, stepSettings, type ScheduledOptimizer, type TrainStep } from './step';
import { MetricReader, READ_EVERY } from './metricReader';
import { loadBatch, stepShare, type ReplicaGroup, type ReplicaLink } from './replicas';

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

/** What the loop reports, in order. */
export type TrainEvent =
  | { type: 'metrics'; metrics: BatchMetrics }
  | { type: 'epoch-end'; record: EpochRecord }
  /**
   * After every epoch's 'epoch-end': everything needed to continue the run
   * later. The loop awaits the sink here; the state's tensors are live and
   * change with the next step, so read them before resolving and keep none.
   */
  | { type: 'checkpoint'; state: LoopState }
  /**
   * A new run is about to take its first step, its whitening fitted (not sent
   * for a resumed run): the model's weights now are where a run handed over
   * before any epoch ends starts elsewhere. Read them before resolving.
   */
  | { type: 'start' };

export type TrainSink = (event: TrainEvent) => void | Promise<void>;

export interface TrainOptions {
  /** A model from `buildModel` whose colour matches `settings.color`; trained in place. */
  model: tf.LayersModel;
  /** validationShare, trainLimit and testLimit are already applied to `data` by the caller. */
  settings: Settings;
  /** `val` or `test` may be empty: validation (and so early stopping) or the test report is skipped. */
  data: { train: Subset; val: Subset; test: Subset };
  /** Training-set channel statistics, 0–255 scale (the manifest's `mean` and `std`). */
  stats: ChannelStats;
  sink?: TrainSink;
  /** Pause, resume and stop, and the run's clock; a fresh one (never paused, system clock) by default. */
  control?: RunControl;
  /** Steps between metric reads; defaults to READ_EVERY. */
  readEvery?: number;
  /**
   * Continue an interrupted run: the caller has already put the checkpoint's
   * weights into `model`; the loop restores the optimizer (iteration count
   * included), the history, early stopping's state and the step counter.
   * Its tensors are read, not kept: the caller disposes them afterwards.
   */
  resume?: LoopState;
  /**
   * Train data-parallel with these other workers (replicas.ts): each step's
   * batch is split across them and the gradients averaged. Validation,
   * checkpoints and the test report stay in this worker.
   */
  replicas?: ReplicaGroup;
}

export async function trainModel(opts: TrainOptions): Promise<TrainResult> {
  const { model, settings, data, stats, resume } = opts;
  const sink = opts.sink ?? (() => {});
  const control = opts.control ?? new RunControl();
  const batchesPerEpoch = checkOptions(opts);
  const recipe = resolveRecipe(settings);
  // A resumed model already holds the whitening it trained with (it is part of its weights).
  if (recipe.whitening && !resume) await fitWhitening(model, data.train, stats, settings.color, recipe.whitening);
  const optimizer = createOptimizer(recipe, settings.epochs * batchesPerEpoch);
  const evalOptions = { color: settings.color, stats, flipTestTime: recipe.flipTestTime };
  const hasVal = data.val.indices.length > 0;
  const best = new BestEpoch(model, settings.patience, settings.patience > 0 && hasVal);
  const epochs: EpochRecord[] = resume ? [...resume.epochs] : [];
  let training: Training | null = null;
  let stopReason: StopReason = resume?.stopped ? 'early-stopping' : 'completed';
  // Time to accuracy counts from Train: a resumed run adds its time to the checkpoint's (the gap between is not counted).
  const elapsedBefore = resume ? (elapsedSeconds(resume.epochs).at(-1) ?? 0) : 0;

  try {
    if (resume) {
      // Adam's bias correction and every moment estimate continue where they were.
      await optimizer.optimizer.setWeights(resume.optimizerWeights);
      best.resume(resume.epochs, resume.bestWeights);
    }
    training = await startTraining(opts, recipe, optimizer, batchesPerEpoch, sink, control);
    if (!resume) await sink({ type: 'start' });
    const first = resume?.stopped ? settings.epochs + 1 : epochs.length + 1;
    for (let epoch = first; epoch <= settings.epochs; epoch++) {
      const start = control.now();
      const trained = await trainEpoch(training, epoch);
      if (!trained) {
        stopReason = 'user';
        break;
      }
      // Before validation and the checkpoint: both see every replica's statistics, and the copies are checked equal.
      await training.replicas?.group.sync(model);
      const val = hasVal ? await evaluate(model, data.val, evalOptions) : null;
      const decision: EarlyStoppingDecision | null = val ? best.update(val.loss) : null;
      const record: EpochRecord = {
        epoch,
        trainLoss: trained.loss,
        trainAccuracy: trained.accuracy,
        valLoss: val?.loss ?? null,
        valAccuracy: val?.accuracy ?? null,
        seconds: (control.now() - start) / 1000,
        imagesPerSecond: (batchesPerEpoch * settings.batchSize) / trained.seconds,
        best: decision?.improved ?? false,
        elapsedSeconds: elapsedBefore + control.elapsed() / 1000,
        images: epoch * batchesPerEpoch * settings.batchSize,
      };
      epochs.push(record);
      await sink({ type: 'epoch-end', record });
      const stop = decision?.stop ?? false;
      await checkpoint(sink, optimizer.optimizer, {
        epochs: epochs.slice(),
        step: training.step,
        bestWeights: best.savedFor(epoch),
        stopped: stop,
      });
      if (stop) {
        stopReason = 'early-stopping';
        break;
      }
    }

    const restoredBestWeights = best.restore(epochs.length);
    const test = data.test.indices.length > 0 ? await evaluate(model, data.test, { ...evalOptions, keepPredictions: true }) : null;
    return { epochs, bestEpoch: best.bestEpoch, stopReason, restoredBestWeights, steps: training.step, test };
  } finally {
    training?.reader.dispose();
    training?.yielder.close();
    training?.trainStep.dispose();
    await opts.replicas?.end();
    best.dispose();
    optimizer.dispose();
  }
}

/** What every epoch's steps share; `step` counts on across epochs. */
interface Training {
  settings: Settings;
  data: Subset;
  batchesPerEpoch: number;
  sink: TrainSink;
  control: RunControl;
  optimizer: ScheduledOptimizer;
  trainStep: TrainStep;
  /** The other workers training with this one, and this one's link to them; null when it trains alone. */
  replicas: { group: ReplicaGroup; link: ReplicaLink } | null;
  reader: MetricReader;
  yielder: Yielder;
  step: number;
}

/**
 * The step, its reader and, where the run has them, the other replicas,
 * started from the weights as they are now: after whitening and resume.
 */
async function startTraining(
  opts: TrainOptions,
  recipe: Readonly<Recipe>,
  optimizer: ScheduledOptimizer,
  batchesPerEpoch: number,
  sink: TrainSink,
  control: RunControl,
): Promise<Training> {
  const { model, settings, stats, data, resume } = opts;
  const group = opts.replicas;
  const totalSteps = settings.epochs * batchesPerEpoch;
  const link = group ? await group.start({ model, optimizer: optimizer.optimizer, settings, stats, totalSteps }) : null;
  return {
    settings,
    data: data.train,
    batchesPerEpoch,
    sink,
    control,
    optimizer,
    trainStep: createTrainStep({ model, optimizer: optimizer.optimizer, stats, ...stepSettings(settings, recipe), ...stepShare(link) }),
    replicas: group && link ? { group, link } : null,
    step: resume?.step ?? 0,
    reader: new MetricReader(control, opts.readEvery ?? READ_EVERY),
    yielder: createYielder(),
  };
}

/** One pass over the training images in this epoch's order; null when the user stopped it. */
async function trainEpoch(run: Training, epoch: number): Promise<{ loss: number; accuracy: number; seconds: number } | null> {
  const { settings, data, batchesPerEpoch, trainStep, reader } = run;
  const start = run.control.now();
  const order = epochOrder(data.indices, epoch, settings.seed);
  reader.startEpoch();
  const report = async (batchInEpoch: number) => {
    const read = await reader.read(run.step, settings.batchSize);
    if (read) await run.sink({ type: 'metrics', metrics: { step: run.step, epoch, batchInEpoch, batchesPerEpoch, ...read } });
  };

  for (let batch = 0; batch < batchesPerEpoch; batch++) {
    if (await run.control.beforeStep()) {
      await report(batch);
      return null;
    }
    run.optimizer.setStep(run.step);
    loadBatch(run.replicas?.link ?? null, trainStep, (x, y) =>
      fillBatch(data.pixels, data.labels, order, batch * settings.batchSize, settings.batchSize, x, y),
    );
    // Only once the whole batch is in shared memory: the other replicas take their rows when told.
    run.replicas?.group.step(run.step);
    reader.push(trainStep.run(run.step));
    run.step++;
    if (reader.due()) await report(batch + 1);
    // Let the worker handle pause and stop messages between steps.
    await run.yielder.next();
  }
  await report(batchesPerEpoch);
  return { ...reader.epochMeans(), seconds: (run.control.now() - start) / 1000 };
}

/** Hands the sink the state to save, then drops the one tensor of it that is ours. */
async function checkpoint(sink: TrainSink, optimizer: tf.Optimizer, state: Omit<LoopState, 'optimizerWeights'>): Promise<void> {
  const optimizerWeights = await optimizer.getWeights();
  try {
    await sink({ type: 'checkpoint', state: { ...state, optimizerWeights } });
  } finally {
    // getWeights() returns the optimizer's own variables plus a fresh scalar holding its iteration count: only that one is ours.
    tf.dispose(optimizerWeights.filter((w) => !(w.tensor instanceof tf.Variable)).map((w) => w.tensor));
  }
}

/**
 * Early stopping's memory: the validation losses so far and, when the best
 * weights may have to be restored, a copy of them (BatchNorm running
 * statistics included: they are part of what was best).
 */
class BestEpoch {
  private readonly valLosses: number[] = [];
  private weights: tf.Tensor[] | null = null;
  bestEpoch: number | null = null;

  constructor(
    private readonly model: tf.LayersModel,
    private readonly patience: number,
    /** Keep copies at all: only when early stopping is on and there is validation. */
    private readonly keep: boolean,
  ) {}

  /** Continues from a checkpoint: its epochs, and its best weights when they differ from the model's. */
  resume(epochs: EpochRecord[], saved: tf.Tensor[] | null): void {
    for (const e of epochs) if (e.valLoss !== null) this.valLosses.push(e.valLoss);
    if (this.valLosses.length === 0) return;
    this.bestEpoch = earlyStopping(this.valLosses, this.patience).bestEpoch;
    if (!this.keep || this.bestEpoch === null) return;
    this.weights = this.bestEpoch === epochs.length ? this.snapshot() : saved ? tf.tidy(() => saved.map((w) => w.clone())) : null;
  }

  /** After validating the next epoch. */
  update(valLoss: number): EarlyStoppingDecision {
    this.valLosses.push(valLoss);
    const decision = earlyStopping(this.valLosses, this.patience);
    this.bestEpoch = decision.bestEpoch;
    if (decision.improved && this.keep) {
      if (this.weights) tf.dispose(this.weights);
      this.weights = this.snapshot();
    }
    return decision;
  }

  /** The best weights for a checkpoint after `epoch`; null when they are the model's own. */
  savedFor(epoch: number): tf.Tensor[] | null {
    return this.bestEpoch !== epoch ? this.weights : null;
  }

  /** Puts the best epoch's weights back when a later epoch was worse; true when it did. */
  restore(lastEpoch: number): boolean {
    if (!this.weights || this.bestEpoch === lastEpoch) return false;
    // setWeights shares the copy's data with the variables (reference counted), so disposing the copy later is safe.
    setModelWeights(this.model, this.weights);
    return true;
  }

  dispose(): void {
    if (this.weights) tf.dispose(this.weights);
    this.weights = null;
  }

  private snapshot(): tf.Tensor[] {
    // getWeights() returns the variables' own tensors, which the optimizer overwrites: clone.
    return tf.tidy(() => this.model.getWeights().map((w) => w.clone()));
  }
}

/** Checks what would otherwise fail mid-run; returns the steps per epoch. */
function checkOptions({ model, settings, data, readEvery, resume }: TrainOptions): number {
  if (readEvery !== undefined && !(Number.isInteger(readEvery) && readEvery >= 1)) {
    throw new RangeError(`readEvery must be a whole number ≥ 1, got ${readEvery}`);
  }
  checkModelInput(model, settings.color);
  const batchesPerEpoch = trainBatchesPerEpoch(data.train.indices.length, settings.batchSize);
  if (batchesPerEpoch === 0) {
    const n = data.train.indices.length;
    throw new SettingsError(`Batch size ${settings.batchSize} is larger than the ${n} training images`, {
      batchSize: `Batch size must be at most the number of training images (${n})`,
    });
  }
  if (resume) checkResume(resume, settings.epochs);
  return batchesPerEpoch;
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

interface Yielder {
  next(): Promise<void>;
  close(): void;
}

/**
 * Resolves on a later macrotask, so that messages queued for the worker
 * (pause, stop) are handled between steps. setTimeout(0) would do, but
 * browsers clamp nested timeouts to ≥ 4 ms (HTML spec, timer nesting level
 * > 5): ~3 s per 700-step epoch. MessageChannel messages are not clamped.
 * Node (tests, scripts) gets setImmediate instead: it drains a port's messages
 * in one go, including ones posted meanwhile, which would starve its timers.
 */
function createYielder(): Yielder {
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
