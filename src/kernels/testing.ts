// Helpers shared by this folder's tests and the bench page's checks (not used by training).
import * as tf from '@tensorflow/tfjs';
import type { KernelBackend, TensorInfo } from '@tensorflow/tfjs';

/** Deterministic values in [-1, 1) from a 32-bit LCG, so every backend gets identical inputs. */
export function randomValues(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

export function randomTensor(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(
    randomValues(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ),
    shape,
  );
}

/** max|a−b| / max|b|: one figure for the whole tensor, immune to near-zero entries of b. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs((a[i] ?? NaN) - (b[i] ?? NaN)));
    scale = Math.max(scale, Math.abs(b[i] ?? NaN));
  }
  return diff / Math.max(scale, 1e-30);
}

/**
 * max over i of |a_i − b_i| / max(|b_i|, floor · max|b|): every value against
 * itself, so that an error in small values is not hidden by the largest one,
 * down to `floor` of the largest, where values that nearly cancel (w − lr·g)
 * carry the rounding of their larger operands.
 */
export function valueError(a: ArrayLike<number>, b: ArrayLike<number>, floor: number): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let largest = 0;
  for (let i = 0; i < b.length; i++) largest = Math.max(largest, Math.abs(b[i] ?? NaN));
  const least = Math.max(floor * largest, 1e-30);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const want = b[i] ?? NaN;
    worst = Math.max(worst, Math.abs((a[i] ?? NaN) - want) / Math.max(Math.abs(want), least));
  }
  return worst;
}

/** Reads a kernel's raw output and frees it. */
export function takeValues(backend: KernelBackend, t: TensorInfo): Float32Array {
  const v = Float32Array.from(backend.readSync(t.dataId) as Float32Array);
  backend.disposeData(t.dataId);
  return v;
}
