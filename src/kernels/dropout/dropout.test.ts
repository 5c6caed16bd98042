import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DROPOUT, dropoutKernels, dropoutTraining, hash32, kept } from './dropout';

describe('dropout kernel on cpu', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
    for (const config of dropoutKernels('cpu')) tf.registerKernel(config);
  });
  afterAll(() => tf.unregisterKernel(DROPOUT, 'cpu'));

  it('exists for every backend the app trains on', () => {
    for (const backend of ['webgpu', 'webgl', 'wasm', 'cpu']) expect(dropoutKernels(backend).map((k) => k.kernelName)).toEqual([DROPOUT]);
    expect(dropoutKernels('tensorflow')).toEqual([]);
  });

  it('hashes to spread 32-bit values (a one-bit change flips about half the bits)', () => {
    const flips: number[] = [];
    for (let i = 0; i < 256; i++) {
      const d = hash32(i) ^ hash32(i ^ 1);
      flips.push(
        d
          .toString(2)
          .split('')
          .filter((b) => b === '1').length,
      );
    }
    const mean = flips.reduce((a, b) => a + b, 0) / flips.length;
    expect(mean).toBeGreaterThan(14);
    expect(mean).toBeLessThan(18);
  });

  it('drops the rate’s share, scales the rest by 1/(1 − rate), and the same seed gives the same mask', () => {
    const x = tf.ones([40, 25, 10]);
    const y = dropoutTraining(x, 0.25, 1234).dataSync();
    const zeros = y.filter((v) => v === 0).length / y.length;
    expect(zeros).toBeGreaterThan(0.23);
    expect(zeros).toBeLessThan(0.27);
    for (const v of y) expect([0, Math.fround(1 / 0.75)]).toContain(v);
    // The mask is the pure function `kept` of (seed, index).
    y.forEach((v, i) => expect(v !== 0).toBe(kept(1234, i, 0.25)));
    expect(Array.from(dropoutTraining(x, 0.25, 1234).dataSync())).toEqual(Array.from(y));
    // Another seed, another mask: about 0.75² of the elements kept by both.
    const other = dropoutTraining(x, 0.25, 1235).dataSync();
    const both = y.filter((v, i) => v !== 0 && other[i] !== 0).length / y.length;
    expect(both).toBeGreaterThan(0.53);
    expect(both).toBeLessThan(0.6);
  });

  it('passes the gradient through the same mask', () => {
    const x = tf.randomNormal([7, 9, 5], 0, 1, 'float32', 3);
    const dy = tf.randomNormal([7, 9, 5], 0, 1, 'float32', 4);
    const dx = tf
      .grad((t: tf.Tensor) => tf.sum(tf.mul(dropoutTraining(t, 0.4, 99), dy)))(x)
      .dataSync();
    const expected = tf.mul(dy, dropoutTraining(tf.onesLike(x), 0.4, 99)).dataSync();
    // Same zeros; the kept values differ at most by the rounding of dy·s against dy·(1·s).
    dx.forEach((v, i) => {
      expect(v === 0).toBe(expected[i] === 0);
      expect(Math.abs(v - (expected[i] as number))).toBeLessThan(1e-6);
    });
    expect(dx.some((v) => v === 0)).toBe(true);
  });

  it('gives each part of a batch split in equal parts its rows of the whole batch’s mask', () => {
    const whole = tf.randomNormal([8, 6, 6, 5], 0, 1, 'float32', 5);
    const expected = dropoutTraining(whole, 0.3, 77).dataSync();
    const parts = tf.split(whole, 2, 0).map((half, part) => dropoutTraining(half, 0.3, 77, part * half.size).dataSync());
    expect([...(parts[0] ?? []), ...(parts[1] ?? [])]).toEqual(Array.from(expected));
    // Without the offset the second half would repeat the first half's mask.
    const unshifted = dropoutTraining(tf.split(whole, 2, 0)[1] as tf.Tensor, 0.3, 77).dataSync();
    expect(Array.from(unshifted)).not.toEqual(Array.from(parts[1] ?? []));
  });

  it('refuses a rate outside [0, 1), and an offset that is not a whole number', () => {
    expect(() => dropoutTraining(tf.ones([4]), 1, 1)).toThrow(RangeError);
    expect(() => dropoutTraining(tf.ones([4]), -0.1, 1)).toThrow(RangeError);
    expect(() => dropoutTraining(tf.ones([4]), 0.5, 1, -4)).toThrow(RangeError);
    expect(() => dropoutTraining(tf.ones([4]), 0.5, 1, 1.5)).toThrow(RangeError);
  });
});

describe('dropout kernel on wasm', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
    for (const config of dropoutKernels('wasm')) tf.registerKernel(config);
  });
  afterAll(async () => {
    tf.unregisterKernel(DROPOUT, 'wasm');
    await tf.setBackend('cpu');
  });

  it('drops the elements `kept` names from its offset on, and scales the rest as tfjs does, in the wasm heap', () => {
    const values = Array.from({ length: 3 * 7 * 7 * 4 }, (_, i) => Math.fround(Math.sin(i)));
    const got = dropoutTraining(tf.tensor(values, [3, 7, 7, 4]), 0.4, 2024, 588).dataSync();
    const scale = Math.fround(1 / Math.fround(0.6));
    expect(Array.from(got)).toEqual(values.map((v, i) => (kept(2024, 588 + i, 0.4) ? Math.fround(v * scale) : 0)));
    expect(got.filter((v) => v === 0).length).toBeGreaterThan(0);
  });
});
