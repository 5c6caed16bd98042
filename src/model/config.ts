/**
 * What a model is made of, as plain data: no TensorFlow.js here, so the page
 * can validate settings without loading it.
 */
import { MAX_CLASSES, MIN_CLASSES } from '../data/format';
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
 * `quick`: fast's kind of network at a width a CPU trains in 15 minutes, with
 * its own recipe (QUICK_RECIPE below), 292 000 parameters.
 * `fast`: a network and training recipe after the published fastest CIFAR-10
 * recipes (FAST_RECIPE below), 1 973 920 parameters.
 */
export const PRESETS = ['tiny', 'seed', 'quick', 'fast'] as const;
export type Preset = (typeof PRESETS)[number];

/**
 * How a network is trained. `blog`: as the Keras blog trains, with the
 * settings' optimizer at a constant learning rate and nothing else. `tuned`:
 * the preset's own recipe below (a schedule, weight decay, label smoothing,
 * flip TTA), which then ignores the optimizer and learning-rate settings.
 */
export const RECIPES = ['blog', 'tuned'] as const;
export type RecipeName = (typeof RECIPES)[number];

/** The recipes each preset trains with, its default first: `quick` and `fast` only with their own, `tiny` only as the blog's. */
export const PRESET_RECIPES: Readonly<Record<Preset, readonly RecipeName[]>> = Object.freeze({
  tiny: ['blog'],
  seed: ['blog', 'tuned'],
  quick: ['tuned'],
  fast: ['tuned'],
});

/** A preset's tuned recipe (settings.recipe `tuned`). Plain data, so it can be shown and validated without TensorFlow.js. */
export interface TrainingRecipe {
  /**
   * Adam (Kingma & Ba 2015) with its moment decays, or SGD with momentum,
   * Nesterov's where `nesterov` (Sutskever et al. 2013). Unit: dimensionless.
   */
  optimizer: { kind: 'adam'; beta1: number; beta2: number } | { kind: 'momentum'; momentum: number; nesterov: boolean };
  /** Learning rate per step: linear warm-up, then linear decay (see src/train/schedule.ts). */
  schedule: { peak: number; warmupFraction: number; startFactor: number; endFactor: number };
  /** L2 penalty ½·λ·Σw² on convolution and dense kernels (not on BatchNorm offsets). Unit: λ, per step on the mean loss. */
  weightDecay: number;
  /** Share of the target probability spread evenly over all classes (Szegedy et al. 2016). Unit: fraction. */
  labelSmoothing: number;
  /** Largest random shift of the augmentation (flips stay on). Unit: pixels. */
  maxShift: number;
  /** Evaluate on each image and its mirror image, averaging the probabilities. */
  flipTestTime: boolean;
  /**
   * The frozen patch-whitening first layer, fitted before training, or null for a network without one.
   * images: training images whose 2×2 patches give the convolution. Unit: images.
   * epsilon: added to each eigenvalue of the patch covariance before its inverse square root. Unit: variance of standardised pixels.
   */
  whitening: { images: number; epsilon: number } | null;
  /** Images per step when the settings do not say. Unit: images. */
  batchSize: number;
}

// ---- The `fast` preset's training hyperparameters -----------------------------------
// After the published descriptions of David Page's "How to train your ResNet"
// (DAWNBench, batch 512, Nesterov SGD with a linear ramp up and down, label
// smoothing 0.2, flip + translate augmentation, flip TTA), tysam-code's
// hlb-cifar10 and Keller Jordan's airbench (patch-whitening first layer,
// BatchNorm without scale, widths 64/256/256, no residual connections). The
// values are our own choices in that spirit; the ≥ 93 % in ≤ 10 epochs aim is
// for a real GPU and was not measured on this GPU-less machine.
export const FAST_RECIPE: Readonly<TrainingRecipe> = Object.freeze({
  /** Nesterov momentum 0.9, as in Page's recipe. */
  optimizer: Object.freeze({ kind: 'momentum', momentum: 0.9, nesterov: true } as const),
  schedule: Object.freeze({
    /** Peak step size for the mean loss over a 512-image batch (Page: 0.4). */
    peak: 0.4,
    /** Ramp up over the first 20 % of steps (Page: 5 of 24 epochs; airbench ≈ 23 %). */
    warmupFraction: 0.2,
    /** Step 0 runs at 10 % of the peak rather than 0, so no step is wasted. */
    startFactor: 0.1,
    /** Decay to zero at the last step. */
    endFactor: 0,
  }),
  /** Page's 5e-4 (with the mean loss). */
  weightDecay: 5e-4,
  /** Page, hlb-cifar10 and airbench all use 0.2. */
  labelSmoothing: 0.2,
  /** ±2 px: airbench's translate; the network has no padding-heavy first layer to absorb more. */
  maxShift: 2,
  flipTestTime: true,
  whitening: Object.freeze({
    /** A few thousand images pin the 12×12 patch covariance well; 5 000 take ≈ 1 s in JavaScript. */
    images: 5000,
    /** airbench's 5e-4: keeps near-zero eigen-directions (noise) from being amplified ~45×. */
    epsilon: 5e-4,
  }),
  /** 98 steps per epoch over 50 000 images; large batches keep a GPU busy. */
  batchSize: 512,
});
// -------------------------------------------------------------------------------------

