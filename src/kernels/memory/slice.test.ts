import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { KernelBackend, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerTrainingKernels, stockKernel } from '../register';
import { slice4 } from './slice';
import { randomValues, takeValues } from '../testing';

let backend: KernelBackend;
beforeAll(async () => {
  await tf.setBackend('wasm');
  registerTrainingKernels('wasm');
  backend = tf.backend();
});

function stockSlice(x: tf.Tensor, begin: number[], size: number[]): Float32Array {
  const stock = stockKernel('Slice', 'wasm');
  if (stock === undefined) throw new Error('the stock wasm Slice is gone');
  return takeValues(backend, stock.kernelFunc({ inputs: { x }, backend, attrs: { begin, size } as unknown as NamedAttrMap }) as TensorInfo);
}

describe('Slice by rows over the wasm heap', () => {
  it.each([
    // The im2col windows: padded [Cin, B, H+2, W+2] → [Cin, B, H, W], and NHWC windows.
    { shape: [3, 64, 34, 34], begin: [0, 0, 1, 2], size: [3, 64, 32, 32] },
    { shape: [16, 34, 34, 32], begin: [0, 2, 0, 0], size: [16, 32, 32, 32] },
    { shape: [16, 34, 34, 32], begin: [0, 1, 1, 0], size: [16, 32, 32, 32] },
    // Partial on the outermost axis only (one block), partial everywhere, and -1 for "to the end".
    { shape: [40, 20, 30], begin: [5, 0, 0], size: [30, 20, 30] },
    { shape: [9, 40, 50, 11], begin: [1, 3, 7, 2], size: [7, 30, 40, 8] },
    { shape: [300, 90], begin: [10, 5], size: [-1, 80] },
  ])('copies exactly what the stock kernel does: $shape from $begin, $size', ({ shape, begin, size }) => {
    const x = tf.tensor(
      randomValues(
        shape.reduce((a, b) => a * b, 1),
        9,
      ),
      shape,
    );
    const ours = tf.slice(x, begin, size);
    expect(Array.from(ours.dataSync())).toEqual(Array.from(stockSlice(x, begin, size)));
    tf.dispose([x, ours]);
  });

  it('slices int32 tensors too, and slice4 works on plain arrays', () => {
    const x = tf.tensor(
      Array.from({ length: 64 * 32 * 16 }, (_, i) => i),
      [64, 32, 16],
      'int32',
    );
    const ours = tf.slice(x, [1, 2, 3], [60, 28, 10]);
    expect(ours.dtype).toBe('int32');
    expect(Array.from(ours.dataSync())).toEqual(Array.from(stockSlice(x, [1, 2, 3], [60, 28, 10])));
    tf.dispose([x, ours]);
    const out = new Float32Array(4);
    slice4(Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8]), [1, 1, 3, 3], [0, 0, 1, 1], [1, 1, 2, 2], out);
    expect(Array.from(out)).toEqual([4, 5, 7, 8]);
  });
});
