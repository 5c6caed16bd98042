import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CE_EPSILON, crossEntropy } from '../../train/step';
import { crossEntropyKernels, crossEntropyMetrics, crossEntropyObjective } from './cross-entropy';
import { relativeError } from '../testing';

describe('cross-entropy kernels on cpu', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
    for (const config of crossEntropyKernels('cpu')) tf.registerKernel(config);
  });
  afterAll(() => {
    for (const config of crossEntropyKernels('cpu')) tf.unregisterKernel(config.kernelName, 'cpu');
  });

  it('exists for webgpu, webgl and cpu, not wasm', () => {
    expect(crossEntropyKernels('webgpu')).toHaveLength(2);
    expect(crossEntropyKernels('webgl')).toHaveLength(2);
    expect(crossEntropyKernels('wasm')).toEqual([]);
  });

  it.each([0, 0.2])('smoothing %s: loss, plain loss, accuracy and gradient equal the tfjs ops', async (smoothing) => {
    const logits = tf.randomNormal([13, 10], 0, 3, 'float32', 11);
    // One row with a probability under the clip, so the clip's zero gradient is exercised.
    const probs = tf.concat([tf.softmax(logits), tf.tensor2d([[1 - 9e-9, 1e-9, 0, 0, 0, 0, 0, 0, 0, 0]])]) as tf.Tensor2D;
    const labels = tf.tensor1d([...Array.from({ length: 13 }, (_, i) => i % 10), 1], 'int32');
    const ours = [
      crossEntropyObjective(probs, labels, smoothing, CE_EPSILON).dataSync()[0] as number,
      ...crossEntropyMetrics(probs, labels, CE_EPSILON).dataSync(),
    ];
    const objective = crossEntropy(probs, labels, smoothing).dataSync()[0] as number;
    const plain = crossEntropy(probs, labels).dataSync()[0] as number;
    const accuracy = tf.mean(tf.cast(tf.equal(tf.argMax(probs, 1), labels), 'float32')).dataSync()[0] as number;
    expect(relativeError(ours, [objective, plain, accuracy])).toBeLessThan(1e-5);
    expect(accuracy).toBeGreaterThan(0);

    const grad = tf
      .grad((p: tf.Tensor) => crossEntropyObjective(p as tf.Tensor2D, labels, smoothing, CE_EPSILON))(probs)
      .dataSync();
    const reference = tf
      .grad((p: tf.Tensor) => crossEntropy(p as tf.Tensor2D, labels, smoothing))(probs)
      .dataSync();
    expect(relativeError(grad, reference)).toBeLessThan(1e-5);
    // The clipped probability (1e-9 < ε) passes nothing back, as tfjs's clip does.
    expect(grad[13 * 10 + 1]).toBe(0);
  });

  it('refuses a smoothing outside [0, 1)', () => {
    expect(() => crossEntropyObjective(tf.ones([1, 2]) as tf.Tensor2D, tf.tensor1d([0], 'int32'), 1, CE_EPSILON)).toThrow(RangeError);
  });
});
