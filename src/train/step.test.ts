import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { crossEntropy } from './step';

// wasm too: its OneHot once turned the smoothed target into zeros.
describe.each(['cpu', 'wasm'])('crossEntropy on %s', (backend) => {
  beforeAll(async () => {
    await tf.setBackend(backend);
  });

  it('is the mean −ln p(label), clipped at 1e-7', async () => {
    const probs = tf.tensor2d([
      [0.5, 0.25, 0.25],
      [0, 1, 0],
    ]);
    const loss = await crossEntropy(probs, tf.tensor1d([1, 0], 'int32')).data();
    expect(loss[0]).toBeCloseTo((-Math.log(0.25) - Math.log(1e-7)) / 2, 4);
  });

  it('with label smoothing targets 1 − ε + ε/K on the label and ε/K elsewhere', async () => {
    const probs = tf.tensor2d([[0.7, 0.2, 0.1]]);
    const labels = tf.tensor1d([0], 'int32');
    const eps = 0.3;
    const expected = -((1 - eps + eps / 3) * Math.log(0.7) + (eps / 3) * Math.log(0.2) + (eps / 3) * Math.log(0.1));
    expect((await crossEntropy(probs, labels, eps).data())[0]).toBeCloseTo(expected, 5);
    expect((await crossEntropy(probs, labels, 0).data())[0]).toBeCloseTo(-Math.log(0.7), 5);
    expect(() => crossEntropy(probs, labels, 1)).toThrow(RangeError);
    tf.dispose([probs, labels]);
  });
});
