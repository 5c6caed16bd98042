/**
 * What a model is made of, as plain data: no TensorFlow.js here, so the page
 * can validate settings without loading it.
 */
import { SettingsError } from '../errors';

/** Colour modes a model can be trained in. */
export const COLOR_MODES = ['rgb', 'gray'] as const;
export type ColorMode = (typeof COLOR_MODES)[number];

export function inputChannels(color: ColorMode): 1 | 3 {
  return color === 'gray' ? 1 : 3;
}

/**
 * `seed`: the network of the Keras CIFAR-10 blog post we start from (three
 * VGG-style blocks of two 3×3 convolutions, 309 290 parameters).
 * `tiny`: two small blocks, 11 738 parameters, trains in seconds — for trying
 * the app out and for tests.
 */
export const PRESETS = ['tiny', 'seed'] as const;
export type Preset = (typeof PRESETS)[number];

/** Everything a model depends on; the same config always gives the same initial weights. */
export interface ModelConfig {
  preset: Preset;
  color: ColorMode;
  /** Integer 0 … 2³²−1; seeds the weight initialisers. */
  seed: number;
}

/** Checks a config at runtime (it may come from a URL or a saved run); unknown keys are errors. */
export function validateModelConfig(input: unknown): ModelConfig {
  const fields: Record<string, string> = {};
  if (typeof input !== 'object' || input === null) throw new SettingsError('A model config must be an object.', { config: 'Not an object' });
  const record = input as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!['preset', 'color', 'seed'].includes(key)) fields[key] = `Unknown model setting "${key}"`;
  }
  if (!PRESETS.includes(record.preset as Preset)) fields.preset = `Model must be one of: ${PRESETS.join(', ')}`;
  if (!COLOR_MODES.includes(record.color as ColorMode)) fields.color = `Colour must be one of: ${COLOR_MODES.join(', ')}`;
  const seed = record.seed;
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    fields.seed = 'Seed must be a whole number from 0 to 4294967295';
  }
  if (Object.keys(fields).length > 0) {
    throw new SettingsError(`Invalid model config: ${Object.keys(fields).join(', ')}`, fields);
  }
  return { preset: record.preset as Preset, color: record.color as ColorMode, seed: seed as number };
}

