import { describe, expect, it } from 'vitest';
import { splitTrainingSet, stratifiedSample, stratifiedSplit } from './split';

/** `counts[c]` images of class c, classes interleaved like a real shuffled archive. */
function makeLabels(counts: number[]): Uint8Array {
  const labels: number[] = [];
  const left = [...counts];
  while (left.some((n) => n > 0)) {
    left.forEach((n, c) => {
      if (n > 0) {
        labels.push(c);
        left[c] = n - 1;
      }
    });
  }
  return Uint8Array.from(labels);
}

function classCounts(labels: Uint8Array, indices: Uint32Array): number[] {
  const counts = new Array<number>(10).fill(0);
  for (const i of indices) {
    const label = labels[i] as number;
    counts[label] = (counts[label] as number) + 1;
  }
  return counts;
}

describe('stratifiedSplit', () => {
  const labels = makeLabels([100, 100, 100, 100, 100, 100, 100, 100, 100, 100]);

  it('gives every class the same validation share', () => {
    const { val, train } = stratifiedSplit(labels, 0.1, 1);
    expect(classCounts(labels, val)).toEqual(new Array(10).fill(10));
    expect(classCounts(labels, train)).toEqual(new Array(10).fill(90));
  });

  it('rounds each class on its own', () => {
    const uneven = makeLabels([15, 25, 4]);
    const { val } = stratifiedSplit(uneven, 0.1, 1);
    // round(1.5) = 2, round(2.5) = 3, round(0.4) = 0
    expect(classCounts(uneven, val).slice(0, 3)).toEqual([2, 3, 0]);
  });

  it('is disjoint and complete, in ascending order', () => {
    const { train, val } = stratifiedSplit(labels, 0.25, 3);
    const all = [...train, ...val].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: labels.length }, (_, i) => i));
    expect(Array.from(train)).toEqual([...train].sort((a, b) => a - b));
    expect(Array.from(val)).toEqual([...val].sort((a, b) => a - b));
  });

  it('is deterministic for a seed and changes with the seed', () => {
    expect(stratifiedSplit(labels, 0.1, 7)).toEqual(stratifiedSplit(labels, 0.1, 7));
    expect(Array.from(stratifiedSplit(labels, 0.1, 7).val)).not.toEqual(Array.from(stratifiedSplit(labels, 0.1, 8).val));
  });

  it('puts nothing in validation for a share of 0, and everything for 1', () => {
    expect(stratifiedSplit(labels, 0, 1).val).toHaveLength(0);
    expect(stratifiedSplit(labels, 0, 1).train).toHaveLength(1000);
    expect(stratifiedSplit(labels, 1, 1).train).toHaveLength(0);
  });

  it('keeps a one-image class in training at small shares', () => {
    const tiny = Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5]);
    const { train, val } = stratifiedSplit(tiny, 0.1, 1);
    expect(classCounts(tiny, val)).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(train)).toContain(10);
  });

  it('handles an empty label set', () => {
    const { train, val } = stratifiedSplit(new Uint8Array(0), 0.1, 1);
    expect(train).toHaveLength(0);
    expect(val).toHaveLength(0);
  });

  it('refuses a share outside [0, 1]', () => {
    expect(() => stratifiedSplit(labels, -0.1, 1)).toThrow(RangeError);
    expect(() => stratifiedSplit(labels, Number.NaN, 1)).toThrow(RangeError);
  });
});

describe('stratifiedSample', () => {
  const labels = makeLabels([200, 100, 100, 50, 50, 100, 100, 100, 100, 100]);
  const all = Uint32Array.from({ length: labels.length }, (_, i) => i);

  it('takes exactly the limit, keeping class proportions', () => {
    const picked = stratifiedSample(labels, all, 100, 1);
    expect(picked).toHaveLength(100);
    expect(classCounts(labels, picked)).toEqual([20, 10, 10, 5, 5, 10, 10, 10, 10, 10]);
  });

  it('hands out the rounding remainder so the total is exact', () => {
    const uneven = makeLabels([10, 10, 10]);
    const idx = Uint32Array.from({ length: 30 }, (_, i) => i);
    const picked = stratifiedSample(uneven, idx, 10, 1);
    expect(picked).toHaveLength(10);
    // 3⅓ each: floors give 9, the tie for the last one goes to class 0.
    expect(classCounts(uneven, picked).slice(0, 3)).toEqual([4, 3, 3]);
  });

  it('only picks from the given indices, without repeats', () => {
    const evens = Uint32Array.from({ length: 500 }, (_, i) => 2 * i);
    const picked = stratifiedSample(labels, evens, 50, 2);
    expect(new Set(picked).size).toBe(50);
    for (const i of picked) expect(i % 2).toBe(0);
  });

  it('is deterministic for a seed and changes with the seed', () => {
    expect(stratifiedSample(labels, all, 60, 4)).toEqual(stratifiedSample(labels, all, 60, 4));
    expect(Array.from(stratifiedSample(labels, all, 60, 4))).not.toEqual(Array.from(stratifiedSample(labels, all, 60, 5)));
  });

  it('returns everything when the limit is at or above the count', () => {
    expect(Array.from(stratifiedSample(labels, all, 5000, 1))).toEqual(Array.from(all));
    expect(stratifiedSample(labels, all, 0, 1)).toHaveLength(0);
  });

  it('refuses a fractional or negative limit', () => {
    expect(() => stratifiedSample(labels, all, 2.5, 1)).toThrow(RangeError);
    expect(() => stratifiedSample(labels, all, -1, 1)).toThrow(RangeError);
  });
});

describe('splitTrainingSet', () => {
  const labels = makeLabels(new Array(10).fill(100));

  it('thins training to the limit and validation to the same share, both drawn from the full parts', () => {
    const full = splitTrainingSet(labels, { validationShare: 0.1, trainLimit: 0, seed: 1 });
    expect(full.train).toHaveLength(900);
    expect(full.val).toHaveLength(100);
    const limited = splitTrainingSet(labels, { validationShare: 0.1, trainLimit: 180, seed: 1 });
    expect(limited.train).toHaveLength(180);
    expect(classCounts(labels, limited.train)).toEqual(new Array(10).fill(18));
    // 180 × 0.1 / 0.9 = 20 validation images, 2 per class.
    expect(limited.val).toHaveLength(20);
    expect(classCounts(labels, limited.val)).toEqual(new Array(10).fill(2));
    const fullTrain = new Set(full.train);
    const fullVal = new Set(full.val);
    for (const i of limited.train) expect(fullTrain.has(i)).toBe(true);
    for (const i of limited.val) expect(fullVal.has(i)).toBe(true);
  });

  it('keeps no validation when the share is 0', () => {
    expect(splitTrainingSet(labels, { validationShare: 0, trainLimit: 100, seed: 1 }).val).toHaveLength(0);
  });
});
