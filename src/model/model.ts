import * as tf from '@tensorflow/tfjs';
import { IMAGE, NUM_CLASSES } from '../data/format';
import { inputChannels, validateModelConfig, type ModelConfig } from './config';
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
// -------------------------------------------------------------------------------------

/**
 * A fresh model (not compiled: we train it with our own loop). It ends in softmax, so it outputs
 * class probabilities ([B, 10]); the training loop computes cross-entropy from
 * them like Keras does.
 */
export function buildModel(config: ModelConfig): tf.LayersModel {
  const { preset, color, seed } = validateModelConfig(config);
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
    tf.layers.dense({ name: 'dense', units: NUM_CLASSES, activation: 'softmax', kernelInitializer: glorot() }),
  );
  return tf.sequential({ name: `${preset}-${color}`, layers });
}
