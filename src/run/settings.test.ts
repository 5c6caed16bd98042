import { describe, expect, it } from 'vitest';
import { SettingsError } from '../errors';
import { COLOR_MODES, PRESETS, QUICK_EPOCHS } from '../model/config';
import {
  DEFAULT_SETTINGS,
  OPTIMIZERS,
  SETTINGS_SPEC,
  SETTING_KEYS,
  parseSettings,
  presetDefaults,
  settingsFromQuery,
  settingsToQuery,
  toModelConfig,
} from './settings';

type Input = Record<string, string | number | boolean>;

/** The SettingsError that `parseSettings(input)` throws; fails the test if it does not throw one. */
function settingsError(input: Input): SettingsError {
  try {
    parseSettings(input);
  } catch (error) {
    expect(error).toBeInstanceOf(SettingsError);
    return error as SettingsError;
  }
  throw new Error(`parseSettings accepted ${JSON.stringify(input)}`);
}

const badFields = (input: Input) => settingsError(input).fields;

describe('DEFAULT_SETTINGS', () => {
  it('is frozen and has the documented values', () => {
    expect(Object.isFrozen(DEFAULT_SETTINGS)).toBe(true);
    expect(DEFAULT_SETTINGS).toEqual({
      preset: 'seed',
      color: 'rgb',
      epochs: 10,
      batchSize: 64,
      learningRate: 0.001,
      optimizer: 'adam',
      recipe: 'blog',
      augment: true,
      validationShare: 0.1,
      patience: 3,
      seed: 1,
      trainLimit: 0,
      testLimit: 0,
    });
  });

  it('passes its own validation', () => {
    expect(parseSettings({ ...DEFAULT_SETTINGS })).toEqual(DEFAULT_SETTINGS);
  });
});

