import { describe, expect, it } from 'vitest';
import { earlyStopping } from './earlyStopping';

describe('earlyStopping', () => {
  it('marks a new lowest loss as an improvement', () => {
    expect(earlyStopping([1.0], 3)).toEqual({ bestEpoch: 1, improved: true, stop: false });
    expect(earlyStopping([1.0, 0.8], 3)).toEqual({ bestEpoch: 2, improved: true, stop: false });
  });

  it('stops once `patience` epochs have passed without improvement', () => {
    expect(earlyStopping([1.0, 0.8, 0.9, 0.85], 3)).toEqual({ bestEpoch: 2, improved: false, stop: false });
    expect(earlyStopping([1.0, 0.8, 0.9, 0.85, 0.81], 3)).toEqual({ bestEpoch: 2, improved: false, stop: true });
    expect(earlyStopping([1.0, 1.1], 1)).toEqual({ bestEpoch: 1, improved: false, stop: true });
  });

  it('resets the count after a late improvement', () => {
    expect(earlyStopping([1.0, 1.1, 1.2, 0.5, 0.6], 3)).toEqual({ bestEpoch: 4, improved: false, stop: false });
  });

  it('keeps the earlier epoch on a tie', () => {
    expect(earlyStopping([0.5, 0.5], 3)).toEqual({ bestEpoch: 1, improved: false, stop: false });
  });

  it('never stops with patience 0', () => {
    expect(earlyStopping([0.1, 1, 2, 3, 4, 5, 6, 7, 8, 9], 0)).toEqual({ bestEpoch: 1, improved: false, stop: false });
  });

  it('never picks a NaN loss as the best', () => {
    expect(earlyStopping([0.9, Number.NaN], 2)).toEqual({ bestEpoch: 1, improved: false, stop: false });
    expect(earlyStopping([Number.NaN, Number.NaN], 2)).toEqual({ bestEpoch: null, improved: false, stop: true });
  });

  it('refuses an empty history and a bad patience', () => {
    expect(() => earlyStopping([], 3)).toThrow(RangeError);
    expect(() => earlyStopping([1], -1)).toThrow(RangeError);
  });
});
