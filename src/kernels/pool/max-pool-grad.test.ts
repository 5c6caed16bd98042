// Our MaxPoolGrad against the cpu backend's stock kernel (which starts each
// window's maximum at -Infinity and keeps the first of tied maxima).
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { KernelBackend, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { maxPoolGradJs } from './max-pool-grad';
import { randomValues, relativeError, takeValues } from '../testing';

type Case = {
  shape: [number, number, number, number];
  filterSize: number | [number, number];
  strides: number;
  pad: 'same' | 'valid';
  values: 'mixed' | 'negative' | 'ties';
};
const CASES: Case[] = [
  { shape: [2, 8, 8, 3], filterSize: 2, strides: 2, pad: 'valid', values: 'mixed' },
  { shape: [2, 8, 8, 3], filterSize: 2, strides: 2, pad: 'valid', values: 'negative' },
  { shape: [3, 7, 5, 2], filterSize: 2, strides: 2, pad: 'same', values: 'negative' },
  { shape: [1, 9, 7, 4], filterSize: 3, strides: 2, pad: 'same', values: 'mixed' },
  { shape: [2, 6, 6, 2], filterSize: 3, strides: 1, pad: 'same', values: 'negative' },
  { shape: [2, 6, 5, 3], filterSize: [2, 3], strides: 1, pad: 'valid', values: 'ties' },
  { shape: [2, 8, 8, 3], filterSize: 2, strides: 2, pad: 'valid', values: 'ties' },
  // 2×2 at stride 2 leaving a row and a column uncovered (the general loop), and 'same' on even sizes (no padding: the 2×2 path).
  { shape: [2, 7, 5, 3], filterSize: 2, strides: 2, pad: 'valid', values: 'mixed' },
  { shape: [3, 8, 6, 5], filterSize: 2, strides: 2, pad: 'same', values: 'negative' },
];

function values(c: Case, seed: number): Float32Array {
  const v = randomValues(
    c.shape.reduce((a, b) => a * b, 1),
    seed,
  );
  if (c.values === 'negative') return v.map((x) => -Math.abs(x) - 0.01);
  if (c.values === 'ties') return v.map((x) => Math.round(x * 2) / 2);
  return v;
}

let backend: KernelBackend;
beforeAll(async () => {
  await tf.setBackend('cpu');
  backend = tf.backend();
});

describe('MaxPoolGrad in JavaScript', () => {
  it.each(CASES.map((c, i) => [JSON.stringify(c), c, i] as const))('matches the cpu stock kernel: %s', (_n, c, i) => {
    const x = tf.tensor4d(values(c, 10 + i), c.shape);
    const y = tf.maxPool(x, c.filterSize, c.strides, c.pad);
    const dy = tf.tensor(randomValues(y.size, 20 + i), y.shape);
    const attrs = { filterSize: c.filterSize, strides: c.strides, pad: c.pad } as unknown as NamedAttrMap;
    const inputs = { dy, input: x, output: y };
    const before = backend.numDataIds();
    const ours = takeValues(backend, maxPoolGradJs({ inputs, backend, attrs }) as TensorInfo);
    expect(backend.numDataIds()).toBe(before);
    const want = takeValues(backend, tf.getKernel('MaxPoolGrad', 'cpu').kernelFunc({ inputs, backend, attrs }) as TensorInfo);
    expect(relativeError(ours, want)).toBeLessThan(1e-6);
    tf.dispose([x, y, dy]);
  });

  it.each(CASES.map((c, i) => [JSON.stringify(c), c, i] as const))('works in place in the wasm heap, same values: %s', async (_n, c, i) => {
    const x = tf.tensor4d(values(c, 10 + i), c.shape);
    const y = tf.maxPool(x, c.filterSize, c.strides, c.pad);
    const dy = tf.tensor(randomValues(y.size, 20 + i), y.shape);
    const attrs = { filterSize: c.filterSize, strides: c.strides, pad: c.pad } as unknown as NamedAttrMap;
    const want = takeValues(
      backend,
      tf.getKernel('MaxPoolGrad', 'cpu').kernelFunc({ inputs: { dy, input: x, output: y }, backend, attrs }) as TensorInfo,
    );
    const copies = [x, y, dy].map((t) => ({ v: t.dataSync().slice(), shape: t.shape }));
    tf.dispose([x, y, dy]);
    await tf.setBackend('wasm');
    try {
      const wasm = tf.backend();
      const [wx, wy, wdy] = copies.map(({ v, shape }) => tf.tensor(v, shape)) as [tf.Tensor, tf.Tensor, tf.Tensor];
      const before = wasm.numDataIds();
      const ours = takeValues(wasm, maxPoolGradJs({ inputs: { dy: wdy, input: wx, output: wy }, backend: wasm, attrs }) as TensorInfo);
      expect(wasm.numDataIds()).toBe(before);
      expect(relativeError(ours, want)).toBeLessThan(1e-6);
      tf.dispose([wx, wy, wdy]);
    } finally {
      await tf.setBackend('cpu');
    }
  });
});
