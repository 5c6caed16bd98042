import { PIXELS_PER_IMAGE } from '../data/format';
import { STREAMS, mixSeed, mulberry32, shuffleInPlace } from '../data/random';

/**
 * Copies images `indices[start … start + batchSize)` into the caller's reusable
 * buffers (bytes → floats, 0–255, HWC) — one batch at a time, never a float
 * copy of a whole split. Batches always have `batchSize` rows, so tensor shapes
 * never change and the GPU reuses its compiled programs and textures; rows past
 * the end of `indices` are zero images with label 0.
 *
 * Returns how many rows are real (fewer than `batchSize` only for the last
 * batch of an evaluation; training uses only full batches).
 */
export function fillBatch(
  pixels: Uint8Array,
  labels: Uint8Array,
  indices: Uint32Array,
  start: number,
  batchSize: number,
  outPixels: Float32Array,
  outLabels: Int32Array,
): number {
  if (outPixels.length !== batchSize * PIXELS_PER_IMAGE || outLabels.length !== batchSize) {
    throw new RangeError(`Batch buffers must hold exactly ${batchSize} images`);
  }
  if (!Number.isInteger(start) || start < 0 || start >= indices.length) {
    throw new RangeError(`start ${start} is outside the ${indices.length} indices`);
  }
  const real = Math.min(batchSize, indices.length - start);
  for (let row = 0; row < real; row++) {
    const image = indices[start + row] as number;
    const label = labels[image];
    if (label === undefined) throw new RangeError(`Image ${image} is outside the ${labels.length} images of this split`);
    outPixels.set(pixels.subarray(image * PIXELS_PER_IMAGE, (image + 1) * PIXELS_PER_IMAGE), row * PIXELS_PER_IMAGE);
    outLabels[row] = label;
  }
  outPixels.fill(0, real * PIXELS_PER_IMAGE);
  outLabels.fill(0, real);
  return real;
}

/** A fresh shuffle of `indices` for this epoch, a pure function of (epoch, seed). */
export function epochOrder(indices: Uint32Array, epoch: number, seed: number): Uint32Array {
  return shuffleInPlace(indices.slice(), mulberry32(mixSeed(seed, STREAMS.epochOrder, epoch)));
}

/** Training drops the incomplete last batch; the epoch's reshuffle lets those images in next time. */
export function trainBatchesPerEpoch(count: number, batchSize: number): number {
  return Math.floor(count / batchSize);
}
