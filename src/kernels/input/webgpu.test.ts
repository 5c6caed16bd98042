import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toModelInput } from '../../data/preprocess';
import { augmentBatch, augmentParams } from '../../train/augment';
import { BATCH_INPUT, batchInput, batchInputKernels, paramsRows } from './webgpu';

const STATS = { mean: [125.3, 123.0, 113.9], std: [63.0, 62.1, 66.7] } as const;

describe('batch input kernel on cpu', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
    for (const config of batchInputKernels('cpu')) tf.registerKernel(config);
  });
  afterAll(() => tf.unregisterKernel(BATCH_INPUT, 'cpu'));

  it('exists for webgpu and cpu only', () => {
    expect(batchInputKernels('webgpu').map((k) => k.kernelName)).toEqual([BATCH_INPUT]);
    expect(batchInputKernels('wasm')).toEqual([]);
  });

  it.each(['rgb', 'gray'] as const)('%s: equals toModelInput then augmentBatch, flips and shifts included', (color) => {
    const batch = 6;
    const pixels = tf.randomUniform([batch, 9, 7, 3], 0, 255, 'float32', 5) as tf.Tensor4D;
    for (const step of [0, 1, 2]) {
      const params = augmentParams(step, 42, batch, 3);
      const reference = augmentBatch(toModelInput(pixels, { color, ...STATS }), params, 3);
      const rows = tf.tensor2d(paramsRows(params, new Int32Array(batch * 3)), [batch, 3], 'int32');
      const fused = batchInput(pixels, rows, color, STATS);
      expect(fused.shape).toEqual(reference.shape);
      const [a, b] = [fused.dataSync(), reference.dataSync()];
      let max = 0;
      for (let i = 0; i < b.length; i++) max = Math.max(max, Math.abs((a[i] as number) - (b[i] as number)));
      expect(max).toBeLessThan(1e-5);
      // Something moved: some images were flipped or shifted, so the unaugmented input differs.
      expect(params.flip.some((f) => f === 1) || params.dx.some((d) => d !== 0)).toBe(true);
      tf.dispose([reference, rows, fused]);
    }
  });
});
