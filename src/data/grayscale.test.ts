import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { grayscaleBytes, grayscaleTensor, luma } from './grayscale';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('luma', () => {
  it('uses the BT.601 weights', () => {
    expect(luma([255, 0, 0])).toBeCloseTo(76.245, 10);
    expect(luma([0, 255, 0])).toBeCloseTo(149.685, 10);
    expect(luma([0, 0, 255])).toBeCloseTo(29.07, 10);
    expect(luma([255, 255, 255])).toBeCloseTo(255, 10);
  });
});

describe('grayscaleBytes', () => {
  it('rounds each pixel to the nearest byte', () => {
    // 76.245 → 76, 149.685 → 150, 29.07 → 29, 255 → 255, 0 → 0,
    // (10, 20, 30): 2.99 + 11.74 + 3.42 = 18.15 → 18
    const rgb = Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 10, 20, 30]);
    expect(Array.from(grayscaleBytes(rgb))).toEqual([76, 150, 29, 255, 0, 18]);
  });

  it('refuses data that is not whole RGB triples', () => {
    expect(() => grayscaleBytes(new Uint8Array(4))).toThrow(RangeError);
  });
});

describe('grayscaleTensor', () => {
  it('matches the byte version before rounding, keeping a channel axis of 1', async () => {
    const rgb = Uint8Array.from({ length: 2 * 2 * 2 * 3 }, (_, i) => (i * 37) % 256);
    const out = grayscaleTensor(tf.tensor4d(Float32Array.from(rgb), [2, 2, 2, 3]));
    expect(out.shape).toEqual([2, 2, 2, 1]);
    const values = await out.data();
    const expected = grayscaleBytes(rgb);
    values.forEach((v, i) => expect(Math.round(v)).toBe(expected[i]));
    expect(values[1]).toBeCloseTo(luma([rgb[3] as number, rgb[4] as number, rgb[5] as number]), 3);
  });

  it('refuses a tensor without 3 channels', () => {
    expect(() => grayscaleTensor(tf.zeros([1, 2, 2, 1]) as tf.Tensor4D)).toThrow(RangeError);
  });
});