describe('parseSettings', () => {
  it('fills missing fields with defaults', () => {
    expect(parseSettings({})).toEqual(DEFAULT_SETTINGS);
    expect(parseSettings({ epochs: 3 })).toEqual({ ...DEFAULT_SETTINGS, epochs: 3 });
  });

  it('converts strings from URLs and forms', () => {
    const s = parseSettings({ batchSize: '32', learningRate: '1e-2', validationShare: ' 0.2 ', augment: 'off', preset: 'tiny', seed: '0' });
    expect(s).toMatchObject({ batchSize: 32, learningRate: 0.01, validationShare: 0.2, augment: false, preset: 'tiny', seed: 0 });
    for (const on of ['true', '1', 'on', 'ON', 'yes', true, 1]) expect(parseSettings({ augment: on }).augment).toBe(true);
    for (const off of ['false', '0', 'off', 'no', false, 0]) expect(parseSettings({ augment: off }).augment).toBe(false);
  });

  it('refuses batch size 0 with a message for people', () => {
    expect(badFields({ batchSize: 0 })).toEqual({ batchSize: 'Batch size must be a whole number from 1 to 1024' });
    expect(badFields({ batchSize: 1025 })).toHaveProperty('batchSize');
    expect(badFields({ batchSize: '32.5' })).toHaveProperty('batchSize');
    expect(parseSettings({ batchSize: 1024 }).batchSize).toBe(1024);
  });

  it('refuses a zero, negative or huge learning rate', () => {
    expect(badFields({ learningRate: -0.01 })).toHaveProperty('learningRate');
    expect(badFields({ learningRate: 0 })).toHaveProperty('learningRate');
    expect(badFields({ learningRate: 1.5 })).toHaveProperty('learningRate');
    expect(parseSettings({ learningRate: 1 }).learningRate).toBe(1);
  });

  it('refuses 1e9 epochs and 0 epochs', () => {
    expect(badFields({ epochs: 1e9 })).toEqual({ epochs: 'Epochs must be a whole number from 1 to 1000' });
    expect(badFields({ epochs: '0' })).toHaveProperty('epochs');
    expect(parseSettings({ epochs: '1000' }).epochs).toBe(1000);
  });

  it('refuses an unknown preset, colour or optimizer', () => {
    expect(badFields({ preset: 'resnet' })).toEqual({ preset: 'Model must be one of: seed, tiny, quick, fast' });
    expect(badFields({ color: 'sepia' })).toHaveProperty('color');
    expect(badFields({ optimizer: 'rmsprop' })).toHaveProperty('optimizer');
  });

  it('refuses text that is not a number, and number-like traps', () => {
    for (const bad of ['abc', '', ' ', '0x10', 'Infinity', '12px', 'NaN']) {
      expect(badFields({ epochs: bad })).toHaveProperty('epochs');
    }
    expect(badFields({ epochs: Number.NaN })).toHaveProperty('epochs');
    expect(badFields({ epochs: true })).toHaveProperty('epochs');
    expect(badFields({ augment: 'maybe' })).toHaveProperty('augment');
  });

  it('says what 0 means where it is special', () => {
    expect(badFields({ patience: 101 })).toEqual({ patience: 'Early-stopping patience must be a whole number from 0 (off) to 100' });
    expect(badFields({ trainLimit: -1 })).toEqual({ trainLimit: 'Training images must be a whole number from 0 up (0 = all)' });
    expect(badFields({ validationShare: 1 })).toEqual({ validationShare: 'Validation share must be a number from 0 to 0.5' });
    expect(badFields({ learningRate: 0 })).toEqual({ learningRate: 'Learning rate must be a number greater than 0 and at most 1' });
  });

  it('refuses an unknown key', () => {
    expect(badFields({ epoch: 3 })).toEqual({ epoch: 'Unknown setting "epoch"' });
  });

  it('checks the bounds of validation share, patience, seed and train limit', () => {
    expect(badFields({ validationShare: 0.6 })).toHaveProperty('validationShare');
    expect(badFields({ validationShare: -0.1 })).toHaveProperty('validationShare');
    expect(parseSettings({ validationShare: 0 }).validationShare).toBe(0);
    expect(parseSettings({ validationShare: 0.5 }).validationShare).toBe(0.5);
    expect(badFields({ patience: 101 })).toHaveProperty('patience');
    expect(badFields({ patience: -1 })).toHaveProperty('patience');
    expect(parseSettings({ patience: 0 }).patience).toBe(0);
    expect(badFields({ seed: -1 })).toHaveProperty('seed');
    expect(badFields({ seed: 1.5 })).toHaveProperty('seed');
    expect(badFields({ seed: 2 ** 32 })).toHaveProperty('seed');
    expect(parseSettings({ seed: 2 ** 32 - 1 }).seed).toBe(2 ** 32 - 1);
    expect(badFields({ trainLimit: -5 })).toHaveProperty('trainLimit');
    expect(badFields({ trainLimit: 10.5 })).toHaveProperty('trainLimit');
    expect(parseSettings({ trainLimit: '5000' }).trainLimit).toBe(5000);
    expect(badFields({ testLimit: -1 })).toHaveProperty('testLimit');
    expect(parseSettings({ testLimit: '500' }).testLimit).toBe(500);
  });

  it('reports every bad field in one error', () => {
    const fields = badFields({ batchSize: 0, learningRate: -1, epochs: 1e9, preset: 'x', bogus: 1 });
    expect(Object.keys(fields).sort()).toEqual(['batchSize', 'bogus', 'epochs', 'learningRate', 'preset']);
    const error = settingsError({ batchSize: 0, epochs: 0 });
    expect(error.code).toBe('invalid-settings');
    expect(error.message).toBe('2 settings are invalid: batchSize, epochs');
  });
});

describe('the recipe setting', () => {
  it("defaults to the preset's first recipe: blog for seed and tiny, tuned for quick and fast", () => {
    expect(parseSettings({ preset: 'quick' }).recipe).toBe('tuned');
    expect(parseSettings({ preset: 'seed' }).recipe).toBe('blog');
    expect(parseSettings({ preset: 'tiny' }).recipe).toBe('blog');
    expect(parseSettings({ preset: 'fast' }).recipe).toBe('tuned');
    expect(parseSettings({ preset: 'seed', recipe: 'tuned' }).recipe).toBe('tuned');
  });

  it('refuses a recipe the preset does not have, naming those it has', () => {
    expect(badFields({ preset: 'tiny', recipe: 'tuned' })).toEqual({ recipe: 'tiny trains with the blog recipe only' });
    expect(badFields({ preset: 'fast', recipe: 'blog' })).toEqual({ recipe: 'fast trains with the tuned recipe only' });
    expect(Object.keys(badFields({ recipe: 'fancy' }))).toEqual(['recipe']);
  });

  it('round-trips through the URL, and a tuned seed run carries recipe=tuned', () => {
    const s = { ...DEFAULT_SETTINGS, recipe: 'tuned' as const, epochs: 30, patience: 0 };
    const query = settingsToQuery(s);
    expect(query.get('recipe')).toBe('tuned');
    expect(settingsFromQuery(new URLSearchParams(query.toString()))).toEqual(s);
  });
});

