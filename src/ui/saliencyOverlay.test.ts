import { describe, expect, it } from 'vitest';
import { heatPixels, hotArea } from './saliencyOverlay';

const map = (hot: (x: number, y: number) => boolean) =>
  Uint8Array.from({ length: 1024 }, (_, i) => (hot(i % 32, Math.floor(i / 32)) ? 255 : 10));

describe('saliency overlay', () => {
  it('makes cold pixels transparent and hot ones opaque', () => {
    const rgba = heatPixels(Uint8Array.from([0, 255]));
    expect(rgba[3]).toBe(0);
    expect(rgba[7]).toBeGreaterThan(200);
  });

  it('names where the strongest pixels are', () => {
    expect(hotArea(map((x, y) => x < 8 && y < 8))).toBe('top left');
    expect(hotArea(map((x, y) => x >= 12 && x < 20 && y >= 12 && y < 20))).toBe('centre');
    expect(hotArea(map((x, y) => x > 24 && y > 12 && y < 20))).toBe('right');
    expect(hotArea(new Uint8Array(1024))).toBeNull();
  });
});
