import * as tf from '@tensorflow/tfjs';
import { mixSeed } from '../data/random';
import { batchNormTraining, normVariables, type Norm, type NormVariables } from '../kernels/batchnorm/closed-form';
import { BN_ACT_KERNELS, batchNormActTraining, type BnActivation } from '../kernels/batchnorm/fused';
import { DROPOUT, dropoutTraining } from '../kernels/dropout/dropout';
import { stepTakes } from '../kernels/register';

// The training-mode forward pass: BatchNorm in closed form (../kernels/batchnorm/closed-form.ts) or fused
// with its activation on WebGPU, Dropout on our seeded kernel, and no input gradient for the images.

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
  if (!BN_ACT_KERNELS.every(stepTakes)) return null;
  const config = layer.getConfig();
  const opts = { epsilon: config.epsilon as number, momentum: config.momentum as number, activation };
  return batchNormActTraining(x, { ...vars, gamma, beta }, opts);
}

/**
 * `model.apply(x, { training: true })` with every BatchNormalization layer of
 * a Sequential model done by batchNormTraining, or, on WebGPU, together with
 * the ELU / ReLU after it by batchNormActTraining; with `dropoutSeed`,
 * wherever the backend has our dropout kernel, Dropout layers draw their
 * masks from it (a pure function of the seed, where tfjs-layers draws from
 * Math.random). `dropoutPart`: this batch is part `dropoutPart` of a whole
 * batch split in equal parts (a data-parallel replica's share), and takes its
 * rows of the whole batch's masks. Other models, and layers it does not
 * handle, go through tfjs-layers unchanged.
 */
export function applyForTraining(
  model: tf.LayersModel,
  x: tf.Tensor,
  opts: { dropoutSeed?: number; dropoutPart?: number } = {},
): tf.Tensor {
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
      const dropped = seed !== undefined ? fusedDropout(layer, y, mixSeed(seed, i), (opts.dropoutPart ?? 0) * y.size) : null;
      y = dropped ?? (layer.apply(y, { training: true }) as tf.Tensor);
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
 * A Dropout layer as our kernel (kernels/dropout/dropout.ts: the mask a pure
 * function of `seed` and the element's index from `offset`; on the GPUs made
 * on the device, no upload), null where the backend has no such kernel or
 * for a layer it does not cover (a noise shape, a rank over 4).
 */
function fusedDropout(layer: tf.layers.Layer, x: tf.Tensor, seed: number, offset: number): tf.Tensor | null {
  if (layer.getClassName() !== 'Dropout' || !stepTakes(DROPOUT)) return null;
  if (x.rank > 4) return null;
  const config = layer.getConfig();
  if (config.noiseShape != null || typeof config.rate !== 'number') return null;
  return config.rate > 0 ? dropoutTraining(x, config.rate, seed, offset) : x;
}
