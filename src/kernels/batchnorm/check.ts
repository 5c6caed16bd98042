// The fused BatchNorm + activation op against the unfused one (the closed-form
// batchNormTraining, then tf.elu / tf.relu, differentiated by tfjs) on the
// current backend: the unit tests run it on cpu, the bench page's `fused` job
// on webgpu. Not used by training.
import * as tf from '@tensorflow/tfjs';
import { batchNormTraining, normVariables, type Norm } from './closed-form';
import { batchNormActTraining, type BnActivation } from './fused';
import { randomValues, relativeError } from '../testing';

export interface BnActCase {
  /** Channels last, e.g. [3, 5, 7, 6]. */
  shape: number[];
  activation: BnActivation;
  /** γ not trainable (the fast preset's BatchNorms): no γ gradient asked for. */
  frozenGamma: boolean;
  /** A channel whose values are all equal (variance 0), or none. */
  constantChannel?: number;
  seed: number;
  epsilon?: number;
  momentum?: number;
}

export const BN_ACT_QUANTITIES = ['forward', 'movingMean', 'movingVariance', 'dx', 'dGamma', 'dBeta'] as const;
export type BnActQuantity = (typeof BN_ACT_QUANTITIES)[number];

export interface BnActPass {
  y: tf.Tensor;
  movingMean: tf.Tensor;
  movingVariance: tf.Tensor;
  /** Gradients of Σ y·dy with respect to x, β, and γ unless frozen, in that order. */
  grads: tf.Tensor[];
}

/**
 * One BatchNorm layer (fresh weights from the case's seed) and its inputs;
 * `pass(fused)` runs one training-mode forward and backward through it and
 * updates its running averages.
 */
export function bnActFixture(c: BnActCase): { pass(fused: boolean): BnActPass; dispose(): void } {
  const channels = c.shape[c.shape.length - 1] as number;
  const size = c.shape.reduce((a, b) => a * b, 1);
  const epsilon = c.epsilon ?? 1e-3;
  const momentum = c.momentum ?? 0.8;
  const xs = randomValues(size, c.seed).map((v, i) => (i % channels === c.constantChannel ? 0.7 : 2 * v + 0.3 * (i % channels)));
  const r = (k: number) => randomValues(channels, c.seed + k);
  const x = tf.tensor(xs, c.shape);
  const dy = tf.tensor(randomValues(size, c.seed + 1), c.shape);
  const layer = tf.layers.batchNormalization({ epsilon, momentum }) as Norm;
  layer.apply(tf.input({ shape: c.shape.slice(1) }));
  const weights = [
    tf.tensor(r(2).map((v) => 1.5 * v)),
    tf.tensor(r(3).map((v) => 0.5 * v)),
    tf.tensor(r(4).map((v) => 0.1 * v)),
    tf.tensor(r(5).map((v) => 1 + 0.5 * Math.abs(v))),
  ];
  layer.setWeights(weights);
  tf.dispose(weights);
  const vars = normVariables(layer, c.shape.length);
  if (!vars?.gamma || !vars.beta) throw new Error('the BatchNorm layer has no γ or β');
  const { gamma, beta } = vars;
  if (c.frozenGamma) gamma.trainable = false;
  const act = (t: tf.Tensor) => (c.activation === 'elu' ? tf.elu(t) : c.activation === 'relu' ? tf.relu(t) : t);
  return {
    pass(fused) {
      const f = () =>
        fused
          ? batchNormActTraining(x, { ...vars, gamma, beta }, { epsilon, momentum, activation: c.activation })
          : act(batchNormTraining(layer, x, vars));
      const wrt = [x, beta.read(), ...(c.frozenGamma ? [] : [gamma.read()])];
      const { value, grads } = tf.engine().gradients(f, wrt, dy);
      return { y: value, movingMean: vars.movingMean.read(), movingVariance: vars.movingVariance.read(), grads };
    },
    dispose() {
      tf.dispose([x, dy]);
      layer.dispose();
    },
  };
}

/**
 * The fused op's error against the unfused one, per quantity (max abs error /
 * max abs reference). `reference` runs the unfused side, e.g. on the stock
 * kernels.
 */
export async function compareBnAct(
  c: BnActCase,
  reference: <T>(run: () => Promise<T>) => Promise<T> = (run) => run(),
): Promise<Record<BnActQuantity, number>> {
  const values = async (fused: boolean) => {
    const fixture = bnActFixture(c);
    const p = fixture.pass(fused);
    const read = (t: tf.Tensor) => t.data() as Promise<Float32Array>;
    const [y, movingMean, movingVariance, dx, dBeta, dGamma] = await Promise.all(
      [p.y, p.movingMean, p.movingVariance, ...p.grads].map(read),
    );
    tf.dispose([p.y, ...p.grads]);
    fixture.dispose();
    return { forward: y, movingMean, movingVariance, dx, dBeta, dGamma };
  };
  const ours = await values(true);
  const unfused = await reference(() => values(false));
  const error = (q: BnActQuantity) => {
    const a = ours[q];
    const b = unfused[q];
    if (a === undefined || b === undefined) return q === 'dGamma' && c.frozenGamma ? 0 : NaN;
    return relativeError(a, b);
  };
  return Object.fromEntries(BN_ACT_QUANTITIES.map((q) => [q, error(q)])) as Record<BnActQuantity, number>;
}
