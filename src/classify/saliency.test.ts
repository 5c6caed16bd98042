import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { PIXELS_PER_IMAGE } from '../data/format';
import { inputGradients, saliencyMaps, toSaliencyBytes, SALIENCY_PIXELS } from './saliency';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const STATS = { mean: [100, 110, 120] as const, std: [50, 60, 70] as const };

/** A softmax regression on the flattened image, whose input gradient has a closed form. */
function linearModel(seed: number): { model: tf.LayersModel; w: number[][]; b: number[] } {
  const model = tf.sequential({
    layers: [tf.layers.flatten({ inputShape: [32, 32, 3] }), tf.layers.dense({ units: 10, activation: 'softmax' })],
  });
  let state = seed;
  const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 0.02;
  const w = Array.from({ length: PIXELS_PER_IMAGE }, () => Array.from({ length: 10 }, random));
  const b = Array.from({ length: 10 }, random);
  model.setWeights([tf.tensor2d(w), tf.tensor1d(b)]);
  return { model, w, b };
}

describe('saliency', () => {
  it('is the gradient of the top class log probability with respect to the raw pixels', async () => {
    const { model, w, b } = linearModel(7);
    const pixels = Uint8Array.from({ length: 2 * PIXELS_PER_IMAGE }, (_, i) => (i * 37) % 256);
    const top = [3, 8];
    const got = await inputGradients(model, { color: 'rgb', ...STATS }, pixels, 2, top);

    // d log p_k / d x_j = (w_jk − Σ_c p_c w_jc) / std(channel of j), with z = ((x − mean) / std) · W + b.
    for (let image = 0; image < 2; image++) {
      const x = Array.from(
        pixels.subarray(image * PIXELS_PER_IMAGE, (image + 1) * PIXELS_PER_IMAGE),
        (v, j) => (v - (STATS.mean[j % 3] as number)) / (STATS.std[j % 3] as number),
      );
      const logits = b.map((bias, c) => x.reduce((sum, xj, j) => sum + xj * (w[j]?.[c] as number), bias));
      const top1 = Math.max(...logits);
      const e = logits.map((z) => Math.exp(z - top1));
      const p = e.map((v) => v / e.reduce((a, c) => a + c, 0));
      const k = top[image] as number;
      for (const pixel of [0, 100, 517, 1023]) {
        const perChannel = [0, 1, 2].map((ch) => {
          const j = pixel * 3 + ch;
          const wj = w[j] as number[];
          return Math.abs(((wj[k] as number) - p.reduce((s, pc, c) => s + pc * (wj[c] as number), 0)) / (STATS.std[ch] as number));
        });
        expect(got[image * SALIENCY_PIXELS + pixel]).toBeCloseTo(Math.max(...perChannel), 6);
      }
    }
    model.dispose();
  });

  it('scales each map by its own 99th percentile and leaves a flat map black', () => {
    const magnitudes = new Float32Array(2 * SALIENCY_PIXELS);
    // Map 0: pixel p has magnitude p, so the 99th percentile (index 1013) becomes 255 and everything above it is clipped.
    for (let p = 0; p < SALIENCY_PIXELS; p++) magnitudes[p] = p;
    const bytes = toSaliencyBytes(magnitudes, 2);
    expect(bytes[1013]).toBe(255);
    expect(bytes[1023]).toBe(255);
    expect(bytes[0]).toBe(0);
    expect(bytes[506]).toBe(Math.round((506 / 1013) * 255));
    expect(bytes.subarray(SALIENCY_PIXELS).every((v) => v === 0)).toBe(true);
  });

  it('leaves no tensor behind, for grayscale models too', async () => {
    const model = tf.sequential({
      layers: [tf.layers.flatten({ inputShape: [32, 32, 1] }), tf.layers.dense({ units: 10, activation: 'softmax' })],
    });
    const before = tf.memory().numTensors;
    const maps = await saliencyMaps(model, { color: 'gray', ...STATS }, new Uint8Array(PIXELS_PER_IMAGE).fill(90), 1, [0]);
    expect(maps).toHaveLength(SALIENCY_PIXELS);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('refuses a class list that does not match the images', async () => {
    const { model } = linearModel(1);
    await expect(inputGradients(model, { color: 'rgb', ...STATS }, new Uint8Array(PIXELS_PER_IMAGE), 1, [1, 2])).rejects.toThrow(
      RangeError,
    );
    model.dispose();
  });
});
