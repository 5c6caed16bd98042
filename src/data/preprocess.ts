import * as tf from '@tensorflow/tfjs';
import type { ColorMode } from '../model/config';
import { grayscaleTensor, luma } from './grayscale';

/** Per-channel statistics on the 0–255 scale, R, G, B order (as in the data manifest). */
export interface ChannelStats {
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
}

/**
 * THE conversion from raw pixels to what the model sees; training, evaluation
 * and classifying a user's photo all go through here, so they cannot drift apart.
 *
 * `batch` is float [B, 32, 32, 3] on the 0–255 scale, RGB, HWC.
 * Returns [B, 32, 32, 3] (rgb) or [B, 32, 32, 1] (gray), standardised per
 * channel with the training set's statistics.
 *
 * Gray uses luma(mean) and luma(std) as its statistics. luma(mean) is exact
 * (luma is linear); luma(std) is an upper bound on the true std of luma (equal
 * only if R, G, B were perfectly correlated; natural images come close), so
 * gray inputs have a std slightly below 1, which BatchNorm absorbs.
 */
export function toModelInput(batch: tf.Tensor4D, opts: { color: ColorMode } & ChannelStats): tf.Tensor4D {
  if (batch.shape[3] !== 3) throw new RangeError(`Expected RGB input [B, H, W, 3], got [${batch.shape.join(', ')}]`);
  if (opts.std.some((s) => !(s > 0))) throw new RangeError(`std must be positive, got [${opts.std.join(', ')}]`);
  return tf.tidy(() => {
    if (opts.color === 'gray') {
      return tf.div(tf.sub(grayscaleTensor(batch), luma(opts.mean)), luma(opts.std));
    }
    return tf.div(tf.sub(batch, tf.tensor1d([...opts.mean])), tf.tensor1d([...opts.std]));
  });
}
