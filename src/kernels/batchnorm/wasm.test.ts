import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { KernelBackend, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { isChannelBatchNorm } from './wasm';
import { registerTrainingKernels, stockKernel } from '../register';
import { randomTensor, relativeError, takeValues } from '../testing';

let backend: KernelBackend;
beforeAll(async () => {
  await tf.setBackend('wasm');
  registerTrainingKernels('wasm');
  backend = tf.backend();
});

function stockBatchNorm(inputs: Record<string, tf.Tensor>, varianceEpsilon: number): Float32Array {
  const stock = stockKernel('FusedBatchNorm', 'wasm');
  if (stock === undefined) throw new Error('the stock wasm FusedBatchNorm is gone');
  return takeValues(backend, stock.kernelFunc({ inputs, backend, attrs: { varianceEpsilon } as unknown as NamedAttrMap }) as TensorInfo);
}

describe('BatchNorm as a multiply and an add', () => {
  it.each([
    { shape: [4, 8, 8, 6], scale: true, offset: true },
    { shape: [3, 5, 7, 2], scale: false, offset: true },
    { shape: [2, 4, 3], scale: true, offset: false },
    { shape: [64, 16, 16, 64], scale: true, offset: true },
  ])('matches the stock kernel: $shape, scale $scale, offset $offset', ({ shape, scale, offset }) => {
    const c = shape[shape.length - 1] as number;
    const inputs: Record<string, tf.Tensor> = {
      x: randomTensor(shape, 1),
      mean: randomTensor([c], 2),
      variance: tf.add(tf.abs(randomTensor([c], 3)), 0.1),
      ...(offset ? { offset: randomTensor([c], 4) } : {}),
      ...(scale ? { scale: randomTensor([c], 5) } : {}),
    };
    const ours = tf.engine().runKernel('FusedBatchNorm', inputs, { varianceEpsilon: 1e-3 }) as tf.Tensor;
    expect(ours.shape).toEqual(shape);
    expect(relativeError(ours.dataSync(), stockBatchNorm(inputs, 1e-3))).toBeLessThan(1e-5);
    tf.dispose([ours, ...Object.values(inputs)]);
  });

  it('leaves statistics that are not one value per channel to the stock kernel', () => {
    const x = randomTensor([2, 3, 4], 1);
    const full = randomTensor([2, 3, 4], 2);
    const variance = tf.add(tf.abs(randomTensor([2, 3, 4], 3)), 0.1);
    const channel = tf.ones([4]);
    expect(isChannelBatchNorm({ x, mean: full, variance })).toBe(false);
    expect(isChannelBatchNorm({ x, mean: channel, variance: channel })).toBe(true);
    const ours = tf.batchNorm(x, full, variance, undefined, undefined, 1e-3);
    expect(relativeError(ours.dataSync(), stockBatchNorm({ x, mean: full, variance }, 1e-3))).toBeLessThan(1e-6);
    tf.dispose([x, full, variance, channel, ours]);
  });

  it('frees every intermediate', () => {
    const x = randomTensor([4, 8, 8, 6], 3);
    const stats = [tf.zeros([6]), tf.ones([6]), tf.zeros([6]), tf.ones([6])] as const;
    tf.batchNorm(x, ...stats, 1e-3).dispose();
    const before = { tensors: tf.memory().numTensors, ids: backend.numDataIds() };
    tf.batchNorm(x, ...stats, 1e-3).dispose();
    expect({ tensors: tf.memory().numTensors, ids: backend.numDataIds() }).toEqual(before);
    tf.dispose([x, ...stats]);
  });
});
