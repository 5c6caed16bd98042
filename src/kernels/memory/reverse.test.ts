import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { KernelBackend, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerTrainingKernels, stockKernel } from '../register';
import { reverse4 } from './reverse';
import { randomValues, takeValues } from '../testing';

let backend: KernelBackend;
beforeAll(async () => {
  await tf.setBackend('wasm');
  registerTrainingKernels('wasm');
  backend = tf.backend();
});

function stockReverse(x: tf.Tensor, dims: number[]): Float32Array {
  const stock = stockKernel('Reverse', 'wasm');
  if (stock === undefined) throw new Error('the stock wasm Reverse is gone');
  return takeValues(backend, stock.kernelFunc({ inputs: { x }, backend, attrs: { dims } as unknown as NamedAttrMap }) as TensorInfo);
}

describe('Reverse in runs over the wasm heap', () => {
  it.each([
    // The input gradient's filter flip: [kh, kw, Cin, Cout] along both spatial axes.
    { shape: [3, 3, 64, 128], dims: [0, 1] },
    { shape: [5, 5, 3, 32], dims: [0, 1] },
    // The innermost axis reversed (runs of one), every axis, a middle one, negative axes, and ranks 1 to 3.
    { shape: [4, 5, 6, 7], dims: [3] },
    { shape: [4, 5, 6, 7], dims: [0, 1, 2, 3] },
    { shape: [4, 5, 6, 7], dims: [2] },
    { shape: [4, 5, 6, 7], dims: [-1, -3] },
    { shape: [100], dims: [0] },
    { shape: [30, 80], dims: [0] },
    { shape: [6, 9, 70], dims: [1] },
  ])('gives exactly what the stock kernel does: $shape along $dims', ({ shape, dims }) => {
    const x = tf.tensor(
      randomValues(
        shape.reduce((a, b) => a * b, 1),
        4,
      ),
      shape,
    );
    const ours = tf.reverse(x, dims);
    expect(Array.from(ours.dataSync())).toEqual(Array.from(stockReverse(x, dims)));
    tf.dispose([x, ours]);
  });

  it('reverses int32 tensors too, and reverse4 works on plain arrays', () => {
    const x = tf.tensor(
      Array.from({ length: 3 * 4 * 5 }, (_, i) => i),
      [3, 4, 5],
      'int32',
    );
    const ours = tf.reverse(x, [0, 2]);
    expect(ours.dtype).toBe('int32');
    expect(Array.from(ours.dataSync())).toEqual(Array.from(stockReverse(x, [0, 2])));
    tf.dispose([x, ours]);
    const out = new Float32Array(6);
    reverse4(Float32Array.from([1, 2, 3, 4, 5, 6]), [1, 1, 2, 3], [false, false, true, false], out);
    expect(Array.from(out)).toEqual([4, 5, 6, 1, 2, 3]);
  });

  it('leaves no tensor behind', () => {
    const x = tf.tensor(randomValues(3 * 3 * 8 * 16, 5), [3, 3, 8, 16]);
    const before = tf.memory().numTensors;
    tf.reverse(x, [0, 1]).dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
