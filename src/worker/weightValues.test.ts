import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frozenWeights, variableValues, writeWeights } from './weightValues';

describe('the statistics a replica reads and writes', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  afterAll(() => tf.disposeVariables());

  it('are the non-trainable weights, written without a tensor left behind', async () => {
    const model = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [2], units: 3, name: 'd' }), tf.layers.batchNormalization({ name: 'bn' })],
    });
    const frozen = frozenWeights(model);
    expect(frozen.map((w) => w.originalName)).toEqual(['bn/moving_mean', 'bn/moving_variance']);
    const read = await variableValues(frozen);
    expect(read.map((w) => [w.name, w.shape, [...w.values]])).toEqual([
      ['bn/moving_mean', [3], [0, 0, 0]],
      ['bn/moving_variance', [3], [1, 1, 1]],
    ]);
    const before = tf.memory().numTensors;
    writeWeights(frozen, [
      { ...(read[0] as (typeof read)[0]), values: Float32Array.from([1, 2, 3]) },
      { ...(read[1] as (typeof read)[0]), values: Float32Array.from([4, 5, 6]) },
    ]);
    expect(tf.memory().numTensors).toBe(before);
    expect(frozen.map((w) => [...w.read().dataSync()])).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(() => writeWeights(frozen, [])).toThrow(RangeError);
    model.dispose();
  });
});
