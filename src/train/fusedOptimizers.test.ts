import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { fusedUpdateFor } from '../kernels/register';
import { FusedAdam, FusedMomentum } from './fusedOptimizers';
import { relativeError, valueError } from '../kernels/testing';

/**
 * Each value of a slot against its own (valueError), down to this fraction of
 * its tensor's largest: v spans 6.6e-10 to 7.4e-5 here, m crosses zero.
 */
const SLOT_FLOOR = 1e-3;
/**
 * Weights (max ≈ 2.7) move by about lr a step, 0.01–0.15 in all: one nearer 0
 * than that is the difference of larger numbers, measured down to 1e-2 of the
 * largest.
 */
const WEIGHT_FLOOR = 1e-2;
/**
 * Slots, and momentum's weights: bit-identical to tfjs's on cpu and wasm
 * (measured 0, the same float32 operations in the same order); 1e-6 (8–16
 * ulp) would pass a reordering, not a wrong term.
 */
const SAME_OPS = 1e-6;
/**
 * Adam's weights: 9.6e-6 at worst on cpu and wasm. tfjs takes 1 − β₂ᵗ from a
 * float32 running product of β₂ (9.9998713e-4 at step 1), ours rounds it from
 * float64 (1e-3): the step differs by 6.5e-6 of itself. 5e-5 leaves a margin
 * of 5.
 */
const ADAM_WEIGHTS = 5e-5;

const error = (a: tf.Tensor, b: tf.Tensor, floor: number) => valueError(a.dataSync(), b.dataSync(), floor);

/** Two variables of odd sizes, their gradients on three steps drawn from fixed seeds (tfjs takes seed 0 as "unseeded"). */
function problem(prefix: string) {
  const vars = [
    tf.variable(tf.randomNormal([3, 5, 7], 0, 1, 'float32', 1), true, `${prefix}/w`),
    tf.variable(tf.randomNormal([11], 0, 1, 'float32', 2), true, `${prefix}/b`),
  ];
  const grads = [0, 1, 2].map((step) => vars.map((v, i) => tf.randomNormal(v.shape, 0, 0.1 * (step + 1), 'float32', 10 * step + i + 1)));
  return { vars, grads };
}

/** Runs three steps of `make()` from each side and compares every weight and slot after each: the worst of each. */
async function compareSteps(makeFused: () => tf.Optimizer, makeTfjs: () => tf.Optimizer, tag: string) {
  const a = problem(`${tag}-fused`);
  const b = problem(`${tag}-tfjs`);
  const fused = makeFused();
  const reference = makeTfjs();
  const errors = { weights: 0, slots: 0 };
  for (let step = 0; step < 3; step++) {
    fused.applyGradients(a.vars.map((v, i) => ({ name: v.name, tensor: a.grads[step]?.[i] as tf.Tensor })));
    reference.applyGradients(b.vars.map((v, i) => ({ name: v.name, tensor: b.grads[step]?.[i] as tf.Tensor })));
    a.vars.forEach((v, i) => (errors.weights = Math.max(errors.weights, error(v, b.vars[i] as tf.Tensor, WEIGHT_FLOOR))));
    const [fw, rw] = [await fused.getWeights(), await reference.getWeights()];
    expect(fw.map((w) => w.name.replace(`${tag}-fused`, ''))).toEqual(rw.map((w) => w.name.replace(`${tag}-tfjs`, '')));
    fw.forEach((w, i) => (errors.slots = Math.max(errors.slots, error(w.tensor, (rw[i] as { tensor: tf.Tensor }).tensor, SLOT_FLOOR))));
  }
  // Moved at all: the comparison would pass for an optimizer that did nothing to both.
  expect(relativeError((a.vars[0] as tf.Tensor).dataSync(), (problem(`${tag}-start`).vars[0] as tf.Tensor).dataSync())).toBeGreaterThan(
    1e-3,
  );
  return { errors, fused, reference, a, b };
}

