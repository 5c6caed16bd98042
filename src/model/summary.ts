import type * as tf from '@tensorflow/tfjs';

export interface LayerRow {
  name: string;
  /** Keras class name, e.g. `Conv2D`. */
  type: string;
  /** Per-image output shape without the batch axis, e.g. `32×32×32`. */
  outputShape: string;
  params: number;
}

export interface ModelSummary {
  rows: LayerRow[];
  totalParams: number;
  /** Updated by the optimizer. */
  trainableParams: number;
  /** BatchNorm running means and variances: updated by training, not by gradients. */
  nonTrainableParams: number;
}

/** The numbers of Keras's `model.summary()`, as data for the UI. */
export function summarizeModel(model: tf.LayersModel): ModelSummary {
  const rows = model.layers.map((layer) => ({
    name: layer.name,
    type: layer.getClassName(),
    outputShape: formatShape(layer.outputShape),
    params: layer.countParams(),
  }));
  const count = (weights: tf.LayerVariable[]) => weights.reduce((sum, w) => sum + w.shape.reduce<number>((a, b) => a * (b ?? 1), 1), 0);
  const trainableParams = count(model.trainableWeights);
  const nonTrainableParams = count(model.nonTrainableWeights);
  return { rows, totalParams: trainableParams + nonTrainableParams, trainableParams, nonTrainableParams };
}

function formatShape(shape: tf.Shape | tf.Shape[]): string {
  const one = (s: tf.Shape) =>
    s
      .slice(1)
      .map((d) => d ?? '?')
      .join('×');
  return Array.isArray(shape[0]) ? (shape as tf.Shape[]).map(one).join(', ') : one(shape as tf.Shape);
}
