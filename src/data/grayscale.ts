import * as tf from '@tensorflow/tfjs';

/**
 * ITU-R BT.601 luma weights for R, G, B (the ones PIL's `convert('L')` and
 * OpenCV's `COLOR_RGB2GRAY` use). They sum to 1, so 0–255 stays 0–255.
 * https://www.itu.int/rec/R-REC-BT.601
 */
export const LUMA_WEIGHTS = Object.freeze([0.299, 0.587, 0.114] as const);

/** Luma of one RGB triple, unrounded. */
export function luma(rgb: readonly [number, number, number]): number {
  return LUMA_WEIGHTS[0] * rgb[0] + LUMA_WEIGHTS[1] * rgb[1] + LUMA_WEIGHTS[2] * rgb[2];
}

/** HWC RGB bytes (one image or a batch) → one luma byte per pixel, rounded to nearest. */
export function grayscaleBytes(rgb: Uint8Array): Uint8Array {
  if (rgb.length % 3 !== 0) throw new RangeError(`RGB data must have a multiple of 3 bytes, got ${rgb.length}`);
  const out = new Uint8Array(rgb.length / 3);
  for (let i = 0; i < out.length; i++) {
    out[i] = Math.round(luma([rgb[3 * i] as number, rgb[3 * i + 1] as number, rgb[3 * i + 2] as number]));
  }
  return out;
}

/** [B, H, W, 3] → [B, H, W, 1] luma on the device, not rounded (the model wants floats). */
export function grayscaleTensor(rgb: tf.Tensor4D): tf.Tensor4D {
  if (rgb.shape[3] !== 3) throw new RangeError(`Expected 3 channels, got shape [${rgb.shape.join(', ')}]`);
  return tf.tidy(() => tf.sum(tf.mul(rgb, tf.tensor1d([...LUMA_WEIGHTS])), 3, true));
}
