// BatchNorm in training mode fused with the activation after it, forward and
// backward, as five kernels of our own (registered for webgpu, where each
// kernel is one dispatch, and for cpu, the plain-JS reference the unit tests
// run). Per layer and step: stats, forward, two running averages, two
// per-channel gradient sums, input gradient — 7 dispatches where the closed
// form (closed-form.ts) with a separate ELU costs ~37.
//
// Math as in closed-form.ts: x̂ = (x − μ)·s, s = 1/√(σ² + ε), biased batch
// variance, z = γx̂ + β, y = act(z); with dz = dy·act′(z) and N values per
// channel: dβ = Σdz, dγ = Σdz·x̂, dx = γs·(dz − dβ/N − x̂·dγ/N); running
// averages v ← v − (v − batch)·(1 − momentum).
import * as tf from '@tensorflow/tfjs';
import type { KernelBackend, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import type { WebGPUBackend, WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { BnActForwardProgram, BnActGradInputProgram, BnActGradSumProgram, BnStatsProgram, MovingAverageProgram } from './fused-webgpu';

import {
  BN_ACT_FORWARD,
  BN_ACT_GRAD_INPUT,
  BN_ACT_GRAD_SUM,
  BN_ACT_KERNELS,
  BN_STATS,
  MOVING_AVERAGE,
  type BnActKernelName,
  type BnActivation,
  type BnAttrs,
} from './fused-names';

export { BN_ACT_FORWARD, BN_ACT_GRAD_INPUT, BN_ACT_GRAD_SUM, BN_ACT_KERNELS, BN_STATS, MOVING_AVERAGE };
export type { BnActKernelName, BnActivation };

/** A KernelFunc with its backend typed (tfjs types it `{}`). */
type Impl = (args: { inputs: Record<string, TensorInfo>; backend: KernelBackend; attrs?: NamedAttrMap }) => TensorInfo;

const attrsOf = (attrs: NamedAttrMap | undefined) => attrs as unknown as BnAttrs;

/** [rows, channels] of a channels-last tensor. */
function flat(t: TensorInfo): [number, number] {
  const channels = t.shape[t.shape.length - 1] ?? 1;
  return [t.shape.reduce((a, b) => a * b, 1) / channels, channels];
}
const as2d = (t: TensorInfo): TensorInfo => ({ ...t, shape: flat(t) });
const need = (inputs: Record<string, TensorInfo | undefined>, name: string): TensorInfo => {
  const t = inputs[name];
  if (t === undefined) throw new Error(`fused BatchNorm kernel: missing input '${name}'`);
  return t;
};

// ---- webgpu: one program, one dispatch per kernel call --------------------

function runProgram(backend: KernelBackend, program: WebGPUProgram, inputs: TensorInfo[], uniforms: { type: string; data: number[] }[]) {
  return (backend as unknown as WebGPUBackend).runWebGPUProgram(program, inputs, 'float32', uniforms);
}
const epsilonUniform = (a: BnAttrs) => [{ type: 'float32', data: [a.epsilon] }];

const webgpuKernels: Record<BnActKernelName, Impl> = {
  [BN_STATS]: ({ inputs, backend }) => {
    const x = need(inputs, 'x');
    return runProgram(backend, new BnStatsProgram(flat(x)[1]), [as2d(x)], []);
  },
  [BN_ACT_FORWARD]: ({ inputs, backend, attrs }) => {
    const a = attrsOf(attrs);
    const x = need(inputs, 'x');
    const ins = [as2d(x), need(inputs, 'stats'), need(inputs, 'gamma'), need(inputs, 'beta')];
    const y = runProgram(backend, new BnActForwardProgram(flat(x), a.activation), ins, epsilonUniform(a));
    return { ...y, shape: x.shape };
  },
  [BN_ACT_GRAD_SUM]: ({ inputs, backend, attrs }) => {
    const a = attrsOf(attrs);
    const dy = need(inputs, 'dy');
    const ins = [as2d(dy), as2d(need(inputs, 'x')), need(inputs, 'stats'), need(inputs, 'gamma'), need(inputs, 'beta')];
    return runProgram(backend, new BnActGradSumProgram(flat(dy)[1], a.activation, a.moment), ins, epsilonUniform(a));
  },
  [BN_ACT_GRAD_INPUT]: ({ inputs, backend, attrs }) => {
    const a = attrsOf(attrs);
    const dy = need(inputs, 'dy');
    const names = ['stats', 'gamma', 'beta', 'sumDz', 'sumDzXHat'];
    const ins = [as2d(dy), as2d(need(inputs, 'x')), ...names.map((n) => need(inputs, n))];
    const dx = runProgram(backend, new BnActGradInputProgram(flat(dy), a.activation), ins, epsilonUniform(a));
    return { ...dx, shape: dy.shape };
  },
  [MOVING_AVERAGE]: ({ inputs, backend, attrs }) => {
    const a = attrsOf(attrs);
    const moving = need(inputs, 'moving');
    const uniforms = [
      { type: 'float32', data: [a.decay] },
      { type: 'int32', data: [a.row] },
    ];
    return runProgram(backend, new MovingAverageProgram(moving.shape[0] ?? 0), [moving, need(inputs, 'stats')], uniforms);
  },
};

// ---- cpu: the same arithmetic in plain loops (the tests' reference plumbing) ----

const activations: Record<BnActivation, { f: (z: number) => number; grad: (z: number) => number }> = {
  elu: { f: (z) => (z >= 0 ? z : Math.exp(z) - 1), grad: (z) => (z > 0 ? 1 : Math.exp(z)) },
  relu: { f: (z) => Math.max(z, 0), grad: (z) => (z > 0 ? 1 : 0) },
  linear: { f: (z) => z, grad: () => 1 },
};

const output = (backend: KernelBackend, shape: number[], values: Float32Array): TensorInfo => ({
  dataId: backend.write(values, shape, 'float32'),
  shape,
  dtype: 'float32',
});
const read = (backend: KernelBackend, t: TensorInfo) => backend.readSync(t.dataId) as Float32Array;
/** Calls fn(i, c, x̂, z) for every element, with the statistics of `stats`. */
const eachNormalized = (
  backend: KernelBackend,
  inputs: Record<string, TensorInfo>,
  epsilon: number,
  fn: (i: number, c: number, xh: number, z: number) => void,
) => {
  const x = read(backend, need(inputs, 'x'));
  const stats = read(backend, need(inputs, 'stats'));
  const gamma = read(backend, need(inputs, 'gamma'));
  const beta = read(backend, need(inputs, 'beta'));
  const channels = gamma.length;
  for (let i = 0; i < x.length; i++) {
    const c = i % channels;
    const xh = ((x[i] as number) - (stats[c] as number)) / Math.sqrt((stats[channels + c] as number) + epsilon);
    fn(i, c, xh, (gamma[c] as number) * xh + (beta[c] as number));
  }
};

const cpuKernels: Record<BnActKernelName, Impl> = {
  [BN_STATS]: ({ inputs, backend }) => {
    const x = need(inputs, 'x');
    const [rows, channels] = flat(x);
    const v = read(backend, x);
    const out = new Float32Array(2 * channels);
    for (let c = 0; c < channels; c++) {
      let s = 0;
      for (let r = 0; r < rows; r++) s += v[r * channels + c] as number;
      const mean = s / rows;
      let q = 0;
      for (let r = 0; r < rows; r++) q += ((v[r * channels + c] as number) - mean) ** 2;
      out[c] = mean;
      out[channels + c] = Math.max(q / rows, 0);
    }
    return output(backend, [2, channels], out);
  },
  [BN_ACT_FORWARD]: ({ inputs, backend, attrs }) => {
    const a = attrsOf(attrs);
    const x = need(inputs, 'x');
    const out = new Float32Array(flat(x)[0] * flat(x)[1]);
    const act = activations[a.activation].f;
    eachNormalized(backend, inputs, a.epsilon, (i, _c, _xh, z) => (out[i] = act(z)));
    return output(backend, x.shape, out);
  },
  [BN_ACT_GRAD_SUM]: ({ inputs, backend, attrs }) => {
    const a = attrsOf(attrs);
    const dy = read(backend, need(inputs, 'dy'));
    const channels = flat(need(inputs, 'dy'))[1];
    const out = new Float32Array(channels);
    const grad = activations[a.activation].grad;
    eachNormalized(backend, inputs, a.epsilon, (i, c, xh, z) => {
      const dz = (dy[i] as number) * grad(z);
      out[c] = (out[c] as number) + (a.moment === 1 ? dz * xh : dz);
    });
    return output(backend, [channels], out);
  },
  [BN_ACT_GRAD_INPUT]: ({ inputs, backend, attrs }) => {
    const a = attrsOf(attrs);
    const dyInfo = need(inputs, 'dy');
    const [rows, channels] = flat(dyInfo);
    const dy = read(backend, dyInfo);
    const stats = read(backend, need(inputs, 'stats'));
    const gamma = read(backend, need(inputs, 'gamma'));
    const sumDz = read(backend, need(inputs, 'sumDz'));
    const sumDzXHat = read(backend, need(inputs, 'sumDzXHat'));
    const grad = activations[a.activation].grad;
    const out = new Float32Array(rows * channels);
    eachNormalized(backend, inputs, a.epsilon, (i, c, xh, z) => {
      const s = 1 / Math.sqrt((stats[channels + c] as number) + a.epsilon);
      const dz = (dy[i] as number) * grad(z);
      out[i] = (gamma[c] as number) * s * (dz - (sumDz[c] as number) / rows - (xh * (sumDzXHat[c] as number)) / rows);
    });
    return output(backend, dyInfo.shape, out);
  },
  [MOVING_AVERAGE]: ({ inputs, backend, attrs }) => {
    const a = attrsOf(attrs);
    const moving = read(backend, need(inputs, 'moving'));
    const stats = read(backend, need(inputs, 'stats'));
    const out = moving.map((m, c) => m - (m - (stats[a.row * moving.length + c] as number)) * a.decay);
    return output(backend, [moving.length], out);
  },
};

/** Our kernel of that name for that backend ('webgpu' or 'cpu'), or undefined for other backends. */
export function bnActKernel(kernelName: BnActKernelName, backendName: string): KernelFunc | undefined {
  const impl = backendName === 'webgpu' ? webgpuKernels[kernelName] : backendName === 'cpu' ? cpuKernels[kernelName] : undefined;
  if (impl === undefined) return undefined;
  return ({ inputs, backend, attrs }) =>
    impl({ inputs: inputs as Record<string, TensorInfo>, backend: backend as KernelBackend, ...(attrs ? { attrs } : {}) });
}

// ---- the op ----------------------------------------------------------------

export interface BnActVariables {
  gamma: tf.LayerVariable;
  beta: tf.LayerVariable;
  movingMean: tf.LayerVariable;
  movingVariance: tf.LayerVariable;
}

export interface BnActOptions {
  epsilon: number;
  momentum: number;
  activation: BnActivation;
}

/**
 * act(BatchNorm(x)) in training mode on the batch statistics of x (channels
 * last), updating the running averages; differentiable with respect to x, γ
 * and β. A γ that is not trainable gets no gradient (and costs none).
 */
export function batchNormActTraining(x: tf.Tensor, vars: BnActVariables, opts: BnActOptions): tf.Tensor {
  const { epsilon, activation } = opts;
  const decay = 1 - opts.momentum;
  const run = (kernelName: BnActKernelName, inputs: tf.NamedTensorMap, attrs: Partial<BnAttrs>) =>
    tf.engine().runKernel(kernelName, inputs, attrs as unknown as NamedAttrMap) as tf.Tensor;
  const gamma = vars.gamma.read();

  const forward = (input: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, save: tf.GradSaveFunc) => {
    const stats = run(BN_STATS, { x: input }, {});
    const value = run(BN_ACT_FORWARD, { x: input, stats, gamma, beta }, { epsilon, activation });
    tf.tidy(() => {
      vars.movingMean.write(run(MOVING_AVERAGE, { moving: vars.movingMean.read(), stats }, { decay, row: 0 }));
      vars.movingVariance.write(run(MOVING_AVERAGE, { moving: vars.movingVariance.read(), stats }, { decay, row: 1 }));
    });
    save([input, stats, gamma, beta]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, st, g, b] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
      const common = { dy, x: xs, stats: st, gamma: g, beta: b };
      const sumDz = run(BN_ACT_GRAD_SUM, common, { epsilon, activation, moment: 0 });
      const sumDzXHat = run(BN_ACT_GRAD_SUM, common, { epsilon, activation, moment: 1 });
      const dx = run(BN_ACT_GRAD_INPUT, { ...common, sumDz, sumDzXHat }, { epsilon, activation });
      return { dx, dGamma: sumDzXHat, dBeta: sumDz };
    };
    return { value, gradFunc };
  };

  if (vars.gamma.trainable) {
    const op = tf.customGrad((input, scale, beta, save) => {
      const { value, gradFunc } = forward(input as tf.Tensor, scale as tf.Tensor, beta as tf.Tensor, save as tf.GradSaveFunc);
      return {
        value,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const g = gradFunc(dy, saved);
          return [g.dx, g.dGamma, g.dBeta];
        },
      };
    });
    return op(x, gamma, vars.beta.read());
  }
  // γ is a constant of the op here, outside what autodiff sees.
  const op = tf.customGrad((input, beta, save) => {
    const { value, gradFunc } = forward(input as tf.Tensor, gamma, beta as tf.Tensor, save as tf.GradSaveFunc);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const g = gradFunc(dy, saved);
        return [g.dx, g.dBeta];
      },
    };
  });
  return op(x, vars.beta.read());
}
