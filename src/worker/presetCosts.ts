/**
 * What each preset costs on this device: a few timed training steps on the
 * backend that will train, so the page can say before Train how long a run
 * takes here, and pick a preset that fits a CPU. Bounded: a preset gets about
 * MEASURE_BUDGET_MS of timed steps (at least one) after its first, untimed
 * one, which compiles shaders and allocates and so says little of the rest.
 */
import { systemClock, type Clock } from '../clock';
import type { Dataset } from '../data/loader';
import type { Preset } from '../model/config';
import { buildModel } from '../model/model';
import { NUM_CLASSES } from '../data/format';
import { fillBatch } from '../train/batches';
import { presetDefaults } from '../run/settings';
import { loadBatch, stepShare, type ReplicaGroup } from '../train/replicas';
import { createOptimizer, createTrainStep, stepSettings, type TrainStep } from '../train/step';
import { resolveRecipe } from '../run/recipe';
import type { BackendInfo, FromWorker } from './protocol';

/** Timed steps stop once this much time has passed. Unit: ms. */
export const MEASURE_BUDGET_MS = 1500;
/** …or after this many steps (a fast device). */
export const MAX_MEASURE_STEPS = 20;

export interface StepCost {
  /** Training throughput, pauses and the first step excluded. Unit: images/s. */
  imagesPerSecond: number;
  /** Images per measured step. */
  batchSize: number;
  /** Steps timed after the first; 0 only when a run took the device before any was. */
  timedSteps: number;
}

/**
 * Times training steps of `preset` at `batchSize` on the current backend,
 * on the first images of the training set. `shouldStop` is asked between
 * steps (a run the user started takes precedence).
 */
export async function measureStepCost(
  preset: Preset,
  batchSize: number,
  data: Pick<Dataset, 'train' | 'manifest'>,
  opts: { clock?: Clock; shouldStop?: () => boolean; replicas?: ReplicaGroup } = {},
): Promise<StepCost> {
  const { clock = systemClock, shouldStop = () => false, replicas } = opts;
  const settings = { ...presetDefaults(preset), batchSize };
  // One output per class of the data set in use: its labels must fit the loss's one-hot rows.
  const classes = data.manifest.classes.length;
  const model = buildModel({ preset, color: 'rgb', seed: settings.seed, ...(classes === NUM_CLASSES ? {} : { classes }) });
  const recipe = resolveRecipe(settings);
  const optimizer = createOptimizer(recipe, 100);
  const stats = { mean: data.manifest.mean, std: data.manifest.std };
  const indices = Uint32Array.from({ length: Math.min(batchSize, data.train.labels.length) }, (_, i) => i);
  let step: TrainStep | null = null;
  /** One step, its loss read back: the time until the device has really finished it. */
  const timed = async (n: number) => {
    if (!step) throw new Error('No step to time');
    const start = clock.now();
    replicas?.step(n);
    const metrics = step.run(n);
    await metrics.data().finally(() => metrics.dispose());
    return clock.now() - start;
  };
  try {
    // Timed as a run would train: data-parallel where the run would be (the same batch every step).
    const link = replicas ? await replicas.start({ model, optimizer: optimizer.optimizer, settings, stats, totalSteps: 100 }) : null;
    step = createTrainStep({ model, optimizer: optimizer.optimizer, stats, ...stepSettings(settings, recipe), ...stepShare(link) });
    loadBatch(link, step, (x, y) => fillBatch(data.train.pixels, data.train.labels, indices, 0, batchSize, x, y));
    const first = await timed(0);
    let ms = 0;
    let steps = 0;
    while (steps < MAX_MEASURE_STEPS && ms < MEASURE_BUDGET_MS && !shouldStop()) ms += await timed(++steps);
    // Stopped before any steady step: the first one is all there is, an underestimate of the speed.
    if (steps === 0) return { imagesPerSecond: batchSize / (first / 1000), batchSize, timedSteps: 0 };
    return { imagesPerSecond: (steps * batchSize) / (ms / 1000), batchSize, timedSteps: steps };
  } finally {
    step?.dispose();
    await replicas?.end();
    optimizer.dispose();
    model.dispose();
  }
}

/**
 * Measures the presets the page asks for, one after another, and posts each
 * result. A training run takes precedence: `stop` ends the measuring between
 * two steps and resolves once the device is free.
 */
export class CostMeter {
  private stopping = false;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly post: (message: FromWorker) => void,
    /** The workers a run on this backend would train with, besides this one; null for none. */
    private readonly replicas: () => ReplicaGroup | null = () => null,
  ) {}

  measure(requests: { preset: Preset; batchSize: number }[], data: Dataset, backend: BackendInfo): void {
    this.running = this.running.then(async () => {
      for (const { preset, batchSize } of requests) {
        if (this.stopping) return;
        try {
          const replicas = this.replicas();
          const cost = await measureStepCost(preset, batchSize, data, {
            shouldStop: () => this.stopping,
            ...(replicas && batchSize % replicas.count === 0 ? { replicas } : {}),
          });
          this.post({ type: 'preset-cost', preset, cost: { preset, backend: backend.name, adapter: backend.adapter, ...cost } });
        } catch (error) {
          // An estimate is a nicety: the page shows none for this preset, and training is unaffected.
          console.warn(`Could not measure the ${preset} preset`, error);
          this.post({ type: 'preset-cost', preset, cost: null });
        }
      }
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
    this.stopping = false;
  }
}
