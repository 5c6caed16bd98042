import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../model/model';
import { applyForTraining } from './forward';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Loss value, gradients of every trainable weight and the BatchNorm running statistics after one training-mode pass. */
function pass(model: tf.LayersModel, forward: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor, y: tf.Tensor) {
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(forward(x), y)) as tf.Scalar, vars);
  const out = {
    loss: value.dataSync()[0] as number,
    grads: vars.map((v) => Array.from((grads[v.name] as tf.Tensor).dataSync())),
    moving: model.weights.filter((w) => w.originalName.includes('/moving_')).map((w) => Array.from(w.read().dataSync())),
  };
  tf.dispose([value, ...Object.values(grads)]);
  return out;
}

/** max|a − b| ≤ tolerance · max(max|b|, floor), without spreading huge arrays into Math.max. */
function expectClose(a: number[], b: number[], tolerance: number, floor = 0) {
  expect(a.length).toBe(b.length);
  let worst = 0;
  let scale = floor;
  a.forEach((v, i) => {
    worst = Math.max(worst, Math.abs(v - (b[i] as number)));
    scale = Math.max(scale, Math.abs(b[i] as number));
  });
  expect(worst).toBeLessThanOrEqual(tolerance * scale);
}

/** Like the fast preset's blocks, small: conv (no bias) → pool → BN (γ frozen) → ReLU, conv → BN, dense. */
function smallFastLike(): tf.Sequential {
  const init = (seed: number) => tf.initializers.glorotUniform({ seed });
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [8, 8, 3], filters: 6, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: init(1) }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.batchNormalization({ momentum: 0.6 }),
      tf.layers.reLU(),
      tf.layers.conv2d({ filters: 5, kernelSize: 3, padding: 'same', kernelInitializer: init(2) }),
      tf.layers.batchNormalization({ epsilon: 1e-5 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 10, kernelInitializer: init(3) }),
    ],
  });
  for (const w of model.layers[2]?.weights ?? []) if (w.originalName.endsWith('/gamma')) w.trainable = false;
  return model;
}

describe('applyForTraining', () => {
  const cases = [
    ['the tiny preset', () => buildModel({ preset: 'tiny', color: 'rgb', seed: 3 }), [4, 32, 32, 3]],
    ['a small fast-like net (frozen γ)', smallFastLike, [5, 8, 8, 3]],
  ] as const;
  it.each(cases)('gives model.apply(training)’s output, gradients and running statistics: %s', (_name, make, shape) => {
    const x = tf.randomNormal([...shape], 0.5, 2, 'float32', 7);
    const y = tf.randomNormal([shape[0], 10], 0, 1, 'float32', 8);
    const a = make();
    const b = make();
    const stock = pass(a, (t) => a.apply(t, { training: true }) as tf.Tensor, x, y);
    const ours = pass(b, (t) => applyForTraining(b, t), x, y);
    expect(ours.loss).toBeCloseTo(stock.loss, 3);
    expect(ours.grads).toHaveLength(stock.grads.length);
    // A conv bias just before BatchNorm has gradient 0 in exact arithmetic (the
    // normalisation removes it): there both sides are rounding noise, so errors
    // are measured against the largest gradient of the model.
    let largest = 0;
    for (const g of stock.grads) for (const v of g) largest = Math.max(largest, Math.abs(v));
    ours.grads.forEach((g, i) => expectClose(g, stock.grads[i] as number[], 1e-4, 1e-2 * largest));
    expect(ours.moving.length).toBeGreaterThan(0);
    ours.moving.forEach((m, i) => expectClose(m, stock.moving[i] as number[], 1e-5));
    // The statistics did move (from zeros and ones).
    expect(ours.moving[0]?.some((v) => v !== 0)).toBe(true);
    tf.dispose([x, y]);
    a.dispose();
    b.dispose();
  });

  it("computes no gradient for the images: the first convolution's input gradient is not run", async () => {
    const model = buildModel({ preset: 'tiny', color: 'rgb', seed: 1 });
    const convs = model.layers.filter((l) => l.getClassName() === 'Conv2D').length;
    const x = tf.randomNormal([2, 32, 32, 3]);
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const kernels = async (forward: (t: tf.Tensor) => tf.Tensor) => {
      const info = await tf.profile(() => {
        const { value, grads } = tf.variableGrads(() => tf.sum(forward(x)) as tf.Scalar, vars);
        tf.dispose([value, ...Object.values(grads)]);
      });
      return info.kernels.filter((k) => k.name === 'Conv2DBackpropInput').length;
    };
    // tfjs-layers' fused op computes it; ours computes the other layers' only.
    expect(await kernels((t) => model.apply(t, { training: true }) as tf.Tensor)).toBe(convs);
    expect(await kernels((t) => applyForTraining(model, t))).toBe(convs - 1);
    x.dispose();
    model.dispose();
  });

  it('leaves no tensors behind', () => {
    const model = buildModel({ preset: 'tiny', color: 'rgb', seed: 1 });
    const x = tf.randomNormal([2, 32, 32, 3]);
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(() => tf.sum(applyForTraining(model, x)) as tf.Scalar, vars);
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    model.dispose();
  });
});