describe('fused optimizers on cpu', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('has a fused update on webgpu, webgl, cpu and wasm, not elsewhere', () => {
    expect(fusedUpdateFor('cpu')).not.toBeNull();
    expect(fusedUpdateFor('webgpu')).not.toBeNull();
    expect(fusedUpdateFor('webgl')).not.toBeNull();
    expect(fusedUpdateFor('wasm')).not.toBeNull();
    expect(fusedUpdateFor('tensorflow')).toBeNull();
  });

  it('Adam matches tf.train.adam over three steps, value by value: m, v and the step count to 1e-6, weights to 5e-5', async () => {
    const { errors, fused, reference } = await compareSteps(
      () => new FusedAdam(0.01, 0.9, 0.999),
      () => tf.train.adam(0.01),
      'adam',
    );
    expect(errors.slots).toBeLessThan(SAME_OPS);
    expect(errors.weights).toBeLessThan(ADAM_WEIGHTS);
    expect(fused.iterations).toBe(3);
    expect(reference.iterations).toBe(3);
  });

  it.each([true, false])('momentum (Nesterov %s) matches tf.train.momentum to 1e-6, value by value', async (nesterov) => {
    const { errors } = await compareSteps(
      () => new FusedMomentum(0.05, 0.9, nesterov),
      () => tf.train.momentum(0.05, 0.9, nesterov),
      `momentum-${nesterov}`,
    );
    expect(Math.max(errors.weights, errors.slots)).toBeLessThan(SAME_OPS);
  });

  it('a run saved after fused steps and resumed with tfjs steps (and the reverse) continues like tfjs alone', async () => {
    // The weights format is tfjs's: restore into the other kind and keep going.
    const a = problem('resume-a');
    const b = problem('resume-b');
    const fused = new FusedAdam(0.01, 0.9, 0.999);
    const reference = tf.train.adam(0.01);
    const grads = (p: typeof a, step: number) => p.vars.map((v, i) => ({ name: v.name, tensor: p.grads[step]?.[i] as tf.Tensor }));
    fused.applyGradients(grads(a, 0));
    reference.applyGradients(grads(b, 0));
    const restored = tf.train.adam(0.01);
    await restored.setWeights((await fused.getWeights()).map((w) => ({ name: w.name, tensor: w.tensor.clone() })));
    const refused = new FusedAdam(0.01, 0.9, 0.999);
    await refused.setWeights((await reference.getWeights()).map((w) => ({ name: w.name, tensor: w.tensor.clone() })));
    restored.applyGradients(grads(a, 1));
    refused.applyGradients(grads(b, 1));
    a.vars.forEach((v, i) => expect(error(v, b.vars[i] as tf.Tensor, WEIGHT_FLOOR)).toBeLessThan(ADAM_WEIGHTS));
  });

  it('on a backend without a fused update it is tfjs’s step, β powers taken from the step count', async () => {
    // The cpu backend's kernels under a name fusedUpdateFor does not know.
    const name = 'no-fused-update';
    tf.registerBackend(name, () => new (Object.getPrototypeOf(tf.findBackend('cpu')).constructor as new () => tf.KernelBackend)());
    for (const kernel of tf.getKernelsForBackend('cpu')) tf.registerKernel({ ...kernel, backendName: name });
    await tf.setBackend(name);
    try {
      const { errors } = await compareSteps(
        () => new FusedAdam(0.01, 0.9, 0.999),
        () => tf.train.adam(0.01),
        'adam-plain',
      );
      expect(errors.slots).toBeLessThan(SAME_OPS);
      expect(errors.weights).toBeLessThan(ADAM_WEIGHTS);
    } finally {
      await tf.setBackend('cpu');
      tf.removeBackend(name);
    }
  });

  it('on wasm, the loop over the heap matches tfjs’s Adam and momentum, and keeps no tensor or buffer', async () => {
    await tf.setBackend('wasm');
    try {
      const adam = await compareSteps(
        () => new FusedAdam(0.01, 0.9, 0.999),
        () => tf.train.adam(0.01),
        'adam-wasm',
      );
      expect(adam.errors.slots).toBeLessThan(SAME_OPS);
      expect(adam.errors.weights).toBeLessThan(ADAM_WEIGHTS);
      const momentum = await compareSteps(
        () => new FusedMomentum(0.05, 0.9, true),
        () => tf.train.momentum(0.05, 0.9, true),
        'momentum-wasm',
      );
      expect(Math.max(momentum.errors.weights, momentum.errors.slots)).toBeLessThan(SAME_OPS);
      const { vars, grads } = problem('flat-wasm');
      const optimizer = new FusedAdam(0.01, 0.9, 0.999);
      const step = (s: number) => optimizer.applyGradients(vars.map((v, i) => ({ name: v.name, tensor: grads[s]?.[i] as tf.Tensor })));
      step(0);
      const after1 = { tensors: tf.memory().numTensors, buffers: tf.backend().numDataIds() };
      step(1);
      step(2);
      expect({ tensors: tf.memory().numTensors, buffers: tf.backend().numDataIds() }).toEqual(after1);
    } finally {
      await tf.setBackend('cpu');
    }
  });

  it('keeps the tensor count flat across steps', () => {
    const { vars, grads } = problem('flat');
    const optimizer = new FusedAdam(0.01, 0.9, 0.999);
    const step = (s: number) => optimizer.applyGradients(vars.map((v, i) => ({ name: v.name, tensor: grads[s]?.[i] as tf.Tensor })));
    step(0);
    const after1 = tf.memory().numTensors;
    step(1);
    step(2);
    expect(tf.memory().numTensors).toBe(after1);
  });
});
