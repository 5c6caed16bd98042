/**
 * The pure arithmetic that turns a photo into the 32 × 32 × 3 bytes a
 * CIFAR-10 model sees: a centred square crop, then an exact area average
 * (box filter) down to 32 × 32, compositing transparency on white. Kept apart
 * from decoding so it is unit-tested in Node.
 *
 * Why an area average: CIFAR-10's images were themselves downscaled photos, so
 * each pixel is the mean colour of a patch. Picking pixels (nearest neighbour)
 * or a 2-tap bilinear filter from a large image aliases fine detail into noise.
 */
import { IMAGE } from '../data/format';

/**
 * Longest side we ask the browser's decoder for. The browser's own high-quality
 * resize takes a 6000-pixel photo down to this while decoding; our exact area
 * average does the last factor (256 / 32 = 8, whole 8 × 8 boxes). Large enough
 * that the browser's filter is not what defines the result, small enough that
 * the RGBA buffer is 256 KB. Unit: pixels.
 */
export const DECODE_SIDE = 256;

export interface DecodePlan {
  /** The centred square to cut from the displayed image. Units: pixels. */
  sx: number;
  sy: number;
  side: number;
  /** The square's side after the browser's resize (≤ DECODE_SIDE; the crop side itself when smaller). */
  decodeSide: number;
}

/** The centred square crop of a width × height image and the size to decode it at. */
export function planDecode(width: number, height: number): DecodePlan {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new RangeError(`Image size must be whole positive numbers, got ${width}×${height}`);
  }
  const side = Math.min(width, height);
  return {
    sx: Math.floor((width - side) / 2),
    sy: Math.floor((height - side) / 2),
    side,
    decodeSide: Math.min(side, DECODE_SIDE),
  };
}

/**
 * For each output index, the source indices it covers and the share of each
 * (their overlap with the output pixel's span, divided by the span, so the
 * shares sum to 1). Source length n, output length m: output o spans
 * [o·n/m, (o+1)·n/m) in source pixels. When n < m, each output pixel lies
 * inside one or two source pixels (a plain enlargement).
 */
export function areaWeights(n: number, m: number): { index: number; weight: number }[][] {
  if (!(Number.isInteger(n) && Number.isInteger(m) && n > 0 && m > 0))
    throw new RangeError(`Lengths must be whole positive numbers, got ${n} → ${m}`);
  const scale = n / m;
  return Array.from({ length: m }, (_, o) => {
    const from = o * scale;
    const to = (o + 1) * scale;
    const taps: { index: number; weight: number }[] = [];
    for (let i = Math.floor(from); i < Math.min(n, Math.ceil(to)); i++) {
      const overlap = Math.min(i + 1, to) - Math.max(i, from);
      if (overlap > 0) taps.push({ index: i, weight: overlap / scale });
    }
    return taps;
  });
}

/**
 * RGBA pixels (row-major, not premultiplied, as `getImageData` returns them)
 * → `side` × `side` × 3 RGB bytes in HWC order, each output pixel the exact
 * area average of the source patch it covers. Every source pixel is first
 * composited on white (out = a·c + (1 − a)·255, a = alpha / 255), so
 * transparent areas read as white paper, not black.
 */
export function areaAverageRgb(
  rgba: Uint8Array | Uint8ClampedArray,
  width: number,
  height: number,
  side: number = IMAGE.width,
): Uint8Array {
  if (rgba.length !== width * height * 4)
    throw new RangeError(`Expected ${width}×${height}×4 = ${width * height * 4} bytes, got ${rgba.length}`);
  const wx = areaWeights(width, side);
  const wy = areaWeights(height, side);
  // Pass 1, along x: every source row → `side` composited RGB values (floats, 0–255).
  const rows = new Float64Array(height * side * 3);
  for (let y = 0; y < height; y++) {
    for (let ox = 0; ox < side; ox++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (const { index, weight } of wx[ox] as { index: number; weight: number }[]) {
        const p = (y * width + index) * 4;
        const a = (rgba[p + 3] as number) / 255;
        const paper = 255 * (1 - a);
        r += weight * ((rgba[p] as number) * a + paper);
        g += weight * ((rgba[p + 1] as number) * a + paper);
        b += weight * ((rgba[p + 2] as number) * a + paper);
      }
      const q = (y * side + ox) * 3;
      rows[q] = r;
      rows[q + 1] = g;
      rows[q + 2] = b;
    }
  }
  // Pass 2, along y.
  const out = new Uint8Array(side * side * 3);
  for (let oy = 0; oy < side; oy++) {
    for (let ox = 0; ox < side; ox++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (const { index, weight } of wy[oy] as { index: number; weight: number }[]) {
        const q = (index * side + ox) * 3;
        r += weight * (rows[q] as number);
        g += weight * (rows[q + 1] as number);
        b += weight * (rows[q + 2] as number);
      }
      const o = (oy * side + ox) * 3;
      out[o] = toByte(r);
      out[o + 1] = toByte(g);
      out[o + 2] = toByte(b);
    }
  }
  return out;
}

/** Rounds to the nearest byte; the tiny excess of float sums (255.0000001) is clamped. */
function toByte(v: number): number {
  return Math.min(255, Math.max(0, Math.round(v)));
}
