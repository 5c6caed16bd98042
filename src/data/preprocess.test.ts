import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { luma } from './grayscale';
import { toModelInput } from './preprocess';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const stats = { mean: [125, 123, 114], std: [63, 62, 66] } as const;

describe('toModelInput', () => {
  it('standardises each RGB channel with its own mean and std', async () => {
    const x = tf.tensor4d([125, 123, 114, 188, 61, 180], [1, 1, 2, 3]);
    const out = toModelInput(x, { color: 'rgb', ...stats });
    expect(out.shape).toEqual([1, 1, 2, 3]);
    const v = Array.from(await out.data());
    [0, 0, 0, 1, -1, 1].forEach((want, i) => expect(v[i]).toBeCloseTo(want, 5));
  });

  it('turns gray into one channel standardised with the luma of the stats', async () => {
    const x = tf.tensor4d([125, 123, 114, 0, 0, 0], [1, 2, 1, 3]);
    const out = toModelInput(x, { color: 'gray', ...stats });
    expect(out.shape).toEqual([1, 2, 1, 1]);
    const v = Array.from(await out.data());
    expect(v[0]).toBeCloseTo(0, 5);
    expect(v[1]).toBeCloseTo(-luma(stats.mean) / luma(stats.std), 5);
  });

  it('leaves no intermediate tensors behind', () => {
    const x = tf.zeros([2, 4, 4, 3]) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const out = toModelInput(x, { color: 'gray', ...stats });
    expect(tf.memory().numTensors).toBe(before + 1);
    out.dispose();
    x.dispose();
  });

  it('refuses non-RGB input and a zero std', () => {
    expect(() => toModelInput(tf.zeros([1, 2, 2, 1]) as tf.Tensor4D, { color: 'rgb', ...stats })).toThrow(RangeError);
    expect(() => toModelInput(tf.zeros([1, 2, 2, 3]) as tf.Tensor4D, { color: 'rgb', mean: stats.mean, std: [1, 0, 1] })).toThrow(
      RangeError,
    );
  });
});
