import * as tf from '@tensorflow/tfjs';
import { STREAMS, mixSeed, mulberry32 } from '../data/random';
import { MAX_SHIFT } from '../run/recipe';

/** Per image of a batch: mirror it (1) or not (0), then move its content dx right and dy down. */
export interface AugmentParams {
  flip: Uint8Array;
  /** Pixels, −maxShift … maxShift; positive moves the content right. */
  dx: Int8Array;
  /** Pixels, −maxShift … maxShift; positive moves the content down. */
  dy: Int8Array;
}

/**
 * The augmentation of one training step, a pure function of (step, seed): a
 * rerun with the same seed sees exactly the same images, and no generator
 * state has to be carried between steps.
 */
export function augmentParams(step: number, seed: number, batchSize: number, maxShift = MAX_SHIFT): AugmentParams {
  const random = mulberry32(mixSeed(seed, STREAMS.augment, step));
  const flip = new Uint8Array(batchSize);
  const dx = new Int8Array(batchSize);
  const dy = new Int8Array(batchSize);
  const shift = () => Math.floor(random() * (2 * maxShift + 1)) - maxShift;
  for (let i = 0; i < batchSize; i++) {
    flip[i] = random() < 0.5 ? 1 : 0;
    dx[i] = shift();
    dy[i] = shift();
  }
  return { flip, dx, dy };
}

/**
 * Flips and shifts a batch on the device with ONE gather from the zero-padded
 * batch. Apply it after `toModelInput`: zero then means "the training set's
 * mean colour", the usual choice, rather than black.
 *
 * A gather copies values, so the result is exact on every backend. The
 * cropAndResize ('nearest') formulation used before was exact on cpu but not
 * on wasm: tfjs-backend-wasm 4.22 takes a fast path for an unflipped box of
 * exactly the crop's size that copies whole rows from column 0, ignoring the
 * box's left edge, so every unflipped image came out shifted maxShift px right
 * whatever its dx (its CropAndResize.cc, `should_memcpy`).
 */
export function augmentBatch(x: tf.Tensor4D, params: AugmentParams, maxShift = MAX_SHIFT): tf.Tensor4D {
  const [batch, height, width, channels] = x.shape;
  for (const [name, values] of Object.entries(params) as [string, ArrayLike<number>][]) {
    if (values.length !== batch) throw new RangeError(`${name} has ${values.length} entries for a batch of ${batch}`);
  }
  for (let i = 0; i < batch; i++) {
    if (Math.abs(params.dx[i] as number) > maxShift || Math.abs(params.dy[i] as number) > maxShift) {
      throw new RangeError(`Shift (${params.dx[i]}, ${params.dy[i]}) of image ${i} exceeds ${maxShift} pixels`);
    }
  }
  const sources = sourcePixels(params, height, width, maxShift);
  return tf.tidy(() => {
    const padded = tf.pad(x, [
      [0, 0],
      [maxShift, maxShift],
      [maxShift, maxShift],
      [0, 0],
    ]);
    const pixels = tf.reshape(padded, [-1, channels]);
    return tf.reshape(tf.gather(pixels, tf.tensor1d(sources, 'int32')), [batch, height, width, channels]);
  });
}

/**
 * For every output pixel (b, i, j), the pixel of the padded (H + 2m) × (W + 2m)
 * batch it copies, as a row of that batch reshaped to [pixels, channels].
 *
 * Output pixel (i, j) must show source pixel (i − dy, j − dx), or (i − dy, W − 1 − j + dx)
 * when flipped; in padded coordinates add m. So rows start at m − dy, and
 * columns run from m − dx upwards or, flipped, from m + dx + W − 1 downwards.
 */
function sourcePixels(params: AugmentParams, height: number, width: number, m: number): Int32Array {
  const paddedHeight = height + 2 * m;
  const paddedWidth = width + 2 * m;
  const out = new Int32Array(params.flip.length * height * width);
  params.flip.forEach((flip, b) => {
    const top = m - (params.dy[b] as number);
    const dx = params.dx[b] as number;
    const [first, step] = flip ? [m + dx + width - 1, -1] : [m - dx, 1];
    for (let i = 0; i < height; i++) {
      const row = (b * paddedHeight + top + i) * paddedWidth;
      const at = (b * height + i) * width;
      for (let j = 0; j < width; j++) out[at + j] = row + first + step * j;
    }
  });
  return out;
}
