/**
 * Tensors to and from WeightValues, the form they cross a worker boundary
 * in (protocol.ts): shared by the trainer worker's replica pool and the
 * replica workers.
 */
import * as tf from '@tensorflow/tfjs';
import type { WeightValues } from './protocol';

/** Copies of the tensors' values, named. */
export async function valuesOf(tensors: { name: string; tensor: tf.Tensor }[]): Promise<WeightValues[]> {
  return Promise.all(
    tensors.map(async ({ name, tensor }) => {
      const dtype = tensor.dtype === 'int32' ? 'int32' : 'float32';
      const values = (await tensor.data()) as Float32Array | Int32Array;
      return { name, shape: tensor.shape.slice(), dtype, values: values.slice() };
    }),
  );
}

/** The variables' values, named by originalName (the same in every replica, whatever suffix tfjs gave `name`). */
export function variableValues(variables: tf.LayerVariable[]): Promise<WeightValues[]> {
  return valuesOf(variables.map((w) => ({ name: w.originalName, tensor: w.read() })));
}

/** Puts `weights` into `variables`, paired by position. */
export function writeWeights(variables: tf.LayerVariable[], weights: WeightValues[]): void {
  if (weights.length !== variables.length) throw new RangeError(`${weights.length} weights for ${variables.length} variables`);
  // A variable keeps the data it is given (reference counted): the tensors made here can go with the tidy.
  tf.tidy(() =>
    variables.forEach((v, i) => {
      const w = weights[i] as WeightValues;
      v.write(tf.tensor(w.values, w.shape, w.dtype));
    }),
  );
}

/** The weights the optimizer does not train: BatchNorm's running statistics, and in `fast` its frozen layers. */
export function frozenWeights(model: tf.LayersModel): tf.LayerVariable[] {
  return model.weights.filter((w) => !w.trainable);
}
