import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { KernelBackend, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerTrainingKernels, stockKernel } from '../register';
import { randomValues, takeValues } from '../testing';
import { MIN_ELEMENTS, transpose4 } from './transpose';

let backend: KernelBackend;
beforeAll(async () => {
  await tf.setBackend('wasm');
  registerTrainingKernels('wasm');
  backend = tf.backend();
});

function permutations(n: number): number[][] {
  if (n === 1) return [[0]];
  return permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]));
}

function stockTranspose(x: tf.Tensor, perm: number[]): Float32Array {
  const stock = stockKernel('Transpose', 'wasm');
  if (stock === undefined) throw new Error('the stock wasm Transpose is gone');
  return takeValues(backend, stock.kernelFunc({ inputs: { x }, backend, attrs: { perm } as unknown as NamedAttrMap }) as TensorInfo);
}

describe('Transpose in tiles over the wasm heap', () => {
  it('copies exactly what the stock kernel does, for every permutation of a rank-4 tensor', () => {
    // Odd sizes: partial tiles on every axis.
    const shape = [5, 17, 19, 23];
    const x = tf.tensor(randomValues(5 * 17 * 19 * 23, 3), shape);
    expect(x.size).toBeGreaterThanOrEqual(MIN_ELEMENTS);
    for (const perm of permutations(4)) {
      const ours = tf.transpose(x, perm);
      expect(ours.shape, String(perm)).toEqual(perm.map((p) => shape[p]));
      expect(Array.from(ours.dataSync()), String(perm)).toEqual(Array.from(stockTranspose(x, perm)));
      ours.dispose();
    }
    x.dispose();
  });

  it('handles ranks 2 and 3 and int32, and leaves small tensors to the stock kernel', () => {
    const cases: { shape: number[]; perm: number[]; dtype: 'float32' | 'int32' }[] = [
      { shape: [300, 70], perm: [1, 0], dtype: 'float32' },
      { shape: [40, 30, 20], perm: [2, 0, 1], dtype: 'int32' },
      { shape: [40, 30, 20], perm: [1, 0, 2], dtype: 'float32' },
      { shape: [3, 4], perm: [1, 0], dtype: 'float32' },
    ];
    for (const { shape, perm, dtype } of cases) {
      const n = shape.reduce((a, b) => a * b, 1);
      const x = tf.tensor(
        Array.from({ length: n }, (_, i) => i - 7),
        shape,
        dtype,
      );
      const ours = tf.transpose(x, perm);
      expect(ours.dtype).toBe(dtype);
      expect(Array.from(ours.dataSync()), `${shape} ${perm}`).toEqual(Array.from(stockTranspose(x, perm)));
      tf.dispose([x, ours]);
    }
  });

  it('transpose4 works on plain arrays, and leaves row copies to the stock kernel', () => {
    const out = new Float32Array(6);
    transpose4(Float32Array.from([1, 2, 3, 4, 5, 6]), [1, 1, 2, 3], [0, 1, 3, 2], out);
    expect(Array.from(out)).toEqual([1, 4, 2, 5, 3, 6]);
    expect(() => transpose4(out, [1, 1, 2, 3], [1, 0, 2, 3], new Float32Array(6))).toThrow(/stock kernel/);
  });

  it('frees nothing it should keep and keeps nothing it should free', () => {
    const x = tf.tensor(randomValues(64 * 16 * 16 * 8, 1), [64, 16, 16, 8]);
    tf.transpose(x, [3, 1, 2, 0]).dispose();
    const before = { tensors: tf.memory().numTensors, ids: backend.numDataIds() };
    tf.transpose(x, [3, 1, 2, 0]).dispose();
    expect({ tensors: tf.memory().numTensors, ids: backend.numDataIds() }).toEqual(before);
    x.dispose();
  });
});
