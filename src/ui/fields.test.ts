import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, parseSettings } from '../run/settings';
import { choosePreset, defaultFields, settingsSummary } from './fields';

describe('settings form fields', () => {
  it('default to the preset’s own recipe where it has one', () => {
    expect(defaultFields('seed').batchSize).toBe(String(DEFAULT_SETTINGS.batchSize));
    expect(defaultFields('fast').batchSize).toBe('512');
    expect(defaultFields('nope')).toEqual(defaultFields(undefined));
  });

  it('follow a change of preset where the user has not typed', () => {
    const seed = defaultFields('seed');
    const fast = choosePreset(seed, 'fast');
    expect(fast).toEqual({ ...seed, preset: 'fast', batchSize: '512', recipe: 'tuned' });
    expect(parseSettings(fast).batchSize).toBe(512);
    expect(choosePreset(fast, 'tiny')).toEqual({ ...seed, preset: 'tiny' });
  });

  it('keep what the user typed', () => {
    const typed = { ...defaultFields('seed'), batchSize: '128', epochs: '3' };
    expect(choosePreset(typed, 'fast')).toEqual({ ...typed, preset: 'fast', recipe: 'tuned' });
  });
});

describe('settingsSummary', () => {
  it('says the whole form in one line', () => {
    const values = { ...defaultFields('tiny'), epochs: '1', trainLimit: '512', testLimit: '200' };
    expect(settingsSummary(values)).toBe(
      'tiny · RGB · 1 epoch · batch 64 · Adam, learning rate 0.001 · augmented · 512 training images · 200 test images',
    );
    const gray = { ...defaultFields('seed'), color: 'gray', optimizer: 'sgd', augment: 'false' };
    expect(settingsSummary(gray)).toBe(
      'seed · Grayscale · 10 epochs · batch 64 · SGD + momentum, learning rate 0.001 · no augmentation · all training images · all test images',
    );
    expect(settingsSummary({ ...defaultFields('seed'), recipe: 'tuned', epochs: '30' })).toBe(
      'seed · RGB · 30 epochs · batch 64 · tuned recipe · augmented · all training images · all test images',
    );
  });
});