// ---- The `seed` network's tuned recipe (settings.recipe `tuned`) ------------------------
// The blog's network unchanged (no whitening layer) and the blog's optimizer,
// with the usual levers of a CIFAR-10 schedule added: a linear warm-up
// (Goyal et al. 2017) and a decay to zero, L2 weight decay, label smoothing,
// pad-4 shifts and flips, flip TTA. Adam, not SGD: with SGD and momentum 0.9
// this network's loss ran away at a step size of 0.05 (train loss 9.4 after
// 16 steps) and still stood at 3.6 at 0.01 (seed preset, 1,024 images, WASM,
// 7 December), where Adam at 0.001 is at 1.8 after one epoch. A first choice
// in that spirit, to be measured: see the README's seed table.
export const SEED_TUNED_RECIPE: Readonly<TrainingRecipe> = Object.freeze({
  /** Adam with tf.train.adam's and Keras's moment decays, as the blog. */
  optimizer: Object.freeze({ kind: 'adam', beta1: 0.9, beta2: 0.999 } as const),
  schedule: Object.freeze({
    /** Peak step size: twice the blog's constant 0.001, reached after the warm-up. */
    peak: 0.002,
    /** Ramp up over the first 10 % of steps: Adam's second moments settle before the largest steps. */
    warmupFraction: 0.1,
    /** Step 0 runs at 10 % of the peak. */
    startFactor: 0.1,
    /** Decay to zero at the last step: the run's length is the epochs setting. */
    endFactor: 0,
  }),
  /** L2 1e-4 with the mean loss, as the published runs of this kind of network. */
  weightDecay: 1e-4,
  /** Half of fast's 0.2: a network this small underfits sooner. */
  labelSmoothing: 0.1,
  /** ±4 px: the standard pad-4-and-crop augmentation. */
  maxShift: 4,
  flipTestTime: true,
  whitening: null,
  /** The blog's batch. */
  batchSize: 64,
});
// -------------------------------------------------------------------------------------

// ---- The `quick` preset: the most accuracy a CPU trains in 15 minutes -------------------
// fast's recipe (whitening, BatchNorm without scale, Nesterov SGD warmed up
// and decayed to zero, label smoothing 0.2, flip TTA) on fast's layers at
// widths 32 / 64 / 128 (model.ts): a sixth of fast's multiply-adds per image,
// half of seed's, so our WASM kernels train it at ~2.2× seed's images/s. A
// fixed number of epochs, the most that fit in 15 minutes on this project's
// 2-core test machine: see the README's "quick" section.
export const QUICK_RECIPE: Readonly<TrainingRecipe> = Object.freeze({
  ...FAST_RECIPE,
  /** 175 steps per epoch over 45 000 images: more steps than batch 512 in a short run; 128 per worker with two. Fast's peak step size of 0.4 holds at this batch. */
  batchSize: 256,
});

/**
 * The epochs of a `quick` run: as many as fit in 15 minutes of this project's
 * test machine (2 cores, WASM, two workers), validation and test included.
 * Measured there: 8 epochs 85.1 % in 752 s, 9 epochs 85.5 % in 848 s (README). Unit: epochs.
 */
export const QUICK_EPOCHS = 9;
// -------------------------------------------------------------------------------------

/** Each preset's own recipe (settings.recipe `tuned`); null where it has none (PRESET_RECIPES). */
const TUNED_RECIPES: Readonly<Record<Preset, Readonly<TrainingRecipe> | null>> = Object.freeze({
  tiny: null,
  seed: SEED_TUNED_RECIPE,
  quick: QUICK_RECIPE,
  fast: FAST_RECIPE,
});

/**
 * The tuned recipe of `preset`, or null where it trains as the blog does. A
 * preset without a tuned recipe asked for one is an error (parseSettings
 * refuses that pair with a message first).
 */
export function presetRecipe(preset: Preset, recipe: RecipeName): Readonly<TrainingRecipe> | null {
  if (!PRESET_RECIPES[preset].includes(recipe)) throw new RangeError(`${preset} does not train with the ${recipe} recipe`);
  return recipe === 'blog' ? null : TUNED_RECIPES[preset];
}

/** Everything a model depends on; the same config always gives the same initial weights. */
export interface ModelConfig {
  preset: Preset;
  color: ColorMode;
  /** Integer 0 … 2³²−1; seeds the weight initialisers. */
  seed: number;
  /** Outputs of the last layer, one per class of the data set: MIN_CLASSES … MAX_CLASSES. CIFAR-10's 10 when absent. Unit: classes. */
  classes?: number;
}

/** Checks a config at runtime (it may come from a URL or a saved run); unknown keys are errors. */
export function validateModelConfig(input: unknown): ModelConfig {
  const fields: Record<string, string> = {};
  if (typeof input !== 'object' || input === null)
    throw new SettingsError('A model config must be an object.', { config: 'Not an object' });
  const record = input as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!['preset', 'color', 'seed', 'classes'].includes(key)) fields[key] = `Unknown model setting "${key}"`;
  }
  if (!PRESETS.includes(record.preset as Preset)) fields.preset = `Model must be one of: ${PRESETS.join(', ')}`;
  if (!COLOR_MODES.includes(record.color as ColorMode)) fields.color = `Colour must be one of: ${COLOR_MODES.join(', ')}`;
  const seed = record.seed;
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    fields.seed = 'Seed must be a whole number from 0 to 4294967295';
  }
  const classes = record.classes;
  if (
    classes !== undefined &&
    (typeof classes !== 'number' || !Number.isInteger(classes) || classes < MIN_CLASSES || classes > MAX_CLASSES)
  ) {
    fields.classes = `Classes must be a whole number from ${MIN_CLASSES} to ${MAX_CLASSES}`;
  }
  if (Object.keys(fields).length > 0) {
    throw new SettingsError(`Invalid model config: ${Object.keys(fields).join(', ')}`, fields);
  }
  const config: ModelConfig = { preset: record.preset as Preset, color: record.color as ColorMode, seed: seed as number };
  return classes === undefined ? config : { ...config, classes: classes as number };
}
