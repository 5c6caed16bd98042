import { describe, expect, it } from 'vitest';
import { PIXELS_PER_IMAGE } from '../data/format';
import { epochOrder, fillBatch, trainBatchesPerEpoch } from './batches';

/** Image i is filled with the byte i + 1 (its first pixel) and i + 2 (the rest), label i % 10. */
function makeSplit(n: number) {
  const pixels = new Uint8Array(n * PIXELS_PER_IMAGE);
  for (let i = 0; i < n; i++) {
    pixels.fill(i + 2, i * PIXELS_PER_IMAGE, (i + 1) * PIXELS_PER_IMAGE);
    pixels[i * PIXELS_PER_IMAGE] = i + 1;
  }
  const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);
  return { pixels, labels };
}

describe('fillBatch', () => {
  const { pixels, labels } = makeSplit(20);

  it('copies the chosen images in order, as floats 0–255', () => {
    const out = new Float32Array(3 * PIXELS_PER_IMAGE);
    const outLabels = new Int32Array(3);
    const real = fillBatch(pixels, labels, Uint32Array.from([7, 3, 12, 5]), 1, 3, out, outLabels);
    expect(real).toBe(3);
    expect(Array.from(outLabels)).toEqual([3, 2, 5]);
    expect([out[0], out[1], out[PIXELS_PER_IMAGE], out[2 * PIXELS_PER_IMAGE], out[3 * PIXELS_PER_IMAGE - 1]]).toEqual([4, 5, 13, 6, 7]);
  });

  it('pads the last batch with zero rows and reports the real count', () => {
    const out = new Float32Array(4 * PIXELS_PER_IMAGE).fill(99);
    const outLabels = new Int32Array(4).fill(99);
    const real = fillBatch(pixels, labels, Uint32Array.from([0, 1, 2, 3, 4, 5]), 4, 4, out, outLabels);
    expect(real).toBe(2);
    expect(Array.from(outLabels)).toEqual([4, 5, 0, 0]);
    expect(out[PIXELS_PER_IMAGE]).toBe(6); // image 5
    expect(out.subarray(2 * PIXELS_PER_IMAGE).every((v) => v === 0)).toBe(true);
  });

  it('refuses buffers of the wrong size, a start past the end and unknown images', () => {
    const idx = Uint32Array.from([0, 1]);
    expect(() => fillBatch(pixels, labels, idx, 0, 2, new Float32Array(PIXELS_PER_IMAGE), new Int32Array(2))).toThrow(RangeError);
    expect(() => fillBatch(pixels, labels, idx, 2, 1, new Float32Array(PIXELS_PER_IMAGE), new Int32Array(1))).toThrow(RangeError);
    expect(() => fillBatch(pixels, labels, Uint32Array.from([20]), 0, 1, new Float32Array(PIXELS_PER_IMAGE), new Int32Array(1))).toThrow(
      RangeError,
    );
  });
});

describe('epochOrder', () => {
  const indices = Uint32Array.from({ length: 100 }, (_, i) => 3 * i);

  it('is a permutation of the indices and leaves the input alone', () => {
    const copy = indices.slice();
    const order = epochOrder(indices, 1, 1);
    expect(Array.from(order).sort((a, b) => a - b)).toEqual(Array.from(indices));
    expect(order).not.toEqual(indices);
    expect(indices).toEqual(copy);
  });

  it('is a pure function of (epoch, seed) and reshuffles every epoch', () => {
    expect(epochOrder(indices, 2, 1)).toEqual(epochOrder(indices, 2, 1));
    expect(epochOrder(indices, 3, 1)).not.toEqual(epochOrder(indices, 2, 1));
    expect(epochOrder(indices, 2, 9)).not.toEqual(epochOrder(indices, 2, 1));
  });
});

describe('trainBatchesPerEpoch', () => {
  it('counts only full batches', () => {
    expect(trainBatchesPerEpoch(100, 32)).toBe(3);
    expect(trainBatchesPerEpoch(96, 32)).toBe(3);
    expect(trainBatchesPerEpoch(31, 32)).toBe(0);
  });
});
