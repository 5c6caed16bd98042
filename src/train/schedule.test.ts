import { describe, expect, it } from 'vitest';
import { warmupDecayRate, type WarmupDecay } from './schedule';

const TRIANGLE: WarmupDecay = { peak: 0.4, warmupFraction: 0.25, startFactor: 0.1, endFactor: 0 };

describe('warmupDecayRate', () => {
  it('rises linearly from startFactor·peak to the peak, then falls linearly to endFactor·peak', () => {
    // 101 steps: last = 100, warm-up ends at step 25.
    const rate = (s: number) => warmupDecayRate(s, 101, TRIANGLE);
    expect(rate(0)).toBeCloseTo(0.04, 12);
    expect(rate(25)).toBeCloseTo(0.4, 12);
    expect(rate(100)).toBeCloseTo(0, 12);
    // Halfway up (warm-up of 20 steps): 0.04 + (0.4 − 0.04)/2.
    expect(warmupDecayRate(10, 101, { ...TRIANGLE, warmupFraction: 0.2 })).toBeCloseTo(0.22, 12);
    expect(warmupDecayRate(50, 101, { ...TRIANGLE, startFactor: 0 })).toBeCloseTo(0.4 * (1 - 25 / 75), 12);
    expect(warmupDecayRate(10, 101, { ...TRIANGLE, startFactor: 0 })).toBeCloseTo(0.4 * (10 / 25), 12);
  });

  it('is monotone on each side of the peak and never above it', () => {
    const rates = Array.from({ length: 97 }, (_, s) =>
      warmupDecayRate(s, 97, { peak: 2, warmupFraction: 0.3, startFactor: 0.2, endFactor: 0.05 }),
    );
    const top = rates.indexOf(Math.max(...rates));
    expect(top).toBe(Math.round(0.3 * 96));
    for (let s = 1; s <= top; s++) expect(rates[s]).toBeGreaterThan(rates[s - 1] as number);
    for (let s = top + 1; s < rates.length; s++) expect(rates[s]).toBeLessThan(rates[s - 1] as number);
    expect(Math.max(...rates)).toBe(2);
    expect(rates.at(-1)).toBeCloseTo(0.1, 12);
  });

  it('keeps the final rate past the end, starts at the peak without warm-up, and handles a one-step run', () => {
    expect(warmupDecayRate(500, 101, TRIANGLE)).toBe(warmupDecayRate(100, 101, TRIANGLE));
    expect(warmupDecayRate(0, 10, { ...TRIANGLE, warmupFraction: 0 })).toBe(0.4);
    expect(warmupDecayRate(0, 1, TRIANGLE)).toBe(0.4);
  });

  it('is a pure function of the step', () => {
    const a = Array.from({ length: 20 }, (_, s) => warmupDecayRate(s, 20, TRIANGLE));
    const b = Array.from({ length: 20 }, (_, s) => warmupDecayRate(19 - s, 20, TRIANGLE)).reverse();
    expect(b).toEqual(a);
  });

  it('rejects steps, lengths and schedules that make no sense', () => {
    expect(() => warmupDecayRate(-1, 10, TRIANGLE)).toThrow(RangeError);
    expect(() => warmupDecayRate(1.5, 10, TRIANGLE)).toThrow(RangeError);
    expect(() => warmupDecayRate(0, 0, TRIANGLE)).toThrow(RangeError);
    expect(() => warmupDecayRate(0, 10, { ...TRIANGLE, peak: 0 })).toThrow(/peak/);
    expect(() => warmupDecayRate(0, 10, { ...TRIANGLE, warmupFraction: 1.5 })).toThrow(/warmupFraction/);
    expect(() => warmupDecayRate(0, 10, { ...TRIANGLE, endFactor: Number.NaN })).toThrow(/endFactor/);
  });
});
