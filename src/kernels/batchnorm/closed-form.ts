import * as tf from '@tensorflow/tfjs';

/*
 * BatchNorm in training mode as one custom-gradient op per layer, in closed
 * form, on every backend (../../train/forward.ts applies it layer by layer).
 *
 * tfjs-layers' BatchNormalization computes batch moments with tf.moments and
 * normalises with tf.batchNorm; autodiff then differentiates that chain op by
 * op: ~20 elementwise kernels over the whole activation tensor plus ~6
 * reductions per layer in the backward pass (mean's, square's, sub's and
 * FusedBatchNorm's gradients, tiles and the sums joining the paths). In closed
 * form, with x̂ = (x − μ)·s, s = 1/√(σ² + ε), N values per channel:
 *   dβ = Σ dy,  dγ = Σ dy·x̂ = s·(Σ dy·x − μ·dβ),
 *   dx = γs·(dy − dβ/N − x̂·dγ/N) = a·dy + b·x + c  per channel, with
 *   a = γs,  b = −γs²·dγ/N,  c = −γs·dβ/N − b·μ:
 * 5 full-size elementwise kernels (dy·x, a·dy, b·x, two adds) and 2
 * reductions; the forward takes σ² = mean(x²) − μ², one full-size kernel
 * fewer than tf.moments. Same numbers to float rounding for activations whose
 * mean is not many standard deviations from 0 (BatchNorm inputs here), same
 * running-average updates as tfjs-layers.
 */

export type Norm = tf.layers.Layer & { getConfig(): tf.serialization.ConfigDict };

export interface NormVariables {
  gamma: tf.LayerVariable | undefined;
  beta: tf.LayerVariable | undefined;
  movingMean: tf.LayerVariable;
  movingVariance: tf.LayerVariable;
}

/** The layer's variables by role, or null for a BatchNorm we do not handle (axis not last, missing statistics). */
export function normVariables(layer: Norm, rank: number): NormVariables | null {
  const axis = layer.getConfig().axis as number | number[];
  const axes = Array.isArray(axis) ? axis : [axis];
  if (axes.length !== 1 || !(axes[0] === -1 || axes[0] === rank - 1)) return null;
  // originalName: `name` gets a suffix (bn1/gamma_1) when another model used the layer name.
  const find = (role: string) => layer.weights.find((w) => w.originalName.endsWith(`/${role}`));
  const movingMean = find('moving_mean');
  const movingVariance = find('moving_variance');
  if (!movingMean || !movingVariance) return null;
  return { gamma: find('gamma'), beta: find('beta'), movingMean, movingVariance };
}

/**
 * One BatchNorm layer in training mode: normalises with the batch statistics,
 * updates the running averages as tfjs-layers does (v ← v − (v − batch)·(1 − momentum),
 * biased variance), and differentiates in closed form with respect to x, γ and β.
 */
export function batchNormTraining(layer: Norm, x: tf.Tensor, vars: NormVariables): tf.Tensor {
  const config = layer.getConfig();
  const epsilon = config.epsilon as number;
  const momentum = config.momentum as number;
  const channels = x.shape[x.rank - 1] as number;
  const reduce = Array.from({ length: x.rank - 1 }, (_, i) => i);
  const count = x.size / channels;
  const gamma = vars.gamma?.read() ?? tf.ones([channels]);
  const beta = vars.beta?.read() ?? tf.zeros([channels]);

  const op = tf.customGrad((input, scale, offset, save) => {
    const xIn = input as tf.Tensor;
    const mean = tf.mean(xIn, reduce) as tf.Tensor1D;
    // Clamped: rounding can make mean(x²) − μ² slightly negative for a constant channel.
    const variance = tf.relu(tf.sub(tf.mean(tf.square(xIn), reduce), tf.square(mean))) as tf.Tensor1D;
    const invStd = tf.rsqrt(tf.add(variance, epsilon));
    const y = tf.batchNorm(xIn, mean, variance, offset as tf.Tensor1D, scale as tf.Tensor1D, epsilon);
    tf.tidy(() => {
      const decay = 1 - momentum;
      const m = vars.movingMean.read();
      const v = vars.movingVariance.read();
      vars.movingMean.write(tf.sub(m, tf.mul(tf.sub(m, mean), decay)));
      vars.movingVariance.write(tf.sub(v, tf.mul(tf.sub(v, variance), decay)));
    });
    (save as tf.GradSaveFunc)([xIn, mean, invStd, scale as tf.Tensor]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, mu, s, g] = saved as [tf.Tensor, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
        const dBeta = tf.sum(dy, reduce);
        const dGamma = tf.mul(s, tf.sub(tf.sum(tf.mul(dy, xs), reduce), tf.mul(mu, dBeta)));
        const a = tf.mul(g, s);
        const b = tf.neg(tf.mul(tf.mul(a, s), tf.div(dGamma, count)));
        const c = tf.sub(tf.neg(tf.mul(a, tf.div(dBeta, count))), tf.mul(b, mu));
        const dx = tf.add(tf.add(tf.mul(dy, a), tf.mul(xs, b)), c);
        return [dx, dGamma, dBeta];
      },
    };
  });
  return op(x, gamma, beta);
}
