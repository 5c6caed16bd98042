import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { augmentBatch, augmentParams, type AugmentParams } from './augment';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Straightforward per-pixel version: mirror, then move content by (dx, dy), zeros where nothing moved in. */
function reference(x: Float32Array, shape: [number, number, number, number], p: AugmentParams): Float32Array {
  const [n, h, w, c] = shape;
  const out = new Float32Array(x.length);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        const si = i - (p.dy[b] as number);
        const sj = p.flip[b] ? w - 1 - j + (p.dx[b] as number) : j - (p.dx[b] as number);
        if (si < 0 || si >= h || sj < 0 || sj >= w) continue;
        for (let k = 0; k < c; k++) out[((b * h + i) * w + j) * c + k] = x[((b * h + si) * w + sj) * c + k] as number;
      }
    }
  }
  return out;
}

/** Distinct integers per position, so any misplaced pixel shows up. */
function ramp(shape: [number, number, number, number]): Float32Array {
  return Float32Array.from({ length: shape.reduce((a, b) => a * b) }, (_, i) => 1 + ((i * 7919) % 1000));
}

function params(rows: [flip: number, dx: number, dy: number][]): AugmentParams {
  return {
    flip: Uint8Array.from(rows.map((r) => r[0])),
    dx: Int8Array.from(rows.map((r) => r[1])),
    dy: Int8Array.from(rows.map((r) => r[2])),
  };
}

// wasm too: its cropAndResize, which augmentBatch once used, ignored the shift of unflipped images.
describe.each(['cpu', 'wasm'])('augmentBatch on %s', (backend) => {
  beforeAll(async () => {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    await tf.setBackend(backend);
    return () => tf.setBackend('cpu');
  });

  it('equals an exact flip and shift, pixel for pixel, on a small non-square input', async () => {
    const shape: [number, number, number, number] = [6, 5, 7, 2];
    const x = ramp(shape);
    const p = params([
      [0, 0, 0],
      [1, 0, 0],
      [0, 2, -1],
      [1, -2, 2],
      [1, 2, -2],
      [0, -1, 1],
    ]);
    const out = augmentBatch(tf.tensor4d(x, shape), p, 2);
    expect(out.shape).toEqual(shape);
    expect(Array.from(await out.data())).toEqual(Array.from(reference(x, shape, p)));
  });

  it('equals the reference at full size for every extreme shift, flipped and not', async () => {
    const rows: [number, number, number][] = [];
    for (const flip of [0, 1]) for (const dx of [-4, 0, 4]) for (const dy of [-4, 3]) rows.push([flip, dx, dy]);
    const shape: [number, number, number, number] = [rows.length, 32, 32, 3];
    const x = ramp(shape);
    const p = params(rows);
    const out = augmentBatch(tf.tensor4d(x, shape), p);
    expect(Array.from(await out.data())).toEqual(Array.from(reference(x, shape, p)));
  });

  it('mirrors a single row as expected', async () => {
    const out = augmentBatch(tf.tensor4d([1, 2, 3, 4], [1, 1, 4, 1]), params([[1, 0, 0]]), 1);
    expect(Array.from(await out.data())).toEqual([4, 3, 2, 1]);
    const shifted = augmentBatch(tf.tensor4d([1, 2, 3, 4], [1, 1, 4, 1]), params([[0, 1, 0]]), 1);
    expect(Array.from(await shifted.data())).toEqual([0, 1, 2, 3]);
  });

  it('leaves no intermediate tensors behind', () => {
    const x = tf.zeros([2, 8, 8, 1]) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const out = augmentBatch(x, augmentParams(0, 1, 2, 2), 2);
    expect(tf.memory().numTensors).toBe(before + 1);
    tf.dispose([x, out]);
  });

  it('refuses parameters that do not fit the batch or exceed the shift', () => {
    const x = tf.zeros([2, 8, 8, 1]) as tf.Tensor4D;
    expect(() => augmentBatch(x, params([[0, 0, 0]]))).toThrow(RangeError);
    expect(() =>
      augmentBatch(
        x,
        params([
          [0, 0, 0],
          [0, 3, 0],
        ]),
        2,
      ),
    ).toThrow(RangeError);
    x.dispose();
  });
});

describe('augmentParams', () => {
  it('is a pure function of (step, seed)', () => {
    expect(augmentParams(5, 1, 64)).toEqual(augmentParams(5, 1, 64));
  });

  it('differs between steps and between seeds', () => {
    const a = augmentParams(5, 1, 64);
    expect(Array.from(augmentParams(6, 1, 64).dx)).not.toEqual(Array.from(a.dx));
    expect(Array.from(augmentParams(5, 2, 64).dx)).not.toEqual(Array.from(a.dx));
  });

  it('keeps shifts within ±maxShift, uses the whole range, and flips about half', () => {
    const seen = new Set<number>();
    let flips = 0;
    for (let step = 0; step < 50; step++) {
      const p = augmentParams(step, 3, 64);
      for (const d of [...p.dx, ...p.dy]) {
        expect(Math.abs(d)).toBeLessThanOrEqual(4);
        seen.add(d);
      }
      flips += p.flip.reduce((a, b) => a + b, 0);
    }
    expect([...seen].sort((a, b) => a - b)).toEqual([-4, -3, -2, -1, 0, 1, 2, 3, 4]);
    expect(flips / (50 * 64)).toBeGreaterThan(0.45);
    expect(flips / (50 * 64)).toBeLessThan(0.55);
    const small = augmentParams(0, 3, 500, 1);
    for (const d of small.dx) expect(Math.abs(d)).toBeLessThanOrEqual(1);
  });
});
