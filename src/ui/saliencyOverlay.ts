/**
 * A saliency map (32 × 32 bytes from the worker, src/classify/saliency.ts)
 * as a translucent heat layer, and in words. Pure: unit-tested in Node.
 */
import { IMAGE } from '../data/format';

/** Strongest pixels opaque to this degree, so the picture stays visible under them. 0–255. */
const MAX_ALPHA = 210;

/** RGBA bytes for a 32 × 32 ImageData: hot pixels yellow-red and opaque, cold ones transparent. */
export function heatPixels(map: Uint8Array): Uint8ClampedArray<ArrayBuffer> {
  const out = new Uint8ClampedArray(map.length * 4);
  map.forEach((v, i) => {
    const t = v / 255;
    out[i * 4] = 255;
    out[i * 4 + 1] = Math.round(40 + 200 * t);
    out[i * 4 + 2] = 0;
    out[i * 4 + 3] = Math.round(MAX_ALPHA * t * t);
  });
  return out;
}

const AREAS = [
  ['top left', 'top', 'top right'],
  ['left', 'centre', 'right'],
  ['bottom left', 'bottom', 'bottom right'],
] as const;

/** Where the strongest tenth of the map lies, in words ("the centre", "the top left"), for a text alternative. */
export function hotArea(map: Uint8Array): string | null {
  const sorted = Array.from(map).sort((a, b) => b - a);
  const threshold = sorted[Math.floor(map.length / 10)] as number;
  // Ties at the threshold (a flat background) count only when nothing is above it.
  const above = (sorted[0] as number) > threshold;
  let [sx, sy, n] = [0, 0, 0];
  map.forEach((v, i) => {
    if (v === 0 || (above ? v <= threshold : v < threshold)) return;
    sx += i % IMAGE.width;
    sy += Math.floor(i / IMAGE.width);
    n++;
  });
  if (n === 0) return null;
  const third = (c: number, size: number) => Math.min(2, Math.floor((3 * (c / n + 0.5)) / size));
  return AREAS[third(sy, IMAGE.height)]?.[third(sx, IMAGE.width)] ?? null;
}
