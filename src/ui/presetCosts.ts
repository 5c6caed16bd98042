/**
 * What each preset would cost on this device, before Train: the measured
 * throughput (src/worker/presetCosts.ts), what it means for an epoch and a
 * run, and which preset to offer first on a CPU. Pure, so it is tested
 * without a worker, a clock or storage.
 */
import { PRESETS, type Preset } from '../model/config';
import { presetDefaults } from '../train/settings';
import type { BackendName, PresetCost } from '../worker/protocol';

/** Backends that run on the CPU: a preset's cost decides which one a user should start with. */
export const CPU_CLASS: readonly BackendName[] = ['wasm', 'cpu'];

/** A run of the default length should finish within this on a CPU-class backend. Unit: s. */
export const CPU_RUN_BUDGET_S = 15 * 60;

/** Largest measuring batch on a CPU-class backend, where images/s hardly depends on the batch. Unit: images. */
const CPU_PROBE_BATCH = 64;

/** Presets from the most to the least capable (the order to try when picking one that fits). */
const BY_CAPABILITY: readonly Preset[] = ['fast', 'seed', 'tiny'];

/**
 * Test accuracy each preset reached in the README's measured runs on this
 * project's test machine (no GPU); null where no full run was measured.
 */
export const MEASURED_ACCURACY: Readonly<Record<Preset, { accuracy: number; run: string } | null>> = Object.freeze({
  tiny: { accuracy: 0.6, run: '10 epochs, 45,000 images, WASM' },
  seed: null,
  fast: null,
});

/** The batch a preset is measured at: its own, capped on a CPU, where one big batch would take many seconds. */
export function probeBatch(preset: Preset, backend: BackendName): number {
  const batch = presetDefaults(preset).batchSize;
  return CPU_CLASS.includes(backend) ? Math.min(batch, CPU_PROBE_BATCH) : batch;
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
 * The most capable preset whose `epochs` epochs fit in `budgetSeconds` at
 * the measured speeds; the cheapest one when none fits. Null until every
 * preset is settled (measured, or found unmeasurable).
 */
export function fittingPreset(
  costs: Partial<Record<Preset, PresetCost | null>>,
  trainImages: number,
  { epochs = 10, budgetSeconds = CPU_RUN_BUDGET_S } = {},
): Preset | null {
  if (PRESETS.some((p) => costs[p] === undefined)) return null;
  const measured = BY_CAPABILITY.filter((p) => costs[p]);
  const runSeconds = (p: Preset) => epochs * epochSeconds(costs[p] as PresetCost, trainImages, presetDefaults(p).batchSize);
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
