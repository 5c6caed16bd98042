/**
 * tfjs's Adam and momentum SGD with one fused update per variable where the
 * backend has one (../kernels/optimizer/: a WGSL kernel on WebGPU, one draw per
 * new tensor on WebGL, a loop on CPU and WASM; ../kernels/registry.ts says
 * which). Same state, slot names, weights format and arithmetic as the tfjs
 * classes they extend, so checkpoints, resumes and the PyTorch hand-over do
 * not see a difference; other backends run tfjs's own update.
 */
import * as tf from '@tensorflow/tfjs';
import { fusedUpdateFor } from '../kernels/register';
import type { UpdateItem } from '../kernels/optimizer/update';

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
  /** As MomentumOptimizer's: tfjs's Adam reads its rate at every step, so a schedule can change it between steps. */
  setLearningRate(rate: number): void {
    this.learningRate = rate;
  }

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
