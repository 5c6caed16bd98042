import { describe, expect, it } from 'vitest';
import { curves, smooth, thin } from './curves';

describe('smooth', () => {
  it('starts at the first value (bias-corrected) and follows a constant exactly', () => {
    expect(smooth([5, 5, 5])).toEqual([5, 5, 5].map((v) => expect.closeTo(v, 10)));
  });
  it('lags behind a jump', () => {
    const s = smooth([0, 0, 10], 0.5);
    expect(s[2]).toBeGreaterThan(0);
    expect(s[2]).toBeLessThan(10);
  });
});

describe('thin', () => {
  it('keeps short series whole and long ones under the cap, last point included', () => {
    expect(thin([1, 2, 3], 5)).toEqual([1, 2, 3]);
    const long = Array.from({ length: 1001 }, (_, i) => i);
    const t = thin(long, 100);
    expect(t.length).toBeLessThanOrEqual(101);
    expect(t.at(-1)).toBe(1000);
  });
});

describe('curves', () => {
  it('puts steps at fractional epochs and validation points at whole epochs', () => {
    const step = (epoch: number, batchInEpoch: number) => ({
      step: 0,
      epoch,
      batchInEpoch,
      batchesPerEpoch: 4,
      loss: 1,
      accuracy: 0.5,
      imagesPerSecond: 1,
    });
    const c = curves(
      [step(1, 1), step(1, 4), step(2, 2)],
      [{ epoch: 1, trainLoss: 1, trainAccuracy: 0.5, valLoss: 2, valAccuracy: 0.25, seconds: 1, imagesPerSecond: 1, best: true }],
    );
    expect(c.trainLoss.map((p) => p.x)).toEqual([0.25, 1, 1.5]);
    expect(c.valLoss).toEqual([{ x: 1, y: 2 }]);
    expect(c.valAccuracy).toEqual([{ x: 1, y: 0.25 }]);
  });
});
