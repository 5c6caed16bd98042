/**
 * What each preset would cost on this device, before Train: the measured
 * throughput (src/worker/presetCosts.ts), what it means for an epoch and a
 * run, and which preset to offer first on a CPU. Pure, so it is tested
 * without a worker, a clock or storage.
 */
import { PRESETS, type Preset } from '../model/config';
import { presetDefaults } from '../run/settings';
import type { BackendName, PresetCost } from '../worker/protocol';

/** Backends that run on the CPU: a preset's cost decides which one a user should start with. */
export const CPU_CLASS: readonly BackendName[] = ['wasm', 'cpu'];

/** A run of the default length should finish within this on a CPU-class backend. Unit: s. */
export const CPU_RUN_BUDGET_S = 15 * 60;

/**
 * Largest measuring batch on a CPU-class backend. Unit: images. On WASM a
 * preset is measured at its own batch up to 256: quick's images/s at 64 (32
 * per worker) fall short of what its batch of 256 gets, and the choice of
 * preset hangs on them; fast's 512 would take seconds a step. The plain
 * JavaScript backend takes seconds for a batch of 64 already.
 */
const CPU_PROBE_BATCH: Readonly<Partial<Record<BackendName, number>>> = Object.freeze({ wasm: 256, cpu: 64 });

/** Presets from the most to the least capable (the order to try when picking one that fits). */
const BY_CAPABILITY: readonly Preset[] = ['fast', 'quick', 'seed', 'tiny'];

/** A full run of a preset measured on this project's test machine (2 cores, no GPU), as the README reports it. */
export interface MeasuredRun {
  /** Test accuracy on all 10,000 test images. Unit: fraction. */
  accuracy: number;
  /** What ran, as typed: the figure can be measured again. */
  command: string;
  /** When (UTC, yyyy-mm-dd). */
  date: string;
  /**
   * Training images seen when the validation accuracy first reached 80 %
   * (the run's `timeToAccuracy`); null where the run never reached it. It
   * does not depend on the machine, so images/s measured here turn it into
   * minutes here.
   */
  imagesTo80: number | null;
  /**
   * Who took the steps: the tab, or PyTorch (python/cifar_tab) training the
   * tab's run from its first step, which reproduces the tab's steps to 1e-4
   * (a run too long for this machine's tab).
   */
  trainedBy: 'tab' | 'pytorch';
}

/** The "good model" level of the cost table and the README's time-to-accuracy tables. Unit: fraction. */
export const GOOD_ACCURACY = 0.8;

/** Each preset's measured run; null where none was measured to its end. */
export const MEASURED_RUNS: Readonly<Record<Preset, MeasuredRun | null>> = Object.freeze({
  // README, "Learning parity": seeds 1 and 2, one and two workers, 61.8–62.8 %; this is seed 1 with two workers.
  tiny: {
    accuracy: 0.6222,
    command: 'npm run train -- --preset tiny --epochs 10 --backend wasm --seed 1',
    date: '2026-12-02',
    imagesTo80: null,
    trainedBy: 'tab',
  },
  // README, "How good, how soon": the blog's recipe to early stopping after 32 epochs (best validation loss after 29).
  seed: {
    accuracy: 0.8162,
    command: 'npm run train -- --preset seed --backend wasm --epochs 200 --patience 3 --seed 1',
    date: '2026-12-07',
    imagesTo80: 1_034_816,
    trainedBy: 'tab',
  },
  // README, "The quick preset": its own recipe, 9 epochs, on WASM with two workers, 848 s from Train to the test report.
  quick: {
    accuracy: 0.8553,
    command: 'npm run train -- --preset quick --backend wasm',
    date: '2026-12-07',
    imagesTo80: 224_000,
    trainedBy: 'tab',
  },
  // README, "The fast preset": all 10 epochs would take ~3 h in this machine's tab, so PyTorch trained the
  // tab's run from its first step; 80 % validation accuracy after epoch 3 (3 × 87 steps of 512 images).
  fast: {
    accuracy: 0.8833,
    command:
      'npm run train -- --preset fast --backend wasm --seed 1 --stop-after 0 --handover start.zip, then python -m cifar_tab.train --from start.zip',
    date: '2026-12-07',
    imagesTo80: 133_632,
    trainedBy: 'pytorch',
  },
});

