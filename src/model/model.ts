import * as tf from '@tensorflow/tfjs';
import { IMAGE, NUM_CLASSES } from '../data/format';
import { inputChannels, validateModelConfig, type ModelConfig, type Preset } from './config';
import { STREAMS, mixSeed } from '../data/random';

// ---- Architecture hyperparameters -------------------------------------------------
/** Output channels of each conv block (each block is two convs in `seed`, one in `tiny`). */
const SEED_FILTERS = [32, 64, 128] as const;
/** Dropout rate after each block's pooling, growing with depth as in the blog post. */
const SEED_DROPOUT = [0.2, 0.3, 0.4] as const;
const TINY_FILTERS = [8, 16] as const;
/** Convolution kernel side, pixels. */
const KERNEL = 3;
/** Max-pool window and stride, pixels. */
const POOL = 2;
/**
 * Weight of the old value in BatchNorm's running mean/variance. Keras uses
 * 0.99, which needs ~500 steps to forget its initial (0, 1) — longer than a
 * short run in a tab. 0.9 (PyTorch's default) settles within ~50 steps.
 */
const BN_MOMENTUM = 0.9;

// `fast` and `quick` (see FAST_RECIPE, QUICK_RECIPE in config.ts for how they train) ----
/** Side of the frozen patch-whitening convolution, pixels (airbench, hlb-cifar10: 2). */
export const WHITEN_KERNEL = 2;
/** Name of that layer; the training loop sets its filters from the training images. */
export const WHITEN_LAYER = 'whiten';
/** Output channels of the three blocks (airbench's 64 / 256 / 256). */
const FAST_WIDTHS = [64, 256, 256] as const;
/**
 * `quick`: fast's layers at widths a CPU trains in 15 minutes: 19.6 M
 * multiply-adds per image forward, a sixth of fast's 118 M (seed: 38.5 M).
 */
const QUICK_WIDTHS = [32, 64, 128] as const;
/** The presets built by whitenedLayers, with their blocks' widths. */
const WHITENED_WIDTHS: Readonly<Partial<Record<Preset, readonly number[]>>> = Object.freeze({ fast: FAST_WIDTHS, quick: QUICK_WIDTHS });
/**
 * BatchNorm momentum of `fast` and `quick`: with ~98 steps per epoch at batch 512, 0.6
 * forgets the initial (0, 1) within ~10 steps; a batch of 512 images already
 * estimates the statistics well, so a long average buys little.
 */
const FAST_BN_MOMENTUM = 0.6;
/**
 * Logits are scaled by this before the softmax (Page's network has the same
 * ×0.125 layer; airbench ×1/9): it keeps the large learning rate from making the
 * output layer over-confident in the first steps.
 */
const FAST_LOGIT_SCALE = 0.125;
// -------------------------------------------------------------------------------------

/**
 * A fresh model (not compiled: we train it with our own loop). It ends in softmax, so it outputs
 * class probabilities ([B, 10]); the training loop computes cross-entropy from
 * them like Keras does.
 */
export function buildModel(config: ModelConfig): tf.LayersModel {
  const { preset, color, seed, classes = NUM_CLASSES } = validateModelConfig(config);
  const layers: tf.layers.Layer[] = [];
  // Keras's defaults (Glorot-uniform kernels, zero biases), as in the blog.
  // Every initialiser gets its own seed: tfjs seeds a fresh generator from the
  // seed alone, so layers sharing one would start from the same draws.
  let weighted = 0;
  const glorot = () => tf.initializers.glorotUniform({ seed: mixSeed(seed, STREAMS.weights, weighted++) });
  const inputShape = [IMAGE.height, IMAGE.width, inputChannels(color)];

  const convBnElu = (name: string, filters: number) => {
    layers.push(
      tf.layers.conv2d({
        name: `conv${name}`,
        ...(layers.length === 0 ? { inputShape } : {}),
        filters,
        kernelSize: KERNEL,
        padding: 'same',
        kernelInitializer: glorot(),
      }),
      tf.layers.batchNormalization({ name: `bn${name}`, momentum: BN_MOMENTUM }),
      tf.layers.elu({ name: `elu${name}` }),
    );
  };

  const widths = WHITENED_WIDTHS[preset];
  if (widths) {
    layers.push(...whitenedLayers(inputShape, glorot, widths, classes));
    const model = tf.sequential({ name: `${preset}-${color}`, layers });
    // Built now: a Sequential builds its inner model on first use (predict, countParams,
    // setWeights, apply), and that sets every layer's trainable flag again, which would
    // undo the freezing below in the middle of a run.
    model.build();
    // BatchNorm without scale, the tfjs way: tfjs-layers 4.22's BatchNormalization
    // with `scale: false` fails in training mode (it reads the missing gamma), so
    // the scale stays, fixed at 1 and out of the optimizer's reach.
    for (const layer of model.layers) {
      if (layer.getClassName() !== 'BatchNormalization') continue;
      // originalName: `name` gets a suffix (bn1a/gamma_1) when another model in the tab used the layer name.
      for (const w of layer.weights) if (w.originalName.endsWith('/gamma')) w.trainable = false;
    }
    return model;
  }
  if (preset === 'seed') {
    SEED_FILTERS.forEach((filters, block) => {
      const b = block + 1;
      convBnElu(`${b}a`, filters);
      convBnElu(`${b}b`, filters);
      layers.push(
        tf.layers.maxPooling2d({ name: `pool${b}`, poolSize: POOL }),
        // Unseeded on purpose: tfjs reuses a seeded dropout's mask on every call.
        tf.layers.dropout({ name: `drop${b}`, rate: SEED_DROPOUT[block] as number }),
      );
    });
  } else {
    TINY_FILTERS.forEach((filters, block) => {
      convBnElu(`${block + 1}`, filters);
      layers.push(tf.layers.maxPooling2d({ name: `pool${block + 1}`, poolSize: POOL }));
    });
  }
  layers.push(
    tf.layers.flatten({ name: 'flatten' }),
    tf.layers.dense({ name: 'dense', units: classes, activation: 'softmax', kernelInitializer: glorot() }),
  );
  return tf.sequential({ name: `${preset}-${color}`, layers });
}

