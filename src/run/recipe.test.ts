import { describe, expect, it } from 'vitest';
import { FAST_RECIPE, PRESETS, QUICK_RECIPE, SEED_TUNED_RECIPE } from '../model/config';
import { ADAM_BETAS, MAX_SHIFT, SGD_MOMENTUM, optimizerInWords, resolveRecipe } from './recipe';
import { presetDefaults } from './settings';

describe('resolveRecipe', () => {
  it('gives the blog presets the settings’ optimizer at a constant rate, and nothing of fast’s recipe', () => {
    for (const preset of ['tiny', 'seed'] as const) {
      const settings = { ...presetDefaults(preset), learningRate: 0.002 };
      const adam = resolveRecipe(settings);
      expect(adam.optimizer).toEqual({ kind: 'adam', ...ADAM_BETAS });
      expect(adam.schedule).toEqual({ kind: 'constant', rate: 0.002 });
      expect(adam).toMatchObject({ maxShift: MAX_SHIFT, labelSmoothing: 0, weightDecay: 0, whitening: null, flipTestTime: false });
      expect(resolveRecipe({ ...settings, optimizer: 'sgd' }).optimizer).toEqual({
        kind: 'momentum',
        momentum: SGD_MOMENTUM,
        nesterov: false,
      });
    }
  });

  it.each([
    ['fast', FAST_RECIPE],
    ['quick', QUICK_RECIPE],
  ] as const)('gives %s its own recipe whatever the optimizer settings say', (preset, own) => {
    const base = presetDefaults(preset);
    const a = resolveRecipe(base);
    const b = resolveRecipe({ ...base, optimizer: 'sgd', learningRate: 0.5 });
    expect(b).toEqual(a);
    expect(a.optimizer).toEqual({ kind: 'momentum', momentum: 0.9, nesterov: true });
    expect(a.schedule).toEqual({ kind: 'warmup-decay', ...own.schedule });
    expect(a).toMatchObject({
      batchSize: own.batchSize,
      maxShift: own.maxShift,
      labelSmoothing: own.labelSmoothing,
      weightDecay: own.weightDecay,
      whitening: own.whitening,
      flipTestTime: true,
    });
  });

  it('gives seed its tuned recipe when asked, with no whitening: the blog network stays as it is', () => {
    const base = { ...presetDefaults('seed'), recipe: 'tuned' as const };
    const r = resolveRecipe(base);
    expect(resolveRecipe({ ...base, optimizer: 'sgd', learningRate: 0.5 })).toEqual(r);
    expect(r.optimizer).toEqual({ kind: 'adam', ...ADAM_BETAS });
    expect(r.schedule).toEqual({ kind: 'warmup-decay', ...SEED_TUNED_RECIPE.schedule });
    expect(r).toMatchObject({
      batchSize: 64,
      augment: true,
      maxShift: SEED_TUNED_RECIPE.maxShift,
      labelSmoothing: SEED_TUNED_RECIPE.labelSmoothing,
      weightDecay: SEED_TUNED_RECIPE.weightDecay,
      whitening: null,
      flipTestTime: true,
    });
  });

  it('refuses a recipe its preset does not have', () => {
    expect(() => resolveRecipe({ ...presetDefaults('tiny'), recipe: 'tuned' })).toThrow('tiny does not train with the tuned recipe');
    expect(() => resolveRecipe({ ...presetDefaults('fast'), recipe: 'blog' })).toThrow('fast does not train with the blog recipe');
  });

  it('takes the batch size and the augmentation switch from the settings for every preset', () => {
    for (const preset of PRESETS) {
      const r = resolveRecipe({ ...presetDefaults(preset), batchSize: 24, augment: false });
      expect([r.batchSize, r.augment]).toEqual([24, false]);
    }
  });

  it('is frozen, so no caller can change the run it describes', () => {
    expect(Object.isFrozen(resolveRecipe(presetDefaults('seed')))).toBe(true);
  });

  it('names the optimizer and its schedule in words', () => {
    expect(optimizerInWords(resolveRecipe(presetDefaults('seed')))).toBe('Adam at 0.001');
    expect(optimizerInWords(resolveRecipe({ ...presetDefaults('tiny'), optimizer: 'sgd', learningRate: 0.05 }))).toBe(
      'SGD with momentum 0.9 at 0.05',
    );
    expect(optimizerInWords(resolveRecipe(presetDefaults('fast')))).toBe('Nesterov SGD with momentum 0.9, warm-up to 0.4 and decay');
  });
});
