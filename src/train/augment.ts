import * as tf from '@tensorflow/tfjs';
import { STREAMS, mixSeed, mulberry32 } from '../data/random';

/**
 * Largest shift, pixels. Pad-4-and-crop-32 plus horizontal flips is the standard
 * CIFAR-10 augmentation (He et al. 2016, "Deep Residual Learning", §4.2).
 */
export const MAX_SHIFT = 4;

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
 * Flips and shifts a batch on the device with ONE cropAndResize over the
 * zero-padded batch. Apply it after `toModelInput`: zero then means "the
 * training set's mean colour", the usual choice, rather than black.
 *
 * Each box spans exactly H×W pixels of the padded image, so every sample lands
 * on a pixel centre and 'nearest' copies pixels exactly (bilinear would only
 * blur by float rounding; nearest is immune to it). A box with x1 > x2 walks
 * the columns backwards, which mirrors the image.
 */
export function augmentBatch(x: tf.Tensor4D, params: AugmentParams, maxShift = MAX_SHIFT): tf.Tensor4D {
  const [batch, height, width] = x.shape;
  for (const [name, values] of Object.entries(params) as [string, ArrayLike<number>][]) {
    if (values.length !== batch) throw new RangeError(`${name} has ${values.length} entries for a batch of ${batch}`);
  }
  for (let i = 0; i < batch; i++) {
    if (Math.abs(params.dx[i] as number) > maxShift || Math.abs(params.dy[i] as number) > maxShift) {
      throw new RangeError(`Shift (${params.dx[i]}, ${params.dy[i]}) of image ${i} exceeds ${maxShift} pixels`);
    }
  }
  const boxes = cropBoxes(params, height, width, maxShift);
  return tf.tidy(() => {
    const padded = tf.pad(x, [
      [0, 0],
      [maxShift, maxShift],
      [maxShift, maxShift],
      [0, 0],
    ]);
    return tf.image.cropAndResize(
      padded,
      tf.tensor2d(boxes, [batch, 4]),
      tf.range(0, batch, 1, 'int32') as tf.Tensor1D,
      [height, width],
      'nearest',
    );
  });
}

/**
 * Normalised [y1, x1, y2, x2] per image in the padded (H + 2m) × (W + 2m) image,
 * where cropAndResize samples row y1·(Hp − 1) + i·(y2 − y1)·(Hp − 1)/(H − 1).
 *
 * Output pixel (i, j) must show source pixel (i − dy, j − dx), or (i − dy, W − 1 − j + dx)
 * when flipped; in padded coordinates add m. So rows start at m − dy, and
 * columns run from m − dx upwards or, flipped, from m + dx + W − 1 downwards.
 */
function cropBoxes(params: AugmentParams, height: number, width: number, m: number): Float32Array {
  const lastRow = height + 2 * m - 1;
  const lastCol = width + 2 * m - 1;
  const boxes = new Float32Array(4 * params.flip.length);
  params.flip.forEach((flip, i) => {
    const top = m - (params.dy[i] as number);
    const dx = params.dx[i] as number;
    const [left, right] = flip ? [m + dx + width - 1, m + dx] : [m - dx, m - dx + width - 1];
    boxes.set([top / lastRow, left / lastCol, (top + height - 1) / lastRow, right / lastCol], 4 * i);
  });
  return boxes;
}
