/**
 * Which pixels drove a prediction: a gradient saliency map (Simonyan, Vedaldi
 * and Zisserman, "Deep Inside Convolutional Networks", 2013,
 * https://arxiv.org/abs/1312.6034). For each image, the gradient of the log
 * probability of its top class with respect to the 32 × 32 × 3 input pixels
 * (before standardisation, so a grayscale model's map covers the RGB picture
 * it was given); per pixel the largest absolute value over the channels.
 *
 * The log probability rather than the probability: a confident softmax is
 * flat, and its gradient vanishes where the log's does not.
 */
import * as tf from '@tensorflow/tfjs';
import { IMAGE, PIXELS_PER_IMAGE } from '../data/format';
import { toModelInput, type ChannelStats } from '../data/preprocess';
import type { ColorMode } from '../model/config';
import { modelClasses } from '../model/model';
import { CE_EPSILON } from '../train/step';

/** Pixels of one map. */
export const SALIENCY_PIXELS = IMAGE.width * IMAGE.height;

/**
 * The map is scaled so that this quantile of its pixels is 255 (brighter ones
 * are clipped): one extreme pixel would otherwise leave the rest black.
 */
export const SALIENCY_CLIP_QUANTILE = 0.99;

/** `count` images of 32 × 32 × 3 bytes and each one's top class → count × 32 × 32 gradient magnitudes (not yet scaled). */
export async function inputGradients(
  model: tf.LayersModel,
  input: { color: ColorMode } & ChannelStats,
  pixels: Uint8Array,
  count: number,
  top: readonly number[],
): Promise<Float32Array> {
  if (pixels.length !== count * PIXELS_PER_IMAGE || top.length !== count)
    throw new RangeError(`Expected ${count} images and classes, got ${pixels.length} bytes and ${top.length} classes`);
  const magnitudes = tf.tidy(() => {
    const raw = tf.tensor4d(Float32Array.from(pixels), [count, IMAGE.height, IMAGE.width, IMAGE.channels]);
    const target = tf.oneHot(tf.tensor1d(top as number[], 'int32'), modelClasses(model));
    // Images are independent in inference mode (BatchNorm uses its running statistics), so the
    // gradient of the sum over the batch holds each image's own gradient.
    const objective = (x: tf.Tensor) => {
      const probs = model.apply(toModelInput(x as tf.Tensor4D, input), { training: false }) as tf.Tensor2D;
      return tf.sum(tf.mul(tf.log(tf.clipByValue(probs, CE_EPSILON, 1)), target)) as tf.Scalar;
    };
    return tf.max(tf.abs(tf.grad(objective)(raw)), 3);
  });
  try {
    return (await magnitudes.data()) as Float32Array;
  } finally {
    magnitudes.dispose();
  }
}

/** Gradient magnitudes of `count` maps → bytes 0–255, each map scaled by its own SALIENCY_CLIP_QUANTILE. */
export function toSaliencyBytes(magnitudes: Float32Array, count: number): Uint8Array {
  const out = new Uint8Array(count * SALIENCY_PIXELS);
  for (let i = 0; i < count; i++) {
    const map = magnitudes.subarray(i * SALIENCY_PIXELS, (i + 1) * SALIENCY_PIXELS);
    const sorted = Float32Array.from(map).sort();
    const scale = sorted[Math.min(SALIENCY_PIXELS - 1, Math.floor(SALIENCY_CLIP_QUANTILE * SALIENCY_PIXELS))] as number;
    // A flat map (no gradient at all) stays black rather than dividing by zero.
    if (!(scale > 0)) continue;
    map.forEach((m, p) => (out[i * SALIENCY_PIXELS + p] = Math.round(Math.min(1, m / scale) * 255)));
  }
  return out;
}

/** Saliency maps of `count` images for their top classes: count × 32 × 32 bytes. */
export async function saliencyMaps(
  model: tf.LayersModel,
  input: { color: ColorMode } & ChannelStats,
  pixels: Uint8Array,
  count: number,
  top: readonly number[],
): Promise<Uint8Array> {
  return toSaliencyBytes(await inputGradients(model, input, pixels, count, top), count);
}
