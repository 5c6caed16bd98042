/**
 * The hand-over format: one run leaving the tab to continue elsewhere (the
 * Python package in python/, PyTorch under torchrun) and coming back. A folder
 * (or a zip of it) with
 *
 *   <stem>.json, <stem>.weights.bin   the TensorFlow.js Layers model (toModelFiles)
 *   optimizer.weights.bin             the optimizer's slots (Adam's moments, SGD's momentum)
 *   run.json                          a RunFile: everything else about the run
 *
 * python/README.md documents the same format for the Python side. Pure: no
 * TensorFlow.js at run time.
 */
import { ModelFileError } from '../errors';
import { ANY_CLASSES, classListRule, isClassList } from '../data/manifest';
import type { ColorMode, Preset } from '../model/config';
import type { BatchMetrics, EpochRecord } from '../run/records';
import { resolveRecipe, type Recipe } from '../run/recipe';
import { parseSettings, type Settings } from '../run/settings';

export const RUN_FILE_FORMAT = 'cifar10-in-a-tab/run';
export const RUN_FILE_VERSION = 1;
export const RUN_FILE_NAME = 'run.json';
export const OPTIMIZER_FILE_NAME = 'optimizer.weights.bin';

/** Where a range of epochs ran; the page marks the boundaries on the curves. */
export interface RunSegment {
  /** First and last epoch trained there, 1-based, inclusive. */
  fromEpoch: number;
  toEpoch: number;
  /** Optimizer steps done when the segment began and ended. */
  fromStep: number;
  toStep: number;
  /** `tfjs`: in a tab (or Node); `torch`: the Python package. */
  engine: 'tfjs' | 'torch';
  /** tfjs: its backend (webgpu, webgl, wasm, cpu); torch: the process group's (gloo, nccl). */
  backend: string;
  /** Processes that trained together: DDP's world size; in a tab, the workers that shared each batch (WASM), else 1. */
  worldSize: number;
  /** `browser` or `node` for tfjs; torch's device type (`cpu`, `cuda`). */
  device: string;
  /** Free text for people: versions, adapter, host. */
  detail: string;
  /** When the segment's last epoch ended. Unit: ms since 1970. */
  endedAt: number;
}

/** Slot names as TensorFlow.js suffixes them: Adam's first and second moments, SGD's momentum accumulator. */
export const OPTIMIZER_SLOTS = ['m', 'v', 'momentum'] as const;
export type OptimizerSlotName = (typeof OPTIMIZER_SLOTS)[number];

export interface OptimizerSlot {
  /** The model weight it belongs to, by its name in model.json (e.g. `conv1/kernel`). */
  weight: string;
  slot: OptimizerSlotName;
  /** Same as the weight's shape (TensorFlow.js layout: kernels HWIO, dense [in, out]). */
  shape: number[];
}

/** The optimizer's state and hyperparameters, exactly as the tab's optimizer had them. */
export interface OptimizerState {
  /** `adam` (settings.optimizer `adam`), `momentum` (`sgd`, and the `fast` recipe with nesterov). */
  kind: 'adam' | 'momentum';
  /** Steps the optimizer has applied (Adam's bias correction depends on it). */
  iterations: number;
  /** Adam: β₁, β₂ and ε (ε is the backend's: 1e-7, or 1e-4 on WebGL without float32 textures). */
  beta1: number | null;
  beta2: number | null;
  epsilon: number | null;
  /** momentum: its coefficient and whether it is Nesterov's. */
  momentum: number | null;
  nesterov: boolean;
  /** File in the same folder: the slots' float32 values, little-endian, one after another in `slots` order. */
  file: string;
  slots: OptimizerSlot[];
}

