/**
 * A learnable toy task for the loop's tests: dim noise with a bright 12×12
 * square in the middle whose colour is the class. Colour survives flips and
 * 4-pixel shifts, so the task stays learnable with augmentation on.
 */
import { PIXELS_PER_IMAGE } from '../data/format';
import { mulberry32 } from '../data/random';
import type { Subset } from '../run/records';

/** Ten easily told apart square colours, one per class. */
const PALETTE = [
  [255, 0, 0],
  [0, 255, 0],
  [0, 0, 255],
  [255, 255, 0],
  [255, 0, 255],
  [0, 255, 255],
  [255, 255, 255],
  [255, 128, 0],
  [128, 0, 255],
  [0, 128, 128],
];

/** Channel statistics close to the toy images' own, 0–255 scale. */
export const TOY_STATS = { mean: [60, 60, 60], std: [70, 70, 70] } as const;

export const EMPTY: Subset = { pixels: new Uint8Array(0), labels: new Uint8Array(0), indices: new Uint32Array(0) };

/** `n` images of classes 0 … classes − 1 in turn; `labelOf` lets a test mislabel them. */
export function toyData(n: number, seed: number, opts: { classes?: number; labelOf?: (cls: number) => number } = {}): Subset {
  const { classes = 10, labelOf = (cls: number) => cls } = opts;
  const random = mulberry32(seed);
  const pixels = new Uint8Array(n * PIXELS_PER_IMAGE);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const cls = i % classes;
    labels[i] = labelOf(cls);
    const base = i * PIXELS_PER_IMAGE;
    for (let j = 0; j < PIXELS_PER_IMAGE; j++) pixels[base + j] = Math.floor(random() * 80);
    for (let y = 10; y < 22; y++) for (let x = 10; x < 22; x++) pixels.set(PALETTE[cls] as number[], base + (y * 32 + x) * 3);
  }
  return { pixels, labels, indices: Uint32Array.from({ length: n }, (_, i) => i) };
}
