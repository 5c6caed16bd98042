import * as tf from '@tensorflow/tfjs';
import { mixSeed } from '../data/random';
import { batchNormActTraining, bnActAvailable, type BnActivation } from './kernels/bn-act';
import { DROPOUT, dropoutTraining } from './kernels/dropout';
import { fusedOnGpu } from './kernels/register';

/*
 * The training-mode forward pass of a Sequential model with BatchNorm done in
 * one custom-gradient op per layer.
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

/**
 * The activation a layer applies, when batchNormActTraining can fuse it into
 * the BatchNorm before it: ELU with α = 1, ReLU without a cap, or an
 * Activation layer of either.
 */
function fusableActivation(layer: tf.layers.Layer | undefined): BnActivation | null {
  const config = layer?.getConfig();
  switch (layer?.getClassName()) {
    case 'ELU':
      return (config?.alpha ?? 1) === 1 ? 'elu' : null;
    case 'ReLU':
      return config?.maxValue == null ? 'relu' : null;
    case 'Activation':
      return config?.activation === 'elu' || config?.activation === 'relu' ? config.activation : null;
    default:
      return null;
  }
}

/**
 * BatchNorm and the activation after it as one op of our WebGPU kernels, where
 * that saves ~30 dispatches per layer; null where it does not apply (other
 * backends keep the closed form: there the kernels are only a test reference).
 */
function fusedBatchNorm(layer: Norm, vars: NormVariables, next: tf.layers.Layer | undefined, x: tf.Tensor): tf.Tensor | null {
  const activation = fusableActivation(next);
  const { gamma, beta } = vars;
  if (activation === null || gamma === undefined || beta === undefined) return null;
  if (tf.getBackend() !== 'webgpu' || !bnActAvailable()) return null;
  const config = layer.getConfig();
  const opts = { epsilon: config.epsilon as number, momentum: config.momentum as number, activation };
  return batchNormActTraining(x, { ...vars, gamma, beta }, opts);
}

/**
 * `model.apply(x, { training: true })` with every BatchNormalization layer of
 * a Sequential model done by batchNormTraining, or, on WebGPU, together with
 * the ELU / ReLU after it by batchNormActTraining; with `dropoutSeed`, on
 * WebGPU and WebGL, Dropout layers draw their masks from it (a pure function of the
 * seed, where tfjs-layers draws from Math.random). Other models, and layers it
 * does not handle, go through tfjs-layers unchanged.
 */
export function applyForTraining(model: tf.LayersModel, x: tf.Tensor, opts: { dropoutSeed?: number } = {}): tf.Tensor {
  if (!(model instanceof tf.Sequential)) return model.apply(x, { training: true }) as tf.Tensor;
  const layers = model.layers;
  let y = x;
  // Whether a trainable weight comes before layer i: its input then needs a gradient.
  let fedByWeights = false;
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i] as tf.layers.Layer;
    const vars = layer.getClassName() === 'BatchNormalization' ? normVariables(layer as Norm, y.rank) : null;
    const unfed = fedByWeights ? null : convWithoutInputGradient(layer, y);
    fedByWeights ||= layer.trainableWeights.length > 0;
    if (unfed) {
      y = unfed;
    } else if (vars) {
      const fused = fusedBatchNorm(layer as Norm, vars, layers[i + 1], y);
      // The activation layer ran inside the fused op: skip it.
      if (fused) i++;
      y = fused ?? batchNormTraining(layer as Norm, y, vars);
    } else {
      const seed = opts.dropoutSeed;
      y = (seed !== undefined ? fusedDropout(layer, y, mixSeed(seed, i)) : null) ?? (layer.apply(y, { training: true }) as tf.Tensor);
    }
  }
  return y;
}

/**
 * A Conv2D layer whose input no trainable weight feeds (the first layer: its
 * input is the batch of images) as tf.conv2d plus its bias, on wasm and cpu.
 * tfjs-layers runs it as tf.fused.conv2d, whose gradient (a customGrad in
 * tfjs-core 4.22) computes the input's gradient along with the weights'; here
 * nobody reads that one, and on wasm it cost ~14 ms of a 450 ms seed step at
 * batch 64 on one thread (a convolution as large as the layer's own, onto 3
 * channels), paid in full by every data-parallel worker whatever its share.
 * tf.conv2d's gradient computes only what is asked for. WebGPU and WebGL keep
 * the fused op: their steps are tuned by dispatch count, and this is unmeasured
 * there. Null for the layers it does not cover.
 */
function convWithoutInputGradient(layer: tf.layers.Layer, x: tf.Tensor): tf.Tensor | null {
  if (layer.getClassName() !== 'Conv2D' || x.rank !== 4 || !['wasm', 'cpu'].includes(tf.getBackend())) return null;
  const config = layer.getConfig();
  const unit = (v: unknown) => v === undefined || v === 1 || (Array.isArray(v) && v.every((d) => d === 1));
  const linear = config.activation === undefined || config.activation === 'linear';
  const padding = config.padding;
  if (!linear || !unit(config.dilationRate) || config.dataFormat !== 'channelsLast' || (padding !== 'same' && padding !== 'valid'))
    return null;
  const kernel = layer.trainableWeights.find((w) => w.originalName.endsWith('/kernel'));
  const bias = layer.trainableWeights.find((w) => w.originalName.endsWith('/bias'));
  if (kernel === undefined || layer.trainableWeights.length !== (bias ? 2 : 1)) return null;
  const y = tf.conv2d(x as tf.Tensor4D, kernel.read() as tf.Tensor4D, config.strides as [number, number], padding);
  return bias ? tf.add(y, bias.read()) : y;
}

/**
 * A Dropout layer as our kernel on WebGPU and WebGL (kernels/dropout.ts: the
 * mask made on the device from `seed`, no upload), null elsewhere or for a
 * layer it does not cover (a noise shape, a rank over 4).
 */
function fusedDropout(layer: tf.layers.Layer, x: tf.Tensor, seed: number): tf.Tensor | null {
  if (layer.getClassName() !== 'Dropout' || !fusedOnGpu(DROPOUT)) return null;
  if (x.rank > 4) return null;
  const config = layer.getConfig();
  if (config.noiseShape != null || typeof config.rate !== 'number') return null;
  return config.rate > 0 ? dropoutTraining(x, config.rate, seed) : x;
}
