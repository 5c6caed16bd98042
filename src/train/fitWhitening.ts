/**
 * The `fast` preset's frozen first layer is fitted to the data before
 * training: its filters whiten the 2×2 patches of the training images.
 */
import * as tf from '@tensorflow/tfjs';
import { IMAGE, PIXELS_PER_IMAGE } from '../data/format';
import { toModelInput, type ChannelStats } from '../data/preprocess';
import { inputChannels, type ColorMode } from '../model/config';
import type { Recipe } from '../run/recipe';
import { WHITEN_KERNEL, setWhitening } from '../model/model';
import { addPatches, emptyPatchMoments, whiteningFilters } from '../model/whitening';
import { fillBatch } from './batches';
import type { Subset } from '../run/records';

/** Images per read-back: 500 × 3,072 floats = 6 MB. Unit: images. */
const CHUNK = 500;

/**
 * Sets the model's whitening filters from the first `whitening.images`
 * training images, standardised exactly as training sees them (before
 * augmentation), a chunk at a time.
 */
export async function fitWhitening(
  model: tf.LayersModel,
  train: Subset,
  stats: ChannelStats,
  color: ColorMode,
  whitening: NonNullable<Recipe['whitening']>,
): Promise<void> {
  const moments = emptyPatchMoments(WHITEN_KERNEL, inputChannels(color));
  const count = Math.min(whitening.images, train.indices.length);
  const xBuffer = new Float32Array(CHUNK * PIXELS_PER_IMAGE);
  const yBuffer = new Int32Array(CHUNK);
  for (let start = 0; start < count; start += CHUNK) {
    const real = Math.min(CHUNK, count - start);
    fillBatch(train.pixels, train.labels, train.indices, start, CHUNK, xBuffer, yBuffer);
    const normalized = tf.tidy(() =>
      toModelInput(tf.tensor4d(xBuffer, [CHUNK, IMAGE.height, IMAGE.width, IMAGE.channels]), { color, ...stats }),
    );
    const values = await normalized.data<'float32'>().finally(() => normalized.dispose());
    addPatches(moments, values, real, IMAGE.height, IMAGE.width);
  }
  setWhitening(model, whiteningFilters(moments, whitening.epsilon));
}
