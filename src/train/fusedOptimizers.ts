/**
 * tfjs's Adam and momentum SGD with one fused update per variable where the
 * backend has one (WebGPU: a WGSL kernel, kernels/optimizer-webgpu.ts; WebGL:
 * one draw per new tensor, kernels/optimizer-webgl.ts; CPU and WASM: a loop). Same state, slot names, weights format and arithmetic as the tfjs
 * classes they extend, so checkpoints, resumes and the PyTorch hand-over do
 * not see a difference; other backends run tfjs's own update.
 */
import * as tf from '@tensorflow/tfjs';
import { webglUpdate } from './kernels/optimizer-webgl';
import { floatsOf, type HeapBackend } from './kernels/wasm-heap';
import { webgpuUpdate } from './kernels/optimizer-webgpu';

export type UpdateParams =
  | {
      kind: 'adam';
      beta1: number;
      beta2: number;
      epsilon: number;
      learningRate: number;
      /** 1-based count of this update: the bias corrections are 1 − β^step. */
      step: number;
    }
  | { kind: 'momentum'; momentum: number; learningRate: number; nesterov: boolean };

/** A variable, its gradient, and its optimizer slots: [m, v] for Adam, [accumulation] for momentum. */
export interface UpdateItem {
  value: tf.Variable;
  gradient: tf.Tensor;
  slots: tf.Variable[];
}

/** New values of each item's [value, ...slots], as fresh tensors the caller owns. */
export type FusedUpdate = (items: UpdateItem[], params: UpdateParams) => tf.Tensor[][];

/** The fused update of a backend, or null where tfjs's own runs. */
export function fusedUpdateFor(backendName: string): FusedUpdate | null {
  switch (backendName) {
    case 'webgpu':
      return webgpuUpdate;
    case 'webgl':
      return webglUpdate;
    case 'cpu':
      return cpuUpdate;
    case 'wasm':
      return wasmUpdate;
    default:
      return null;
  }
}

/**
 * The same arithmetic as the WGSL kernels, in float32 per operation like
 * tfjs's CPU kernels: from the value w, gradient g and slots `state`, writes
 * the new value and slots into `out` ([value, ...slots]).
 */
function updateValues(params: UpdateParams, w: Float32Array, g: Float32Array, state: Float32Array[], out: Float32Array[]): void {
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

const cpuUpdate: FusedUpdate = (items, params) =>
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

/**
 * The cpu loop over the wasm heap, in place of tfjs's Adam: ~20 kernel calls
 * per variable (the seed step's 342 element-wise calls, ~50 ms of a 490-ms
 * step on one thread) become one pass over each variable.
 */
const wasmUpdate: FusedUpdate = (items, params) => {
  const backend = tf.backend() as unknown as HeapBackend;
  return items.map(({ value, gradient, slots }) => {
    // The outputs first: allocating can grow the heap, which detaches earlier views.
    const out = [value, ...slots].map(() => backend.makeOutput(value.shape, 'float32'));
    const view = (t: tf.TensorInfo) => floatsOf(backend, t);
    updateValues(params, view(value), view(gradient), slots.map(view), out.map(view));
    return out.map((t) => tf.engine().makeTensorFromTensorInfo(t));
  });
};

/** The gradients of a step as tfjs hands them to applyGradients, by variable name. */
type Gradients = Parameters<tf.AdamOptimizer['applyGradients']>[0];

function gradientList(gradients: Gradients): { name: string; gradient: tf.Tensor | undefined }[] {
  return Array.isArray(gradients)
    ? gradients.map(({ name, tensor }) => ({ name, gradient: tensor }))
    : Object.entries(gradients).map(([name, gradient]) => ({ name, gradient: gradient as tf.Tensor | undefined }));
}

type Slot = { originalName: string; variable: tf.Variable };

/** The slot of variable i, made as tfjs makes it (zeros, untrainable, named `${name}/${suffix}`) on first use. */
function slotOf(slots: Slot[], i: number, name: string, suffix: string): tf.Variable {
  slots[i] ??= {
    originalName: `${name}/${suffix}`,
    variable: tf.tidy(() => tf.zerosLike(tf.engine().registeredVariables[name] as tf.Variable).variable(false)),
  };
  return slots[i].variable;
}

/** Writes the new values into their variables (a buffer swap, no kernel) and lets go of the fresh tensors. */
function assignAll(items: UpdateItem[], results: tf.Tensor[][]): void {
  items.forEach(({ value, slots }, i) => {
    const fresh = results[i] as tf.Tensor[];
    [value, ...slots].forEach((variable, j) => variable.assign(fresh[j] as tf.Tensor));
    tf.dispose(fresh);
  });
}

/** AdamOptimizer's private state (tfjs-core 4.22), which the fused step keeps as tfjs would. */
interface AdamState {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: Slot[];
  accumulatedSecondMoment: Slot[];
}

export class FusedAdam extends tf.AdamOptimizer {
  override applyGradients(gradients: Gradients): void {
    const update = fusedUpdateFor(tf.getBackend());
    const state = this as unknown as AdamState;
    if (!update) {
      // tfjs's step reads its running β powers, which the fused steps leave alone: set them from the step count first.
      tf.tidy(() => {
        state.accBeta1.assign(tf.scalar(this.beta1 ** (this.iterations + 1)));
        state.accBeta2.assign(tf.scalar(this.beta2 ** (this.iterations + 1)));
      });
      super.applyGradients(gradients);
      return;
    }
    const items: UpdateItem[] = [];
    gradientList(gradients).forEach(({ name, gradient }, i) => {
      const m = slotOf(state.accumulatedFirstMoment, i, name, 'm');
      const v = slotOf(state.accumulatedSecondMoment, i, name, 'v');
      if (gradient) items.push({ value: tf.engine().registeredVariables[name] as tf.Variable, gradient, slots: [m, v] });
    });
    const { beta1, beta2, epsilon, learningRate } = this;
    assignAll(items, update(items, { kind: 'adam', beta1, beta2, epsilon, learningRate, step: this.iterations + 1 }));
    this.incrementIterations();
  }
}

/** MomentumOptimizer's private state (tfjs-core 4.22). */
interface MomentumState {
  momentum: number;
  useNesterov: boolean;
  accumulations: Slot[];
}

export class FusedMomentum extends tf.MomentumOptimizer {
  override applyGradients(gradients: Gradients): void {
    const update = fusedUpdateFor(tf.getBackend());
    if (!update) {
      super.applyGradients(gradients);
      return;
    }
    const state = this as unknown as MomentumState;
    const items: UpdateItem[] = [];
    gradientList(gradients).forEach(({ name, gradient }, i) => {
      const accumulation = slotOf(state.accumulations, i, name, 'momentum');
      if (gradient) items.push({ value: tf.engine().registeredVariables[name] as tf.Variable, gradient, slots: [accumulation] });
    });
    const params = { kind: 'momentum', momentum: state.momentum, learningRate: this.learningRate, nesterov: state.useNesterov } as const;
    assignAll(items, update(items, params));
    this.incrementIterations();
  }
}