export interface RunFile {
  format: typeof RUN_FILE_FORMAT;
  version: typeof RUN_FILE_VERSION;
  /** Stays the same wherever the run goes, so the library can show one run. */
  runId: string;
  preset: Preset;
  color: ColorMode;
  seed: number;
  /** The whole run's settings; `epochs` is the total planned so far. */
  settings: Settings;
  /**
   * What the settings make of the optimizer, schedule, augmentation, loss
   * and evaluation (resolveRecipe, src/run/recipe.ts): the PyTorch side
   * trains with this, never with the preset's name. Must equal what the
   * settings resolve to; files from before it existed get it on import.
   */
  recipe: Recipe;
  /** Output index → class name, and the training-set statistics the inputs are standardised with (0–255, R, G, B). */
  classes: string[];
  mean: [number, number, number];
  std: [number, number, number];
  /** The model.json file in the same folder. */
  model: string;
  /** Epochs done; the next one is epochsDone + 1. */
  epochsDone: number;
  /** Optimizer steps done; step-seeded randomness (augmentation) and the schedule continue from here. */
  step: number;
  /** Early stopping had ended the run. */
  stopped: boolean;
  /** null: continue with a fresh optimizer (a real difference for Adam; see python/README.md). */
  optimizer: OptimizerState | null;
  curves: { epochs: EpochRecord[]; steps: BatchMetrics[] };
  segments: RunSegment[];
}

/**
 * The slots of `optimizer.getWeights()` (iteration count first, then e.g.
 * `conv1/kernel_1/m`, … `/v`) named after the model's weights. A slot is
 * named after its variable, and tfjs-layers makes a variable's name unique by
 * suffixing it (`conv1/kernel_1`) when another model in the page used the
 * layer names; a slot restored from a checkpoint keeps the suffix of the
 * session that saved it (`dense/kernel_3/m` beside a variable now called
 * `dense/kernel_1`). So the suffix is dropped before looking the weight up by
 * its original name (Keras weight names — kernel, bias, gamma, beta — never
 * end in `_<digits>` themselves), and the shape must match. Not by position:
 * the optimizer keeps slots only for the variables it updated (the `fast`
 * preset's BatchNorm scales, fixed at 1, have none).
 */
export function optimizerSlots(
  weights: readonly { name: string; shape: readonly number[] }[],
  trainable: readonly { originalName: string; shape: readonly (number | null)[] }[],
): OptimizerSlot[] {
  const [iter, ...rest] = weights;
  if (!iter || iter.name !== 'iter') throw new RangeError('The optimizer state must start with its iteration count ("iter")');
  const byName = new Map(trainable.map((w) => [w.originalName, w]));
  return rest.map(({ name, shape }): OptimizerSlot => {
    const cut = name.lastIndexOf('/');
    const slot = name.slice(cut + 1) as OptimizerSlotName;
    const weight = byName.get(name.slice(0, cut).replace(/_\d+$/, ''));
    const fits = weight !== undefined && shape.length === weight.shape.length && shape.every((n, d) => n === weight.shape[d]);
    if (!OPTIMIZER_SLOTS.includes(slot) || !fits) {
      throw new RangeError(`Optimizer slot "${name}" [${shape.join(', ')}] belongs to no trainable weight of the model`);
    }
    return { weight: weight.originalName, slot, shape: [...shape] };
  });
}