describe('SETTINGS_SPEC', () => {
  it("lists exactly the model's presets and colours and the loop's optimizers", () => {
    const values = (key: 'preset' | 'color' | 'optimizer') => SETTINGS_SPEC[key].options.map((o) => o.value as string).sort();
    expect(values('preset')).toEqual([...PRESETS].sort());
    expect(values('color')).toEqual([...COLOR_MODES].sort());
    expect(values('optimizer')).toEqual([...OPTIMIZERS].sort());
  });

  it('gives every field a label, help and a default that its own parsing accepts, for every preset', () => {
    for (const key of SETTING_KEYS) {
      expect(SETTINGS_SPEC[key].label.length, key).toBeGreaterThan(0);
      expect(SETTINGS_SPEC[key].help.length, key).toBeGreaterThan(0);
    }
    for (const preset of PRESETS) expect(parseSettings({ ...presetDefaults(preset) })).toEqual(presetDefaults(preset));
  });
});

describe('settingsToQuery', () => {
  it('is empty for the defaults', () => {
    expect(settingsToQuery(DEFAULT_SETTINGS).toString()).toBe('');
  });

  it('carries only the changed fields and reads back to the same settings', () => {
    const s = { ...DEFAULT_SETTINGS, epochs: 5, augment: false, learningRate: 0.0005, preset: 'tiny' as const };
    const query = settingsToQuery(s);
    expect([...query.keys()].sort()).toEqual(['augment', 'epochs', 'learningRate', 'preset']);
    expect(settingsFromQuery(new URLSearchParams(query.toString()))).toEqual(s);
  });

  it('gives quick its own length: QUICK_EPOCHS epochs of batch 256, and no early stop to cut its schedule short', () => {
    expect(parseSettings({ preset: 'quick' })).toMatchObject({ epochs: QUICK_EPOCHS, batchSize: 256, patience: 0 });
    expect(parseSettings({ preset: 'seed' })).toMatchObject({ epochs: 10, batchSize: 64, patience: 3 });
    // A quick run with its own defaults needs nothing in the URL but its name.
    expect(settingsToQuery(parseSettings({ preset: 'quick' })).toString()).toBe('preset=quick');
  });

  it("takes the fast preset's own batch size (512) as its default, and round-trips either way", () => {
    expect(parseSettings({ preset: 'fast' }).batchSize).toBe(512);
    expect(parseSettings({ preset: 'fast', batchSize: '64' }).batchSize).toBe(64);
    expect(parseSettings({ preset: 'seed' }).batchSize).toBe(64);
    for (const batchSize of [512, 64]) {
      const s = { ...DEFAULT_SETTINGS, preset: 'fast' as const, recipe: 'tuned' as const, batchSize };
      const query = settingsToQuery(s);
      expect(query.has('batchSize')).toBe(batchSize !== 512);
      expect(settingsFromQuery(new URLSearchParams(query.toString()))).toEqual(s);
    }
  });

  it('covers every setting key', () => {
    expect([...SETTING_KEYS].sort()).toEqual(Object.keys(DEFAULT_SETTINGS).sort());
  });
});

describe('toModelConfig', () => {
  it('takes exactly the model-defining fields', () => {
    expect(toModelConfig({ ...DEFAULT_SETTINGS, color: 'gray', seed: 9 })).toEqual({ preset: 'seed', color: 'gray', seed: 9 });
  });

  it("adds the class count of a data set other than CIFAR-10's ten, and only then", () => {
    expect(toModelConfig(DEFAULT_SETTINGS, 3)).toEqual({ preset: 'seed', color: 'rgb', seed: 1, classes: 3 });
    expect(toModelConfig(DEFAULT_SETTINGS, 10)).toEqual(toModelConfig(DEFAULT_SETTINGS));
    expect(toModelConfig(DEFAULT_SETTINGS, 10)).not.toHaveProperty('classes');
  });
});
