/**
 * Every knob of a training run, specified once: its type and bounds, its
 * default (per preset where a preset brings its own), its label, help text
 * and options. Parsing (form, URL, CLI, saved runs), the settings form, the
 * URL parameters and `npm run train --help` are all driven by SETTINGS_SPEC,
 * and a SettingsError's `fields` name the same keys, so the form can
 * highlight them wherever the error was raised.
 */
import {
  FAST_RECIPE,
  PRESET_RECIPES,
  QUICK_EPOCHS,
  QUICK_RECIPE,
  type ColorMode,
  type ModelConfig,
  type Preset,
  type RecipeName,
} from '../model/config';
import { NUM_CLASSES } from '../data/format';
import { SettingsError } from '../errors';

/** `sgd` is SGD with momentum 0.9 (see `SGD_MOMENTUM` in step.ts). */
export const OPTIMIZERS = ['adam', 'sgd'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

export interface Settings {
  preset: Preset;
  color: ColorMode;
  epochs: number;
  batchSize: number;
  learningRate: number;
  optimizer: OptimizerName;
  recipe: RecipeName;
  augment: boolean;
  validationShare: number;
  patience: number;
  seed: number;
  trainLimit: number;
  testLimit: number;
}

export type SettingKey = keyof Settings;

interface FieldCommon<T> {
  /** The form's label, also the subject of every error message about the field. */
  label: string;
  /** One line under the field (and in `--help`): what the value means. */
  help: string;
  default: T;
  /** Where a preset's own recipe has another default (`fast` trains at batch 512). */
  presetDefaults?: Partial<Record<Preset, T>>;
}

/** A whole number in [min, max]; `zero` says what 0 means where it is special. */
export interface IntegerSpec extends FieldCommon<number> {
  kind: 'integer';
  min: number;
  max: number;
  unit: string;
  zero?: string;
}

/** A number in (min, max] when `minExclusive`, else [min, max]. */
export interface NumberSpec extends FieldCommon<number> {
  kind: 'number';
  min: number;
  minExclusive?: boolean;
  max: number;
  unit: string;
}

export interface ChoiceSpec<T extends string> extends FieldCommon<T> {
  kind: 'choice';
  /** In the order the form lists them. */
  options: readonly { value: T; label: string }[];
}

export interface SwitchSpec extends FieldCommon<boolean> {
  kind: 'switch';
}

/** The spec a field of type T must have (the tuple stops TypeScript from splitting a union of choices). */
export type FieldSpec<T> = [T] extends [boolean] ? SwitchSpec : [T] extends [number] ? IntegerSpec | NumberSpec : ChoiceSpec<T & string>;

export const SETTINGS_SPEC: { readonly [K in SettingKey]: Readonly<FieldSpec<Settings[K]>> } = Object.freeze({
  preset: {
    kind: 'choice',
    label: 'Model',
    help: 'tiny: two small conv blocks, for trying things out. seed: the Keras blog CNN (6 conv layers, 0.3M weights). quick: a whitened 0.3M-weight net with its own recipe, sized for 15 minutes on a CPU. fast: a 2M-weight net with its own recipe (see Recipe), made for batch 512 on a real GPU.',
    default: 'seed',
    options: [
      { value: 'seed', label: 'seed — the blog CNN' },
      { value: 'tiny', label: 'tiny — a first try' },
      { value: 'quick', label: 'quick — 15 minutes on a CPU' },
      { value: 'fast', label: 'fast — whitened, own recipe' },
    ],
  },
  color: {
    kind: 'choice',
    label: 'Colour',
    help: 'Grayscale uses ITU-R BT.601 luma (1 input channel instead of 3).',
    default: 'rgb',
    options: [
      { value: 'rgb', label: 'RGB' },
      { value: 'gray', label: 'Grayscale' },
    ],
  },
  epochs: {
    kind: 'integer',
    label: 'Epochs',
    help: 'passes over the training set; an upper bound when early stopping is on',
    unit: 'epochs',
    min: 1,
    max: 1000,
    default: 10,
    presetDefaults: { quick: QUICK_EPOCHS },
  },
  batchSize: {
    kind: 'integer',
    label: 'Batch size',
    help: 'images per step; larger is faster per image on a GPU but needs more memory',
    unit: 'images',
    min: 1,
    max: 1024,
    default: 64,
    presetDefaults: { quick: QUICK_RECIPE.batchSize, fast: FAST_RECIPE.batchSize },
  },
  learningRate: {
    kind: 'number',
    label: 'Learning rate',
    help: "step size of the optimizer (Adam's default 0.001)",
    unit: 'dimensionless',
    min: 0,
    minExclusive: true,
    max: 1,
    default: 0.001,
  },
  optimizer: {
    kind: 'choice',
    label: 'Optimizer',
    help: 'Adam (Kingma & Ba 2015, β = 0.9 / 0.999), as in the blog, or SGD with momentum 0.9',
    default: 'adam',
    options: [
      { value: 'adam', label: 'Adam' },
      { value: 'sgd', label: 'SGD + momentum' },
    ],
  },
  recipe: {
    kind: 'choice',
    label: 'Recipe',
    help: "blog: the optimizer and learning rate above, constant, as the Keras blog trains. tuned: the preset's own (its optimizer warmed up, then decayed to zero by the last epoch; weight decay, label smoothing, flip TTA; ignores optimizer and learning rate; turn early stopping off so the schedule runs to its end). seed has both, tiny only blog, quick and fast only tuned.",
    default: 'blog',
    presetDefaults: { quick: 'tuned', fast: 'tuned' },
    options: [
      { value: 'blog', label: 'blog — constant rate' },
      { value: 'tuned', label: 'tuned — schedule and regularisers' },
    ],
  },
  augment: {
    kind: 'switch',
    label: 'Augmentation',
    help: 'random flips and shifts of up to 4 px on every training batch, on the GPU',
    default: true,
  },
  validationShare: {
    kind: 'number',
    label: 'Validation share',
    help: 'fraction of training images held out to measure progress, same share per class',
    unit: 'fraction',
    min: 0,
    max: 0.5,
    default: 0.1,
  },
  patience: {
    kind: 'integer',
    label: 'Early-stopping patience',
    help: 'epochs without a lower validation loss before stopping (the best weights are restored)',
    unit: 'epochs',
    min: 0,
    max: 100,
    zero: 'off',
    default: 3,
    // quick's schedule decays to zero at its last epoch: stopping earlier would cut it short.
    presetDefaults: { quick: 0 },
  },
  seed: {
    kind: 'integer',
    label: 'Seed',
    help: 'for the split, the sample, the weights, the shuffles and the augmentation',
    unit: 'integer',
    min: 0,
    max: 0xffffffff,
    default: 1,
  },
  trainLimit: {
    kind: 'integer',
    label: 'Training images',
    help: 'use only this many (a stratified sample, after the validation hold-out)',
    unit: 'images',
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    zero: 'all',
    default: 0,
  },
  testLimit: {
    kind: 'integer',
    label: 'Test images',
    help: 'evaluate on this many (a stratified sample) of the 10,000',
    unit: 'images',
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    zero: 'all',
    default: 0,
  },
});

export const SETTING_KEYS = Object.freeze(Object.keys(SETTINGS_SPEC) as SettingKey[]);

/** The defaults of every field when `preset` is chosen. */
export function presetDefaults(preset: Preset): Readonly<Settings> {
  const entries = SETTING_KEYS.map((key) => {
    const spec = SETTINGS_SPEC[key] as FieldCommon<unknown>;
    return [key, key === 'preset' ? preset : (spec.presetDefaults?.[preset] ?? spec.default)];
  });
  return Object.freeze(Object.fromEntries(entries) as unknown as Settings);
}

/** Every knob's default. The URL only carries the settings that differ from their preset's defaults. */
export const DEFAULT_SETTINGS: Readonly<Settings> = presetDefaults(SETTINGS_SPEC.preset.default);

type Raw = string | number | boolean;

/**
 * Settings from a form, a URL query, the command line or a saved run. Missing
 * fields take their preset's default; strings are converted ('32' → 32,
 * 'on' → true). All problems are reported at once in ONE SettingsError whose
 * `fields` maps field → message.
 */
export function parseSettings(input: Readonly<Record<string, Raw>>): Settings {
  const fields: Record<string, string> = {};
  const given: Partial<Record<SettingKey, unknown>> = {};
  for (const [key, raw] of Object.entries(input)) {
    if (!Object.hasOwn(SETTINGS_SPEC, key)) {
      fields[key] = `Unknown setting "${key}"`;
      continue;
    }
    const spec = SETTINGS_SPEC[key as SettingKey] as AnySpec;
    const value = parseField(spec, raw);
    if (value === undefined) fields[key] = fieldError(spec);
    else given[key as SettingKey] = value;
  }
  const settings = { ...presetDefaults((given.preset as Preset | undefined) ?? DEFAULT_SETTINGS.preset), ...given } as Settings;
  const recipes = PRESET_RECIPES[settings.preset];
  if (!fields.preset && !fields.recipe && !recipes.includes(settings.recipe)) {
    fields.recipe = `${settings.preset} trains with the ${recipes.join(' or ')} recipe only`;
  }
  const bad = Object.keys(fields);
  if (bad.length > 0) {
    throw new SettingsError(`${bad.length === 1 ? 'One setting is' : `${bad.length} settings are`} invalid: ${bad.join(', ')}`, fields);
  }
  return settings;
}

export type AnySpec = IntegerSpec | NumberSpec | ChoiceSpec<string> | SwitchSpec;

/** The typed value, or undefined when `raw` is not one the field accepts. */
function parseField(spec: AnySpec, raw: Raw): number | string | boolean | undefined {
  switch (spec.kind) {
    case 'integer': {
      const n = toNumber(raw);
      return n !== null && Number.isInteger(n) && n >= spec.min && n <= spec.max ? n : undefined;
    }
    case 'number': {
      const n = toNumber(raw);
      return n !== null && (spec.minExclusive ? n > spec.min : n >= spec.min) && n <= spec.max ? n : undefined;
    }
    case 'choice':
      return spec.options.some((o) => o.value === raw) ? (raw as string) : undefined;
    case 'switch':
      return toBoolean(raw) ?? undefined;
  }
}

/** What a user is told when a field's value is refused. */
export function fieldError(spec: AnySpec): string {
  switch (spec.kind) {
    case 'integer': {
      return spec.max === Number.MAX_SAFE_INTEGER
        ? `${spec.label} must be a whole number from ${spec.min} up${spec.zero ? ` (0 = ${spec.zero})` : ''}`
        : `${spec.label} must be a whole number from ${spec.min}${spec.zero ? ` (${spec.zero})` : ''} to ${spec.max}`;
    }
    case 'number':
      return spec.minExclusive
        ? `${spec.label} must be a number greater than ${spec.min} and at most ${spec.max}`
        : `${spec.label} must be a number from ${spec.min} to ${spec.max}`;
    case 'choice':
      return `${spec.label} must be one of: ${spec.options.map((o) => o.value).join(', ')}`;
    case 'switch':
      return `${spec.label} must be on or off (true or false)`;
  }
}

/** The settings that differ from their preset's defaults, for a shareable URL; `parseSettings` reads it back. */
export function settingsToQuery(settings: Settings): URLSearchParams {
  const query = new URLSearchParams();
  const defaults = { ...presetDefaults(settings.preset), preset: DEFAULT_SETTINGS.preset };
  for (const key of SETTING_KEYS) {
    if (settings[key] !== defaults[key]) query.set(key, String(settings[key]));
  }
  return query;
}

export function settingsFromQuery(query: URLSearchParams): Settings {
  return parseSettings(Object.fromEntries(query));
}

/**
 * The network a run trains: its settings' preset, colour and seed, with one
 * output per class of its data set (`classes` written only when it is not
 * CIFAR-10's 10, so CIFAR-10 runs keep the configs they always had).
 */
export function toModelConfig(settings: Settings, classes: number = NUM_CLASSES): ModelConfig {
  const config: ModelConfig = { preset: settings.preset, color: settings.color, seed: settings.seed };
  return classes === NUM_CLASSES ? config : { ...config, classes };
}

/**
 * Plain decimal or exponent notation only: `Number()` would also accept '',
 * ' ', '0x10' and 'Infinity', none of which a user means as a setting.
 */
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

function toNumber(raw: Raw): number | null {
  if (typeof raw === 'boolean') return null;
  const n = typeof raw === 'number' ? raw : NUMBER.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
  return Number.isFinite(n) ? n : null;
}

function toBoolean(raw: Raw): boolean | null {
  if (typeof raw === 'boolean') return raw;
  const text = String(raw).trim().toLowerCase();
  if (['true', '1', 'on', 'yes'].includes(text)) return true;
  if (['false', '0', 'off', 'no'].includes(text)) return false;
  return null;
}