/** Refuses anything that is not a RunFile this version can continue or show. */
export function parseRunFile(json: unknown): RunFile {
  const fail = (why: string): never => {
    throw new ModelFileError(`run.json is not a run of this app: ${why}.`);
  };
  if (!isRecord(json)) return fail('not a JSON object');
  if (json.format !== RUN_FILE_FORMAT) fail(`"format" must be "${RUN_FILE_FORMAT}"`);
  if (json.version !== RUN_FILE_VERSION) fail(`version ${String(json.version)} is not ${RUN_FILE_VERSION}`);
  if (typeof json.runId !== 'string' || !/^[\w-]{1,64}$/.test(json.runId)) fail('"runId" must be a short name');
  let settings: Settings;
  try {
    settings = parseSettings(isRecord(json.settings) ? (json.settings as Record<string, string | number | boolean>) : {});
  } catch (error) {
    return fail(`its settings are invalid (${(error as Error).message})`);
  }
  if (!isRecord(json.settings)) fail('"settings" is missing');
  if (json.preset !== settings.preset || json.color !== settings.color || json.seed !== settings.seed) {
    fail('"preset", "color" and "seed" must equal the settings\'');
  }
  const triple = (v: unknown) => Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number' && Number.isFinite(x));
  if (!isClassList(json.classes, ANY_CLASSES)) fail(classListRule(ANY_CLASSES));
  if (!triple(json.mean) || !triple(json.std) || (json.std as number[]).some((s) => s <= 0)) fail('"mean" and "std" need 3 numbers each');
  if (typeof json.model !== 'string' || !/^[\w.-]+\.json$/.test(json.model)) fail('"model" must name a .json file beside it');
  const epochsDone = wholeOrFail(json.epochsDone, '"epochsDone"', fail);
  wholeOrFail(json.step, '"step"', fail);
  if (epochsDone > settings.epochs) fail(`${epochsDone} epochs done of ${settings.epochs} planned`);
  if (typeof json.stopped !== 'boolean') fail('"stopped" must be true or false');
  if (json.optimizer !== null) checkOptimizer(json.optimizer, fail);
  const curves = json.curves;
  if (!isRecord(curves) || !Array.isArray(curves.epochs) || !Array.isArray(curves.steps)) fail('"curves" needs "epochs" and "steps"');
  const epochs = (curves as { epochs: unknown[] }).epochs;
  if (epochs.length !== epochsDone || epochs.some((e, i) => !isRecord(e) || e.epoch !== i + 1)) {
    fail(`"curves.epochs" must hold epochs 1 … ${epochsDone}`);
  }
  checkSegments(json.segments, epochsDone, fail);
  const recipe = resolveRecipe(settings);
  if (json.recipe !== undefined && !sameJson(json.recipe, recipe)) {
    fail(`"recipe" is not what its settings make: ${JSON.stringify(recipe)}`);
  }
  return { ...(json as unknown as RunFile), recipe };
}

/** Equal as JSON values, whatever the order of object keys (Python's json keeps its own). */
function sameJson(a: unknown, b: unknown): boolean {
  if (isRecord(a) && isRecord(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => k in b && sameJson(a[k], b[k]));
  }
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  return a === b;
}

function checkOptimizer(value: unknown, fail: (why: string) => never): void {
  if (!isRecord(value) || (value.kind !== 'adam' && value.kind !== 'momentum')) return fail('"optimizer.kind" must be adam or momentum');
  wholeOrFail(value.iterations, '"optimizer.iterations"', fail);
  if (typeof value.file !== 'string' || !/^[\w.-]+\.bin$/.test(value.file)) fail('"optimizer.file" must name a .bin file beside it');
  const slots = value.slots;
  const validSlot = (s: unknown) =>
    isRecord(s) &&
    typeof s.weight === 'string' &&
    OPTIMIZER_SLOTS.includes(s.slot as OptimizerSlotName) &&
    Array.isArray(s.shape) &&
    s.shape.every((d) => Number.isInteger(d) && (d as number) >= 0);
  if (!Array.isArray(slots) || !slots.every(validSlot)) fail('"optimizer.slots" is malformed');
}

function checkSegments(value: unknown, epochsDone: number, fail: (why: string) => never): void {
  if (!Array.isArray(value)) return fail('"segments" must be a list');
  let next = 1;
  for (const s of value) {
    const valid =
      isRecord(s) &&
      (s.engine === 'tfjs' || s.engine === 'torch') &&
      s.fromEpoch === next &&
      Number.isInteger(s.toEpoch) &&
      (s.toEpoch as number) >= next &&
      Number.isInteger(s.worldSize) &&
      (s.worldSize as number) >= 1 &&
      typeof s.backend === 'string' &&
      typeof s.device === 'string';
    if (!valid) fail(`segment ${JSON.stringify(s)} does not continue at epoch ${next}`);
    next = (s as { toEpoch: number }).toEpoch + 1;
  }
  if (next !== epochsDone + 1) fail(`the segments cover ${next - 1} epochs, not ${epochsDone}`);
}

function wholeOrFail(value: unknown, what: string, fail: (why: string) => never): number {
  if (!Number.isInteger(value) || (value as number) < 0) fail(`${what} must be a whole number`);
  return value as number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
