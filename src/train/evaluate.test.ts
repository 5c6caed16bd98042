import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../model/model';
import { evaluate } from './evaluate';
import { EMPTY, TOY_STATS, toyData } from './toyData';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The model's probabilities for `images` standardised by TOY_STATS, computed directly. */
function directProbs(model: tf.LayersModel, pixels: Uint8Array, n: number, mirror = false): number[][] {
  return tf.tidy(() => {
    const x = tf.tensor4d(Float32Array.from(pixels), [n, 32, 32, 3]);
    const normalized = tf.div(tf.sub(x, tf.tensor1d([...TOY_STATS.mean])), tf.tensor1d([...TOY_STATS.std])) as tf.Tensor4D;
    const probs = model.predict(normalized) as tf.Tensor2D;
    if (!mirror) return probs.arraySync();
    return tf.div(tf.add(probs, model.predict(tf.reverse(normalized, 2)) as tf.Tensor2D), 2).arraySync() as number[][];
  });
}

describe('evaluate', () => {
  it('matches a direct computation, ignoring the padded rows of the last batch', async () => {
    const model = buildModel({ preset: 'tiny', color: 'rgb', seed: 3 });
    const subset = toyData(10, 4);
    // Batches of 4: 4 + 4 + 2 real rows, the last padded with 2 zero images.
    const result = await evaluate(model, subset, { color: 'rgb', stats: TOY_STATS, batchSize: 4, sampleCount: 3, misclassifiedLimit: 2 });

    const probs = directProbs(model, subset.pixels, 10);
    const predicted = probs.map((p) => p.indexOf(Math.max(...p)));
    const labels = Array.from(subset.labels);
    const loss = labels.reduce((sum, label, i) => sum - Math.log(Math.max(1e-7, probs[i]?.[label] as number)), 0) / 10;
    expect(result.count).toBe(10);
    expect(result.loss).toBeCloseTo(loss, 5);
    expect(result.accuracy).toBeCloseTo(predicted.filter((p, i) => p === labels[i]).length / 10, 10);
    expect(result.confusion.map((row) => row.reduce((a, b) => a + b))).toEqual(new Array(10).fill(1));
    labels.forEach((label, i) => expect(result.confusion[label]?.[predicted[i] as number]).toBe(1));
    expect(result.samples.map((s) => [s.index, s.label, s.predicted])).toEqual([0, 1, 2].map((i) => [i, labels[i], predicted[i]]));
    const wrong = labels.flatMap((label, i) => (predicted[i] === label ? [] : [{ index: i, label, predicted: predicted[i] }]));
    expect(result.misclassified).toEqual(wrong.slice(0, 2));
    result.perClass.forEach((acc, c) => expect(acc).toBe(predicted[c] === c ? 1 : 0));
    model.dispose();
  });

  it('reads the class count from the model: a network built for a data set of 3 classes gets a 3 × 3 confusion matrix', async () => {
    const model = buildModel({ preset: 'quick', color: 'rgb', seed: 3, classes: 3 });
    const subset = toyData(9, 4, { classes: 3 });
    const result = await evaluate(model, subset, { color: 'rgb', stats: TOY_STATS, batchSize: 4, keepPredictions: true });
    const probs = directProbs(model, subset.pixels, 9);
    const predicted = probs.map((p) => p.indexOf(Math.max(...p)));
    expect(result.confusion).toHaveLength(3);
    result.confusion.forEach((row) => expect(row).toHaveLength(3));
    expect(result.confusion.flat().reduce((a, b) => a + b)).toBe(9);
    expect(result.perClass).toHaveLength(3);
    expect(Array.from(result.predictions?.predicted ?? [])).toEqual(predicted);
    expect(result.predictions?.probs).toHaveLength(27);
    model.dispose();
  });

  it('with flip test-time augmentation averages the probabilities of each image and its mirror image', async () => {
    const model = buildModel({ preset: 'tiny', color: 'rgb', seed: 4 });
    const subset = toyData(5, 3);
    const result = await evaluate(model, subset, { color: 'rgb', stats: TOY_STATS, flipTestTime: true, sampleCount: 5 });
    const expected = directProbs(model, subset.pixels, 5, true);
    result.samples.forEach((sample, i) => sample.probs.forEach((p, c) => expect(p).toBeCloseTo(expected[i]?.[c] as number, 5)));
    model.dispose();
  });

  it("keeps every image's prediction and probabilities when asked, position by position", async () => {
    const model = buildModel({ preset: 'tiny', color: 'rgb', seed: 5 });
    const subset = toyData(7, 3);
    const plain = await evaluate(model, subset, { color: 'rgb', stats: TOY_STATS, batchSize: 3 });
    expect(plain.predictions).toBeUndefined();
    const result = await evaluate(model, subset, { color: 'rgb', stats: TOY_STATS, batchSize: 3, keepPredictions: true });
    const probs = directProbs(model, subset.pixels, 7);
    const kept = result.predictions as NonNullable<typeof result.predictions>;
    expect(kept.probs).toHaveLength(70);
    probs.forEach((row, i) => {
      expect(kept.predicted[i]).toBe(row.indexOf(Math.max(...row)));
      row.forEach((p, c) => expect(kept.probs[i * 10 + c]).toBeCloseTo(p, 5));
    });
    model.dispose();
  });

  it('refuses an empty subset and a model of the wrong colour', async () => {
    const model = buildModel({ preset: 'tiny', color: 'rgb', seed: 1 });
    await expect(evaluate(model, EMPTY, { color: 'rgb', stats: TOY_STATS })).rejects.toThrow(RangeError);
    await expect(evaluate(model, toyData(2, 1), { color: 'gray', stats: TOY_STATS })).rejects.toThrow(/channels/);
    model.dispose();
  });
});
