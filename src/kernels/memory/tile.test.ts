import * as tf from '@tensorflow/tfjs';
import type { DataType, KernelBackend, TensorInfo } from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeTile, tileValues } from './tile';

let backend: KernelBackend;
beforeAll(async () => {
  await tf.setBackend('cpu');
  backend = tf.backend();
});

const CASES: { shape: number[]; reps: number[]; dtype: DataType }[] = [
  { shape: [1, 1, 1, 3], reps: [4, 5, 3, 1], dtype: 'float32' },
  { shape: [2, 3], reps: [3, 2], dtype: 'float32' },
  { shape: [2, 1, 3], reps: [1, 4, 2], dtype: 'int32' },
  { shape: [3, 2], reps: [1, 1], dtype: 'bool' },
  { shape: [5], reps: [7], dtype: 'bool' },
  { shape: [2, 0, 3], reps: [2, 3, 1], dtype: 'float32' },
];

describe('Tile by block copies', () => {
  it.each(CASES)('matches the cpu stock kernel: $shape × $reps ($dtype)', ({ shape, reps, dtype }) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const values = dtype === 'bool' ? Array.from({ length: n }, (_, i) => i % 3 === 0) : Array.from({ length: n }, (_, i) => i * 1.5 - 2);
    const x = tf.tensor(values, shape, dtype);
    const args = { inputs: { x }, backend, attrs: { reps } };
    const stock = tf.getKernel('Tile', 'cpu').kernelFunc;
    const ours = makeTile(stock)(args) as TensorInfo;
    const want = stock(args) as TensorInfo;
    expect(ours.shape).toEqual(want.shape);
    expect(ours.dtype).toBe(dtype);
    expect(Array.from(backend.readSync(ours.dataId) as Float32Array)).toEqual(Array.from(backend.readSync(want.dataId) as Float32Array));
    backend.disposeData(ours.dataId);
    backend.disposeData(want.dataId);
    x.dispose();
  });

  it('never returns its input array', () => {
    const src = new Float32Array([1, 2]);
    expect(tileValues(src, [2], [1])).not.toBe(src);
  });
});
