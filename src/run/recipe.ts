/**
 * A run's effective recipe: what its settings and its preset's own recipe
 * together make of the optimizer, the learning-rate schedule, the
 * augmentation, the loss and the evaluation. Decided here once; the loop,
 * the step, the replica workers, the hand-over and the bench take the
 * recipe, never the preset's name. No TensorFlow.js here.
 */
import { presetRecipe, type TrainingRecipe } from '../model/config';
import type { Settings } from './settings';

/** Momentum of settings.optimizer `sgd` (PyTorch's and Keras's usual value). Unit: dimensionless. */
export const SGD_MOMENTUM = 0.9;
/** Adam's moment decays: tf.train.adam's and Keras's defaults (Kingma & Ba 2015). Unit: dimensionless. */
export const ADAM_BETAS = Object.freeze({ beta1: 0.9, beta2: 0.999 });
/**
 * The augmentation's largest shift where the preset does not bring its own.
 * Pad-4-and-crop-32 plus horizontal flips is the standard CIFAR-10
 * augmentation (He et al. 2016, "Deep Residual Learning", §4.2). Unit: pixels.
 */
export const MAX_SHIFT = 4;

export type OptimizerRecipe = TrainingRecipe['optimizer'];

/** The learning rate of each step: constant, or a linear warm-up and decay (src/train/schedule.ts). */
export type ScheduleRecipe = { kind: 'constant'; rate: number } | ({ kind: 'warmup-decay' } & TrainingRecipe['schedule']);

export interface Recipe {
  optimizer: OptimizerRecipe;
  schedule: ScheduleRecipe;
  /** Images per step. Unit: images. */
  batchSize: number;
  /** Random flips and shifts of every training batch. */
  augment: boolean;
  /** Largest shift of the augmentation. Unit: pixels. */
  maxShift: number;
  /** Share of the target spread over all classes (0: plain cross-entropy). Unit: fraction. */
  labelSmoothing: number;
  /** L2 penalty ½·λ·Σw² on convolution and dense kernels. Unit: λ. */
  weightDecay: number;
  /** A frozen patch-whitening first layer fitted before training, or none. */
  whitening: { images: number; epsilon: number } | null;
  /** Evaluate on each image and its mirror image, averaging the probabilities. */
  flipTestTime: boolean;
}

/** The recipe a run with these settings trains with. */
export function resolveRecipe(
  settings: Pick<Settings, 'preset' | 'recipe' | 'optimizer' | 'learningRate' | 'batchSize' | 'augment'>,
): Readonly<Recipe> {
  const own = presetRecipe(settings.preset, settings.recipe);
  if (own !== null) {
    // A tuned recipe ignores the optimizer and learning-rate settings (the form says so).
    const recipe: Recipe = {
      optimizer: own.optimizer,
      schedule: { kind: 'warmup-decay', ...own.schedule },
      batchSize: settings.batchSize,
      augment: settings.augment,
      maxShift: own.maxShift,
      labelSmoothing: own.labelSmoothing,
      weightDecay: own.weightDecay,
      whitening: own.whitening,
      flipTestTime: own.flipTestTime,
    };
    return Object.freeze(recipe);
  }
  const recipe: Recipe = {
    optimizer:
      settings.optimizer === 'sgd' ? { kind: 'momentum', momentum: SGD_MOMENTUM, nesterov: false } : { kind: 'adam', ...ADAM_BETAS },
    schedule: { kind: 'constant', rate: settings.learningRate },
    batchSize: settings.batchSize,
    augment: settings.augment,
    maxShift: MAX_SHIFT,
    labelSmoothing: 0,
    weightDecay: 0,
    whitening: null,
    flipTestTime: false,
  };
  return Object.freeze(recipe);
}

/** The recipe's optimizer and schedule in words, for the bench's and the CLI's reports. */
export function optimizerInWords(recipe: Pick<Recipe, 'optimizer' | 'schedule'>): string {
  const { optimizer, schedule } = recipe;
  const name = optimizer.kind === 'adam' ? 'Adam' : `${optimizer.nesterov ? 'Nesterov ' : ''}SGD with momentum ${optimizer.momentum}`;
  return schedule.kind === 'constant' ? `${name} at ${schedule.rate}` : `${name}, warm-up to ${schedule.peak} and decay`;
}
