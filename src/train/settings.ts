import { COLOR_MODES, PRESETS, presetRecipe, type ColorMode, type ModelConfig, type Preset } from '../model/config';
import { SettingsError } from '../errors';

/** `sgd` is SGD with momentum 0.9 (see `SGD_MOMENTUM` in loop.ts). */
export const OPTIMIZERS = ['adam', 'sgd'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

export interface Settings {
  preset: Preset;
  color: ColorMode;
  epochs: number;
  batchSize: number;
  learningRate: number;
  optimizer: OptimizerName;
  augment: boolean;
  validationShare: number;
  patience: number;
  seed: number;
  trainLimit: number;
  testLimit: number;
}

/** Every training knob, with its default. The URL only carries the ones that differ from these. */
export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze({
  /** Network architecture, one of PRESETS (`seed` = the blog's ≈309k-parameter CNN). */
  preset: 'seed',
  /** Input colour: `rgb` (3 channels) or `gray` (1 channel, BT.601 luma). */
  color: 'rgb',
  /** Passes over the training images; an upper bound when early stopping is on. Unit: epochs. */
  epochs: 10,
  /** Images per optimizer step; larger is faster per image on a GPU but needs more memory. Unit: images. */
  batchSize: 64,
  /** Step size of the optimizer. Unit: dimensionless (Adam's default 0.001). */
  learningRate: 0.001,
  /**
   * `adam` (Kingma & Ba 2015, β = 0.9 / 0.999) or `sgd` (with momentum 0.9).
   * Adam's extra kernels per step cost nothing measurable next to the
   * convolutions (seed, batch 16, SwiftShader WebGPU: 10.9 s per step, SGD
   * 12.1 s, within the noise), so the default stays the blog's Adam.
   */
  optimizer: 'adam',
  /** Random horizontal flips and shifts of up to 4 pixels on every training batch. Unit: on/off. */
  augment: true,
  /** Part of the 50 000 training images held out (stratified) to measure progress. Unit: fraction, 0–0.5. */
  validationShare: 0.1,
  /** Stop after this many epochs without a lower validation loss, then restore the best weights. Unit: epochs; 0 = never stop early. */
  patience: 3,
  /** Seeds the split, the sample, the weights, the shuffles and the augmentation. Unit: integer 0 … 2³²−1. */
  seed: 1,
  /** Train on a stratified sample of this many images (after holding out validation). Unit: images; 0 = all. */
  trainLimit: 0,
  /** Evaluate on a stratified sample of this many test images. Unit: images; 0 = all 10,000. */
  testLimit: 0,
});

export const SETTING_KEYS = Object.freeze(Object.keys(DEFAULT_SETTINGS) as (keyof Settings)[]);

type Raw = string | number | boolean;

/** Each field's converter: returns the typed value, or a message a user understands. */
const FIELDS: { [K in keyof Settings]: (raw: Raw) => Settings[K] | { error: string } } = {
  preset: oneOf(PRESETS, `Model must be one of: ${PRESETS.join(', ')}`),
  color: oneOf(COLOR_MODES, 'Colour must be rgb or gray'),
  epochs: wholeNumber(1, 1000, 'Epochs must be a whole number from 1 to 1000'),
  batchSize: wholeNumber(1, 1024, 'Batch size must be a whole number from 1 to 1024'),
  learningRate: (raw) => {
    const n = toNumber(raw);
    return n !== null && n > 0 && n <= 1 ? n : { error: 'Learning rate must be a number greater than 0 and at most 1' };
  },
  optimizer: oneOf(OPTIMIZERS, 'Optimizer must be adam or sgd'),
  augment: (raw) => toBoolean(raw) ?? { error: 'Augmentation must be on or off (true or false)' },
  validationShare: (raw) => {
    const n = toNumber(raw);
    return n !== null && n >= 0 && n <= 0.5 ? n : { error: 'Validation share must be a number from 0 to 0.5' };
  },
  patience: wholeNumber(0, 100, 'Patience must be a whole number from 0 (off) to 100'),
  seed: wholeNumber(0, 0xffffffff, 'Seed must be a whole number from 0 to 4294967295'),
  trainLimit: wholeNumber(0, Number.MAX_SAFE_INTEGER, 'Training image limit must be a whole number (0 = all images)'),
  testLimit: wholeNumber(0, Number.MAX_SAFE_INTEGER, 'Test image limit must be a whole number (0 = all images)'),
};

/**
 * Settings from a form, a URL query or a saved run. Missing fields take their
 * default; strings are converted ('32' → 32, 'on' → true). All problems are
 * reported at once in ONE SettingsError whose `fields` maps field → message.
 */
export function parseSettings(input: Readonly<Record<string, Raw>>): Settings {
  const fields: Record<string, string> = {};
  const settings: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  for (const [key, raw] of Object.entries(input)) {
    if (!Object.hasOwn(FIELDS, key)) {
      fields[key] = `Unknown setting "${key}"`;
      continue;
    }
    const value = FIELDS[key as keyof Settings](raw);
    if (typeof value === 'object') fields[key] = value.error;
    else settings[key] = value;
  }
  const bad = Object.keys(fields);
  if (bad.length > 0) {
    throw new SettingsError(`${bad.length === 1 ? 'One setting is' : `${bad.length} settings are`} invalid: ${bad.join(', ')}`, fields);
  }
  if (!Object.hasOwn(input, 'batchSize')) settings.batchSize = presetDefaults(settings.preset as Preset).batchSize;
  return settings as unknown as Settings;
}

/** The defaults of every field but `preset` when `preset` is chosen: DEFAULT_SETTINGS, except where its recipe has its own (`fast`: batch size 512). */
export function presetDefaults(preset: Preset): Readonly<Settings> {
  const recipe = presetRecipe(preset);
  return recipe ? { ...DEFAULT_SETTINGS, batchSize: recipe.batchSize } : DEFAULT_SETTINGS;
}

/** The settings that differ from the defaults, for a shareable URL; `parseSettings` reads it back. */
export function settingsToQuery(settings: Settings): URLSearchParams {
  const query = new URLSearchParams();
  const defaults = presetDefaults(settings.preset);
  for (const key of SETTING_KEYS) {
    if (settings[key] !== defaults[key]) query.set(key, String(settings[key]));
  }
  return query;
}

export function settingsFromQuery(query: URLSearchParams): Settings {
  return parseSettings(Object.fromEntries(query));
}

export function toModelConfig(settings: Settings): ModelConfig {
  return { preset: settings.preset, color: settings.color, seed: settings.seed };
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

function wholeNumber(min: number, max: number, error: string): (raw: Raw) => number | { error: string } {
  return (raw) => {
    const n = toNumber(raw);
    return n !== null && Number.isInteger(n) && n >= min && n <= max ? n : { error };
  };
}

function oneOf<T extends string>(allowed: readonly T[], error: string): (raw: Raw) => T | { error: string } {
  return (raw) => (allowed.includes(raw as T) ? (raw as T) : { error });
}
