import { describe, expect, it } from 'vitest';
import { DECODE_SIDE, areaAverageRgb, areaWeights, planDecode } from './resample';

/** width × height RGBA, every pixel from `pixel(x, y)`. */
function image(width: number, height: number, pixel: (x: number, y: number) => [number, number, number, number]): Uint8Array {
  const out = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out.set(pixel(x, y), (y * width + x) * 4);
  return out;
}

const at = (rgb: Uint8Array, x: number, y: number, side = 32) => Array.from(rgb.subarray((y * side + x) * 3, (y * side + x) * 3 + 3));

describe('planDecode', () => {
  it('cuts the centred square and decodes a large photo at DECODE_SIDE', () => {
    expect(planDecode(6000, 4000)).toEqual({ sx: 1000, sy: 0, side: 4000, decodeSide: DECODE_SIDE });
    expect(planDecode(4000, 6000)).toEqual({ sx: 0, sy: 1000, side: 4000, decodeSide: DECODE_SIDE });
    expect(planDecode(101, 50)).toEqual({ sx: 25, sy: 0, side: 50, decodeSide: 50 });
    expect(planDecode(32, 32)).toEqual({ sx: 0, sy: 0, side: 32, decodeSide: 32 });
    expect(planDecode(1, 1)).toEqual({ sx: 0, sy: 0, side: 1, decodeSide: 1 });
  });

  it('refuses sizes that are not whole positive numbers', () => {
    expect(() => planDecode(0, 10)).toThrow(RangeError);
    expect(() => planDecode(10.5, 10)).toThrow(RangeError);
  });
});

describe('areaWeights', () => {
  it('covers each output pixel exactly once, shares summing to 1', () => {
    for (const [n, m] of [
      [256, 32],
      [48, 32],
      [50, 32],
      [33, 32],
      [7, 32],
      [1, 32],
      [32, 32],
    ] as const) {
      const weights = areaWeights(n, m);
      expect(weights).toHaveLength(m);
      for (const taps of weights) expect(taps.reduce((s, t) => s + t.weight, 0)).toBeCloseTo(1, 12);
      // Every source pixel contributes n/m… in total: area is conserved.
      const perSource = new Array<number>(n).fill(0);
      for (const taps of weights) for (const t of taps) perSource[t.index] = (perSource[t.index] ?? 0) + t.weight;
      for (const total of perSource) expect(total).toBeCloseTo(m / n, 12);
    }
  });

  it('is a whole box for integer factors and splits pixels at fractional ones', () => {
    expect(areaWeights(256, 32)[1]).toEqual(Array.from({ length: 8 }, (_, i) => ({ index: 8 + i, weight: 1 / 8 })));
    // 48 → 32: output 0 covers source [0, 1.5): all of pixel 0 and half of pixel 1.
    expect(areaWeights(48, 32)[0]).toEqual([
      { index: 0, weight: 2 / 3 },
      { index: 1, weight: 1 / 3 },
    ]);
  });
});

describe('areaAverageRgb', () => {
  it('averages whole boxes exactly (64 → 32: each output is the mean of a 2 × 2 block)', () => {
    const src = image(64, 64, (x, y) => [(x * 4) % 256, (y * 4) % 256, (x + y) % 2 === 0 ? 200 : 100, 255]);
    const out = areaAverageRgb(src, 64, 64);
    expect(out).toHaveLength(32 * 32 * 3);
    for (const [ox, oy] of [
      [0, 0],
      [5, 9],
      [31, 31],
    ] as const) {
      const mean = (c: number) => {
        let s = 0;
        for (const [dx, dy] of [
          [0, 0],
          [1, 0],
          [0, 1],
          [1, 1],
        ])
          s += src[((2 * oy + (dy as number)) * 64 + 2 * ox + (dx as number)) * 4 + c] as number;
        return Math.round(s / 4);
      };
      expect(at(out, ox, oy)).toEqual([mean(0), mean(1), mean(2)]);
    }
  });

  it('does not alias: a one-pixel checkerboard becomes flat grey, not black or white', () => {
    const board = image(256, 256, (x, y) => ((x + y) % 2 === 0 ? [0, 0, 0, 255] : [255, 255, 255, 255]));
    const out = areaAverageRgb(board, 256, 256);
    for (const v of out) expect(Math.abs(v - 127.5)).toBeLessThanOrEqual(0.5);
    // One-pixel stripes at a fractional ratio (50 → 32: each output spans 1.5625 pixels, so always part of both colours).
    const stripes = image(50, 50, (x) => (x % 2 === 0 ? [255, 255, 255, 255] : [0, 0, 0, 255]));
    for (const v of areaAverageRgb(stripes, 50, 50)) {
      expect(v).toBeGreaterThan(50);
      expect(v).toBeLessThan(205);
    }
  });

  it('composites transparency on white', () => {
    const clear = areaAverageRgb(
      image(8, 8, () => [0, 0, 0, 0]),
      8,
      8,
    );
    expect(new Set(clear)).toEqual(new Set([255]));
    const halfRed = areaAverageRgb(
      image(4, 4, () => [255, 0, 0, 128]),
      4,
      4,
      2,
    );
    // 255·a + 255·(1 − a) = 255 for red; 0·a + 255·(1 − a) = 127 for green and blue (a = 128/255).
    expect(at(halfRed, 0, 0, 2)).toEqual([255, 127, 127]);
    expect(
      at(
        areaAverageRgb(
          image(2, 2, () => [10, 20, 30, 255]),
          2,
          2,
          1,
        ),
        0,
        0,
        1,
      ),
    ).toEqual([10, 20, 30]);
  });

  it('keeps HWC order: a left-red / right-blue image stays that way', () => {
    const out = areaAverageRgb(
      image(64, 64, (x) => (x < 32 ? [255, 0, 0, 255] : [0, 0, 255, 255])),
      64,
      64,
    );
    expect(at(out, 0, 0)).toEqual([255, 0, 0]);
    expect(at(out, 15, 31)).toEqual([255, 0, 0]);
    expect(at(out, 16, 0)).toEqual([0, 0, 255]);
    expect(at(out, 31, 17)).toEqual([0, 0, 255]);
  });

  it('enlarges images smaller than 32 × 32 by repeating their pixels', () => {
    const out = areaAverageRgb(
      image(2, 2, (x, y) => [x * 255, y * 255, 0, 255]),
      2,
      2,
    );
    expect(at(out, 0, 0)).toEqual([0, 0, 0]);
    expect(at(out, 31, 0)).toEqual([255, 0, 0]);
    expect(at(out, 0, 31)).toEqual([0, 255, 0]);
  });

  it('refuses a buffer of the wrong size', () => {
    expect(() => areaAverageRgb(new Uint8Array(10), 2, 2)).toThrow(RangeError);
  });
});
