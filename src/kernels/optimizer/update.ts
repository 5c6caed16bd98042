// The fused optimizer update's contract, one implementation per backend
// (webgpu.ts, webgl.ts, cpu.ts, wasm.ts): tfjs's Adam and momentum SGD as one
// pass per variable, with tfjs's state, slot names and arithmetic. Which one
// runs where is in ../registry.ts; the optimizer classes that call it are
// ../../train/fusedOptimizers.ts.
import type * as tf from '@tensorflow/tfjs';

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
