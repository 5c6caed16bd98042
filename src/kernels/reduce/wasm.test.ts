import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { KernelBackend, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { isChannelReduce } from './wasm';
import { registerTrainingKernels, stockKernel } from '../register';
import { randomTensor, relativeError, takeValues } from '../testing';

let backend: KernelBackend;
beforeAll(async () => {
  await tf.setBackend('wasm');
  registerTrainingKernels('wasm');
  backend = tf.backend();
});

/** Ours through the registry, and the stock wasm kernel called directly, on the same input. */
function both(kernel: 'Sum' | 'Mean', x: tf.Tensor, attrs: { axis: number | number[]; keepDims: boolean }) {
  const ours = tf.engine().runKernel(kernel, { x }, attrs as unknown as NamedAttrMap) as tf.Tensor;
  const stock = stockKernel(kernel, 'wasm');
  if (stock === undefined) throw new Error(`the stock wasm ${kernel} is gone`);
  const want = stock.kernelFunc({ inputs: { x }, backend, attrs: attrs as unknown as NamedAttrMap }) as TensorInfo;
  const wantShape = want.shape;
  return { ours, want: takeValues(backend, want), wantShape };
}

describe('per-channel Sum and Mean through average pooling', () => {
  it.each([
    { shape: [4, 8, 8, 6], axis: [0, 1, 2], keepDims: false },
    { shape: [3, 5, 7, 2], axis: [2, 0, 1], keepDims: true },
    { shape: [2, 1, 9, 5], axis: [-4, -3, -2], keepDims: false },
    { shape: [64, 32, 32, 32], axis: [0, 1, 2], keepDims: false },
  ])('match the stock kernels: $shape over $axis, keepDims $keepDims', ({ shape, axis, keepDims }) => {
    const x = randomTensor(shape, 21) as tf.Tensor4D;
    expect(isChannelReduce(x, axis)).toBe(true);
    for (const kernel of ['Sum', 'Mean'] as const) {
      const { ours, want, wantShape } = both(kernel, x, { axis, keepDims });
      expect(ours.shape, kernel).toEqual(wantShape);
      expect(relativeError(ours.dataSync(), want), kernel).toBeLessThan(1e-5);
      ours.dispose();
    }
    x.dispose();
  });

  it('leaves every other reduction to the stock kernels', () => {
    const x4 = randomTensor([2, 3, 4, 5], 1);
    expect(isChannelReduce(x4, [1, 2])).toBe(false);
    expect(isChannelReduce(x4, [0, 1, 2, 3])).toBe(false);
    expect(isChannelReduce(tf.zeros([2, 1, 1, 5]), [0, 1, 2])).toBe(false);
    expect(isChannelReduce(tf.zeros([2, 3, 4, 5], 'int32'), [0, 1, 2])).toBe(false);
    expect(isChannelReduce(tf.zeros([6, 5]), [0])).toBe(false);
    const { ours, want } = both('Sum', x4, { axis: [1, 2], keepDims: false });
    expect(relativeError(ours.dataSync(), want)).toBeLessThan(1e-6);
    expect(tf.sum(tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32'), 0).arraySync()).toEqual([4, 6]);
    tf.dispose([x4, ours]);
  });

  it('frees every intermediate', () => {
    const x = randomTensor([4, 8, 8, 6], 3);
    tf.sum(x, [0, 1, 2]).dispose();
    const before = { tensors: tf.memory().numTensors, ids: backend.numDataIds() };
    tf.sum(x, [0, 1, 2]).dispose();
    tf.mean(x, [0, 1, 2], true).dispose();
    expect({ tensors: tf.memory().numTensors, ids: backend.numDataIds() }).toEqual(before);
    x.dispose();
  });
});
