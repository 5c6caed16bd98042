import { describe, expect, it } from 'vitest';
import type { KernelResult } from '../src/bench/protocol';
import { kernelSumSpread, ratioSpread, spread, spreadText } from './bench-report';

describe('spread', () => {
  it('gives min, median and max of an odd count', () => {
    expect(spread([5, 1, 3])).toEqual({ n: 3, min: 1, median: 3, max: 5 });
  });

  it('takes the mean of the middle two for an even count', () => {
    expect(spread([4, 1, 2, 10])).toEqual({ n: 4, min: 1, median: 3, max: 10 });
  });

  it('leaves out values that are not finite (a run that could not train)', () => {
    expect(spread([Number.NaN, 2, Number.POSITIVE_INFINITY])).toEqual({ n: 1, min: 2, median: 2, max: 2 });
    expect(spread([])).toBeNull();
  });
});

describe('ratioSpread', () => {
  it('divides pair by pair, not the sums', () => {
    // The sums give 36 / 12 = 3; the pairs give 2, 3 and 3.5.
    expect(ratioSpread([2, 6, 28], [1, 2, 8])).toEqual({ n: 3, min: 2, median: 3, max: 3.5 });
    expect(ratioSpread([10, 20], [5, 5])).toEqual({ n: 2, min: 2, median: 3, max: 4 });
  });

  it('drops the unpaired tail', () => {
    expect(ratioSpread([4, 9, 100], [2, 3])?.n).toBe(2);
  });
});

describe('spreadText', () => {
  const x = (v: number) => `${v.toFixed(2)}×`;
  it('names the order of the three figures and the count', () => {
    expect(spreadText({ n: 5, min: 2.61, median: 2.8, max: 3.02 }, x)).toBe('2.61× / 2.80× / 3.02× (min / median / max of 5)');
  });

  it('says when there is only one measurement', () => {
    expect(spreadText({ n: 1, min: 2, median: 2, max: 2 }, x)).toBe('2.00× (one measurement, no spread)');
    expect(spreadText(null, x)).toBe('—');
  });
});

describe('kernelSumSpread', () => {
  const shape = { inChannels: 3, outChannels: 8, height: 4, width: 4, stride: 1, pad: 'same' } as const;
  const row = (ours: number[], stock: number[] | null) => ({
    shape,
    method: 'taps',
    oursMs: 0,
    stockMs: null,
    oursRepsMs: ours,
    stockRepsMs: stock,
  });

  it('adds the r-th call of every shape before dividing', () => {
    const result = { kind: 'kernels', backend: 'webgpu', rows: [row([1, 2], [3, 8]), row([1, 2], [1, 4])] } as unknown as KernelResult;
    // Repetition 1: (3 + 1) / (1 + 1) = 2; repetition 2: (8 + 4) / (2 + 2) = 3.
    expect(kernelSumSpread(result)).toEqual({ n: 2, min: 2, median: 2.5, max: 3 });
  });

  it('is null without a stock kernel', () => {
    const result = { kind: 'kernels', backend: 'wasm', rows: [row([1, 2], null)] } as unknown as KernelResult;
    expect(kernelSumSpread(result)).toBeNull();
  });
});
