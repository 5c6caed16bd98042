import { describe, expect, it } from 'vitest';
import { flatIndexSnippet } from './webgl-program';

describe('flatIndexSnippet', () => {
  it('gives the row-major index of the output coordinates, strides baked in', () => {
    expect(flatIndexSnippet([])).toBe('int index = 0;');
    expect(flatIndexSnippet([7])).toBe('int index = getOutputCoords();');
    expect(flatIndexSnippet([4, 10])).toBe('ivec2 c = getOutputCoords(); int index = c[0] * 10 + c[1];');
    expect(flatIndexSnippet([4, 9, 11, 6])).toBe('ivec4 c = getOutputCoords(); int index = c[0] * 594 + c[1] * 66 + c[2] * 6 + c[3];');
  });

  it('refuses a rank WebGL programs of ours do not take', () => {
    expect(() => flatIndexSnippet([1, 2, 3, 4, 5])).toThrow('rank ≤ 4, got 5');
  });
});
