import { describe, expect, it } from 'vitest';
import { READ_AT_LEAST_EVERY_MS, isReadDue } from './metricReader';

describe('isReadDue', () => {
  it('reads every `readEvery` steps', () => {
    expect(isReadDue(9, 0, 10)).toBe(false);
    expect(isReadDue(10, 0, 10)).toBe(true);
  });

  it('reads sooner once READ_AT_LEAST_EVERY_MS of run time has passed, but never with nothing waiting', () => {
    expect(isReadDue(1, READ_AT_LEAST_EVERY_MS - 1, 10)).toBe(false);
    expect(isReadDue(1, READ_AT_LEAST_EVERY_MS, 10)).toBe(true);
    expect(isReadDue(0, 10 * READ_AT_LEAST_EVERY_MS, 10)).toBe(false);
  });
});
