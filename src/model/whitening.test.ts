import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../data/random';
import { addPatches, emptyPatchMoments, symmetricEigen, whiteningFilters } from './whitening';

/** Images whose neighbouring pixels and channels are strongly correlated, like photos. */
function correlatedImages(count: number, size: number, channels: number, seed: number): Float32Array {
  const random = mulberry32(seed);
  const out = new Float32Array(count * size * size * channels);
  for (let n = 0; n < count; n++) {
    let previous = 0;
    for (let p = 0; p < size * size; p++) {
      const base = 2 * random() - 1;
      const shared = 0.8 * previous + base; // correlated along rows
      previous = shared;
      for (let c = 0; c < channels; c++) out[(n * size * size + p) * channels + c] = shared + 0.3 * (c + 1) * (2 * random() - 1);
    }
  }
  return out;
}

describe('symmetricEigen', () => {
  it('decomposes a symmetric matrix as V diag(λ) Vᵀ with orthonormal V and λ descending', () => {
    const n = 6;
    const random = mulberry32(9);
    const b = Array.from({ length: n * n }, () => 2 * random() - 1);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++)
        for (let k = 0; k < n; k++) a[i * n + j] = (a[i * n + j] as number) + (b[i * n + k] as number) * (b[j * n + k] as number);
    const { values, vectors } = symmetricEigen(a, n);
    for (let i = 1; i < n; i++) expect(values[i]).toBeLessThanOrEqual(values[i - 1] as number);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let rebuilt = 0;
        let dot = 0;
        for (let k = 0; k < n; k++) {
          rebuilt += (vectors[i * n + k] as number) * (values[k] as number) * (vectors[j * n + k] as number);
          dot += (vectors[k * n + i] as number) * (vectors[k * n + j] as number);
        }
        expect(rebuilt).toBeCloseTo(a[i * n + j] as number, 9);
        expect(dot).toBeCloseTo(i === j ? 1 : 0, 9);
      }
    }
  });

  it('returns a diagonal matrix as it is, sorted', () => {
    const { values } = symmetricEigen(Float64Array.from([1, 0, 0, 0, 3, 0, 0, 0, 2]), 3);
    expect(Array.from(values)).toEqual([3, 2, 1]);
  });
});

describe('whiteningFilters', () => {
  it('turns correlated 2×2 RGB patches into uncorrelated unit-variance ones (±)', () => {
    const size = 12;
    const images = correlatedImages(40, size, 3, 1);
    const moments = emptyPatchMoments(2, 3);
    addPatches(moments, images, 40, size, size);
    expect(moments.count).toBe(40 * 11 * 11);
    const eps = 1e-6;
    const filters = whiteningFilters(moments, eps);
    const d = 12;
    expect(filters.length).toBe(2 * 2 * 3 * 2 * d);

    // Apply the filters to the same patches by hand and measure the outputs' second moments.
    const outSums = new Float64Array(d * d);
    for (let n = 0; n < 40; n++) {
      for (let y = 0; y < size - 1; y++) {
        for (let x = 0; x < size - 1; x++) {
          const out = new Float64Array(2 * d);
          for (let i = 0; i < 2; i++) {
            for (let j = 0; j < 2; j++) {
              for (let c = 0; c < 3; c++) {
                const pixel = images[((n * size + y + i) * size + x + j) * 3 + c] as number;
                for (let o = 0; o < 2 * d; o++)
                  out[o] = (out[o] as number) + pixel * (filters[((i * 2 + j) * 3 + c) * 2 * d + o] as number);
              }
            }
          }
          for (let o = 0; o < d; o++) expect(out[d + o]).toBeCloseTo(-(out[o] as number), 10);
          for (let a = 0; a < d; a++)
            for (let b = 0; b < d; b++) outSums[a * d + b] = (outSums[a * d + b] as number) + (out[a] as number) * (out[b] as number);
        }
      }
    }
    for (let a = 0; a < d; a++)
      for (let b = 0; b < d; b++) expect((outSums[a * d + b] as number) / moments.count).toBeCloseTo(a === b ? 1 : 0, 3);
  });

  it('caps the gain of near-empty directions at 1/√ε', () => {
    // Constant images: every patch is the same vector, so 11 of 12 directions have zero variance.
    const moments = emptyPatchMoments(2, 3);
    addPatches(moments, new Float32Array(4 * 4 * 3).fill(1), 1, 4, 4);
    const filters = whiteningFilters(moments, 0.01);
    expect(Math.max(...Array.from(filters, Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(0.01) + 1e-6);
  });

  it('refuses to whiten without patches or with ε ≤ 0', () => {
    expect(() => whiteningFilters(emptyPatchMoments(2, 3), 1e-3)).toThrow(RangeError);
    const moments = emptyPatchMoments(2, 1);
    addPatches(moments, new Float32Array(9).fill(1), 1, 3, 3);
    expect(() => whiteningFilters(moments, 0)).toThrow(RangeError);
    expect(() => addPatches(moments, new Float32Array(8), 1, 3, 3)).toThrow(RangeError);
  });
});
