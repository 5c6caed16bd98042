import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from './model';
import { summarizeModel } from './summary';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('summarizeModel', () => {
  it('lists every layer with its type, per-image output shape and parameters', () => {
    const model = buildModel({ preset: 'tiny', color: 'rgb', seed: 1 });
    const { rows, totalParams } = summarizeModel(model);
    model.dispose();
    expect(rows).toEqual([
      { name: 'conv1', type: 'Conv2D', outputShape: '32×32×8', params: 224 },
      { name: 'bn1', type: 'BatchNormalization', outputShape: '32×32×8', params: 32 },
      { name: 'elu1', type: 'ELU', outputShape: '32×32×8', params: 0 },
      { name: 'pool1', type: 'MaxPooling2D', outputShape: '16×16×8', params: 0 },
      { name: 'conv2', type: 'Conv2D', outputShape: '16×16×16', params: 1168 },
      { name: 'bn2', type: 'BatchNormalization', outputShape: '16×16×16', params: 64 },
      { name: 'elu2', type: 'ELU', outputShape: '16×16×16', params: 0 },
      { name: 'pool2', type: 'MaxPooling2D', outputShape: '8×8×16', params: 0 },
      { name: 'flatten', type: 'Flatten', outputShape: '1024', params: 0 },
      { name: 'dense', type: 'Dense', outputShape: '10', params: 10_250 },
    ]);
    expect(rows.reduce((sum, r) => sum + r.params, 0)).toBe(totalParams);
  });
});
