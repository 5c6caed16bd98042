import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { PIXELS_PER_IMAGE } from '../data/format';
import { toModelInput } from '../data/preprocess';
import { buildModel } from '../model/model';
import type { ModelMetadata } from '../model/modelFiles';
import type { ClassifierInfo } from './classifier';
import { Classifier } from './classifier';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const CONFIG = { preset: 'tiny', color: 'rgb', seed: 4 } as const;
const META: ModelMetadata = {
  version: 1,
  preset: 'tiny',
  color: 'rgb',
  classes: Array.from({ length: 10 }, (_, i) => `c${i}`),
  mean: [120, 115, 105],
  std: [60, 60, 65],
  testAccuracy: null,
  epochs: 0,
};
const INFO: ClassifierInfo = { source: 'training', name: 'tiny · rgb · training', color: 'rgb', classes: META.classes, libraryId: null };

/** Two images of known bytes. */
const PIXELS = Uint8Array.from({ length: 2 * PIXELS_PER_IMAGE }, (_, i) => (i * 37) % 256);

async function direct(model: tf.LayersModel, meta: ModelMetadata = META): Promise<number[]> {
  const probs = tf.tidy(() => model.predict(toModelInput(tf.tensor4d(Float32Array.from(PIXELS), [2, 32, 32, 3]), meta)) as tf.Tensor);
  const values = Array.from(await probs.data());
  probs.dispose();
  return values;
}

async function weightsOf(model: tf.LayersModel): Promise<number[][]> {
  return Promise.all(model.getWeights().map(async (w) => Array.from(await w.data())));
}

/** Every weight × 1.5 and + 0.01: what an optimizer step does to a model, as far as the copy should care. */
function step(model: tf.LayersModel): void {
  const next = tf.tidy(() => model.getWeights().map((w) => tf.add(tf.mul(w, 1.5), 0.01)));
  model.setWeights(next);
  tf.dispose(next);
}

describe('Classifier', () => {
  it('has no model at first and says so', async () => {
    const classifier = new Classifier();
    expect(classifier.info).toBeNull();
    await expect(classifier.predict(PIXELS, 2)).rejects.toMatchObject({ code: 'no-model' });
  });

  it('classifies with a snapshot of a training model, taken at each call, and never changes it', async () => {
    const training = buildModel(CONFIG);
    const classifier = new Classifier();
    classifier.follow(training, CONFIG, META, INFO);
    const weightsBefore = await weightsOf(training);

    // The same numbers as the training model itself, through the same toModelInput.
    const first = Array.from(await classifier.predict(PIXELS, 2));
    const expected = await direct(training);
    first.forEach((p, i) => expect(p).toBeCloseTo(expected[i] as number, 6));
    expect(await weightsOf(training)).toEqual(weightsBefore);

    // The snapshot is a separate model: training on does not change it…
    const snapshot = classifier.current()?.model as tf.LayersModel;
    expect(snapshot).not.toBe(training);
    const snapshotOutputs = await direct(snapshot);
    step(training);
    expect(await direct(snapshot)).toEqual(snapshotOutputs);
    // …until the next call copies the new weights.
    const second = Array.from(await classifier.predict(PIXELS, 2));
    const expectedAfter = await direct(training);
    second.forEach((p, i) => expect(p).toBeCloseTo(expectedAfter[i] as number, 6));
    expect(second).not.toEqual(first);

    // Letting go of the training model frees the copy; the training model is not ours to dispose.
    const tensors = tf.memory().numTensors;
    classifier.unfollow(training);
    expect(classifier.info).toBeNull();
    expect(tf.memory().numTensors).toBe(tensors - training.weights.length);
    expect(training.getWeights()[0]?.isDisposed).toBe(false);
    training.dispose();
  });

  it('owns an adopted model, and shows a grayscale model what it sees in grey', async () => {
    const gray = buildModel({ ...CONFIG, color: 'gray' });
    const classifier = new Classifier();
    classifier.adopt(gray, { ...META, color: 'gray' }, { ...INFO, source: 'library', color: 'gray' });
    const probs = await classifier.predict(PIXELS, 2);
    expect(probs).toHaveLength(20);
    const seen = classifier.displayPixels(PIXELS.subarray(0, PIXELS_PER_IMAGE));
    for (let i = 0; i < seen.length; i += 3) {
      expect(seen[i]).toBe(seen[i + 1]);
      expect(seen[i]).toBe(seen[i + 2]);
    }
    // A new model replaces (and frees) the old one.
    const rgb = buildModel(CONFIG);
    classifier.adopt(rgb, META, { ...INFO, source: 'imported' });
    expect(() => gray.getWeights()).toThrow(/disposed/);
    expect(classifier.displayPixels(PIXELS)).toBe(PIXELS);
    classifier.dispose();
    expect(() => rgb.getWeights()).toThrow(/disposed/);
  });

  it('refuses a model whose input does not match its colour label, and frees it', () => {
    const rgb = buildModel(CONFIG);
    const classifier = new Classifier();
    expect(() => classifier.adopt(rgb, { ...META, color: 'gray' }, INFO)).toThrow(/3 channels/);
    expect(() => rgb.getWeights()).toThrow(/disposed/);
    expect(classifier.info).toBeNull();
  });
});