/**
 * Minutes until a preset's model is GOOD_ACCURACY right on this device: its
 * measured images to that accuracy at the images/s measured here (training
 * only: validation and set-up add to it). Null where it was never reached
 * or not measured, or this device's speed is unknown.
 */
export function minutesToGood(run: MeasuredRun | null, cost: Pick<PresetCost, 'imagesPerSecond'> | null | undefined): number | null {
  if (!run || run.imagesTo80 === null || !cost || !(cost.imagesPerSecond > 0)) return null;
  return run.imagesTo80 / cost.imagesPerSecond / 60;
}

/** The batch a preset is measured at: its own, capped on a CPU, where one big batch would take many seconds. */
export function probeBatch(preset: Preset, backend: BackendName): number {
  const batch = presetDefaults(preset).batchSize;
  const cap = CPU_PROBE_BATCH[backend];
  return cap === undefined ? batch : Math.min(batch, cap);
}

/** Training images a run uses: the stratified split of `total` (ten classes of equal size), or `trainLimit`. */
export function trainImagesFor(settings: { validationShare: number; trainLimit: number }, total: number): number {
  const perClass = total / 10;
  const full = total - 10 * Math.round(perClass * settings.validationShare);
  return settings.trainLimit > 0 ? Math.min(settings.trainLimit, full) : full;
}

/** One epoch's training at the measured speed (full batches only, as the loop trains). Unit: s. */
export function epochSeconds(cost: Pick<PresetCost, 'imagesPerSecond'>, trainImages: number, batchSize: number): number {
  return (Math.floor(trainImages / batchSize) * batchSize) / cost.imagesPerSecond;
}

/**
 * The most capable preset whose run of its default length (its own epochs
 * and batch) fits in `budgetSeconds` at the measured speeds; the cheapest one
 * when none fits. Null until every preset is settled (measured, or found
 * unmeasurable).
 */
export function fittingPreset(
  costs: Partial<Record<Preset, PresetCost | null>>,
  trainImages: number,
  { budgetSeconds = CPU_RUN_BUDGET_S } = {},
): Preset | null {
  if (PRESETS.some((p) => costs[p] === undefined)) return null;
  const measured = BY_CAPABILITY.filter((p) => costs[p]);
  const runSeconds = (p: Preset) => {
    const { epochs, batchSize } = presetDefaults(p);
    return epochs * epochSeconds(costs[p] as PresetCost, trainImages, batchSize);
  };
  return measured.find((p) => runSeconds(p) <= budgetSeconds) ?? measured.at(-1) ?? null;
}

/** Measured costs kept between visits, per device and backend: where they are stored (localStorage in the page). */
export type CostStore = Pick<Storage, 'getItem' | 'setItem'>;

const cacheKey = (backend: BackendName, adapter: string, preset: Preset, batchSize: number) =>
  `cifar10-in-a-tab:cost:v1:${backend}:${adapter}:${preset}:${batchSize}`;

export function storeCost(store: CostStore, cost: PresetCost): void {
  store.setItem(cacheKey(cost.backend, cost.adapter, cost.preset, cost.batchSize), JSON.stringify(cost));
}

/** The stored cost of `preset` on this backend and adapter at its measuring batch; undefined when there is none (or it is damaged). */
export function cachedCost(store: CostStore, backend: BackendName, adapter: string, preset: Preset): PresetCost | undefined {
  const text = store.getItem(cacheKey(backend, adapter, preset, probeBatch(preset, backend)));
  if (!text) return undefined;
  try {
    const cost = JSON.parse(text) as Partial<PresetCost>;
    const valid = cost.preset === preset && typeof cost.imagesPerSecond === 'number' && cost.imagesPerSecond > 0;
    return valid ? (cost as PresetCost) : undefined;
  } catch {
    return undefined;
  }
}
