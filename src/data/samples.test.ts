import { describe, expect, it } from 'vitest';
import { PIXELS_PER_IMAGE } from './format';
import { gatherImages, pickPerClass } from './samples';

describe('pickPerClass', () => {
  const labels = new Uint8Array(Array.from({ length: 300 }, (_, i) => i % 3));

  it('takes the asked number of distinct images of each class, grouped by class', () => {
    const picked = pickPerClass(labels, 3, 10, 7);
    expect(picked).toHaveLength(30);
    expect(new Set(picked).size).toBe(30);
    expect(picked.map((i) => labels[i])).toEqual([...Array(10).fill(0), ...Array(10).fill(1), ...Array(10).fill(2)]);
  });

  it('is deterministic for a seed and differs between seeds', () => {
    expect(pickPerClass(labels, 3, 5, 1)).toEqual(pickPerClass(labels, 3, 5, 1));
    expect(pickPerClass(labels, 3, 5, 1)).not.toEqual(pickPerClass(labels, 3, 5, 2));
  });

  it('gives what a small class has', () => {
    expect(pickPerClass(new Uint8Array([0, 0, 1]), 2, 5, 1)).toHaveLength(3);
  });
});

describe('gatherImages', () => {
  it('copies the chosen images and labels', () => {
    const pixels = new Uint8Array(3 * PIXELS_PER_IMAGE);
    pixels.fill(9, 2 * PIXELS_PER_IMAGE);
    const out = gatherImages(pixels, new Uint8Array([4, 5, 6]), [2, 0]);
    expect(Array.from(out.labels)).toEqual([6, 4]);
    expect(out.pixels[0]).toBe(9);
    expect(out.pixels[PIXELS_PER_IMAGE]).toBe(0);
  });
});
