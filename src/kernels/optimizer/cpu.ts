// The fused optimizer update on the cpu backend: a loop in float32 per
// operation, like tfjs's CPU kernels; also the unit tests' reference.
import * as tf from '@tensorflow/tfjs';
import type { FusedUpdate, UpdateParams } from './update';

/**
 * The same arithmetic as the WGSL kernels, in float32 per operation like
 * tfjs's CPU kernels: from the value w, gradient g and slots `state`, writes
 * the new value and slots into `out` ([value, ...slots]).
 */
export function updateValues(params: UpdateParams, w: Float32Array, g: Float32Array, state: Float32Array[], out: Float32Array[]): void {
  const f = Math.fround;
  const [w1, s1, s2] = out as [Float32Array, Float32Array, Float32Array | undefined];
  if (params.kind === 'adam') {
    const [m, v] = state as [Float32Array, Float32Array];
    const [b1, b2, ob1, ob2] = [f(params.beta1), f(params.beta2), f(1 - params.beta1), f(1 - params.beta2)];
    const [c1, c2] = [f(1 - params.beta1 ** params.step), f(1 - params.beta2 ** params.step)];
    const [rate, eps] = [f(-params.learningRate), f(params.epsilon)];
    for (let i = 0; i < w.length; i++) {
      const gi = g[i] as number;
      const m1 = f(f((m[i] as number) * b1) + f(gi * ob1));
      const v1 = f(f((v[i] as number) * b2) + f(f(gi * gi) * ob2));
      s1[i] = m1;
      (s2 as Float32Array)[i] = v1;
      w1[i] = f(f(f(f(m1 / c1) / f(f(Math.sqrt(f(v1 / c2))) + eps)) * rate) + (w[i] as number));
    }
  } else {
    const [acc] = state as [Float32Array];
    const [mu, rate] = [f(params.momentum), f(-params.learningRate)];
    for (let i = 0; i < w.length; i++) {
      const gi = g[i] as number;
      const a1 = f(f(mu * (acc[i] as number)) + gi);
      s1[i] = a1;
      w1[i] = f(f(rate * (params.nesterov ? f(gi + f(a1 * mu)) : a1)) + (w[i] as number));
    }
  }
}

export const cpuUpdate: FusedUpdate = (items, params) =>
  items.map(({ value, gradient, slots }) => {
    const w = value.dataSync() as Float32Array;
    const out = [value, ...slots].map((a) => new Float32Array(a.size));
    updateValues(
      params,
      w,
      gradient.dataSync() as Float32Array,
      slots.map((s) => s.dataSync() as Float32Array),
      out,
    );
    return out.map((a) => tf.tensor(a, value.shape));
  });
