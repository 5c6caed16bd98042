import { describe, expect, it } from 'vitest';
import { isCI } from './ci';

describe('isCI', () => {
  it.each(['1', 'true', 'TRUE', 'yes', 'github'])('CI=%s counts as CI', (value) => {
    expect(isCI({ CI: value })).toBe(true);
  });

  it.each(['', '0', 'false', 'False', ' '])('CI=%j does not', (value) => {
    expect(isCI({ CI: value })).toBe(false);
  });

  it('an unset CI does not', () => {
    expect(isCI({})).toBe(false);
  });
});