/**
 * `fast` and `quick`: after airbench / hlb-cifar10 / Page — no residual connections.
 *   whiten: 2×2 'valid' convolution, frozen, 2·(2·2·C) filters (each whitened
 *           patch direction and its negative) → ReLU keeps both signs;
 *   3 blocks of conv 3×3 → max-pool 2 → BatchNorm (offset; scale frozen at 1) → ReLU →
 *           conv 3×3 → BatchNorm → ReLU, widths 64 / 256 / 256 (quick: 32 / 64 / 128)
 *           (31² → 15² → 7² → 3² pixels);
 *   global max-pool → dense, one output per class (no bias) → ×0.125 → softmax.
 * Convolutions have no bias: the BatchNorm offset that follows replaces it.
 * ReLU rather than airbench's GELU: one kernel per direction instead of GELU's
 * chain of elementwise ops, which matters on the CPU-bound backends.
 */
function whitenedLayers(
  inputShape: number[],
  init: () => ReturnType<typeof tf.initializers.glorotUniform>,
  widths: readonly number[],
  classes: number,
): tf.layers.Layer[] {
  const channels = inputShape[2] as number;
  const whitened = 2 * WHITEN_KERNEL * WHITEN_KERNEL * channels;
  const layers: tf.layers.Layer[] = [
    tf.layers.conv2d({
      name: WHITEN_LAYER,
      inputShape,
      filters: whitened,
      kernelSize: WHITEN_KERNEL,
      padding: 'valid',
      useBias: false,
      // A placeholder until the training loop computes the whitening (trainModel).
      kernelInitializer: init(),
      trainable: false,
    }),
    tf.layers.reLU({ name: 'whiten_relu' }),
  ];
  const conv = (name: string, filters: number) =>
    tf.layers.conv2d({ name, filters, kernelSize: KERNEL, padding: 'same', useBias: false, kernelInitializer: init() });
  const norm = (name: string) => tf.layers.batchNormalization({ name, momentum: FAST_BN_MOMENTUM });
  widths.forEach((filters, block) => {
    const b = block + 1;
    layers.push(
      conv(`conv${b}a`, filters),
      tf.layers.maxPooling2d({ name: `pool${b}`, poolSize: POOL }),
      norm(`bn${b}a`),
      tf.layers.reLU({ name: `relu${b}a` }),
      conv(`conv${b}b`, filters),
      norm(`bn${b}b`),
      tf.layers.reLU({ name: `relu${b}b` }),
    );
  });
  layers.push(
    tf.layers.globalMaxPooling2d({ name: 'global_pool' }),
    tf.layers.dense({ name: 'dense', units: classes, useBias: false, kernelInitializer: init() }),
    tf.layers.rescaling({ name: 'logit_scale', scale: FAST_LOGIT_SCALE }),
    tf.layers.activation({ name: 'softmax', activation: 'softmax' }),
  );
  return layers;
}

/** The classes a model tells apart: its output's width (CIFAR-10's 10, or a data set of the user's own). Unit: classes. */
export function modelClasses(model: tf.LayersModel): number {
  const width = model.outputs[0]?.shape[1];
  if (typeof width !== 'number')
    throw new RangeError(`The model's output has no class axis (shape [${model.outputs[0]?.shape.join(', ')}])`);
  return width;
}

/**
 * `model.setWeights(weights)` for weights in `model.getWeights()`'s order,
 * variable by variable. tfjs 4.22's Sequential.setWeights pairs them in its
 * inner model's order, which differs where a single weight is frozen (the
 * `fast` preset's BatchNorm scales), and then fails on the shapes. Each
 * variable shares the given tensor's data (reference counted): disposing the
 * tensors afterwards is safe.
 */
export function setModelWeights(model: tf.LayersModel, weights: tf.Tensor[]): void {
  const variables = model.weights;
  if (weights.length !== variables.length) throw new RangeError(`The model has ${variables.length} weights, not ${weights.length}`);
  variables.forEach((v, i) => v.write(weights[i] as tf.Tensor));
}

/** Sets the frozen whitening filters of a `fast` or `quick` model ([k, k, C, 2·k·k·C], see whitening.ts). */
export function setWhitening(model: tf.LayersModel, filters: Float32Array): void {
  const layer = model.getLayer(WHITEN_LAYER);
  const shape = layer.getWeights()[0]?.shape;
  if (!shape || filters.length !== shape.reduce((a, b) => a * b, 1)) {
    throw new RangeError(`Whitening filters of ${filters.length} values do not fit the layer's shape [${shape?.join(', ')}]`);
  }
  tf.tidy(() => layer.setWeights([tf.tensor(filters, shape)]));
}
