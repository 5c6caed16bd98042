/**
 * Data parallelism on the CPU: R workers each train a replica of the model on
 * 1/R of every batch, average their gradients (and the batch's metrics)
 * through shared memory, and all apply the same optimizer step, so the
 * replicas stay identical without sending weights around. Every kernel of the
 * step then runs on all cores, also those tfjs-backend-wasm runs on one
 * thread whatever its pool (reductions, elementwise ops, Adam, our JavaScript
 * kernels), which is why this scales better than more WASM threads
 * (README, "WASM").
 *
 * What differs from one worker training the whole batch: BatchNorm normalises
 * each replica's share with that share's own statistics ("ghost" batch norm,
 * as PyTorch's DistributedDataParallel does without SyncBatchNorm), and each
 * replica updates its running averages from its share during the epoch. At
 * the end of every epoch those are averaged over the replicas and the mean
 * set in every one (averageReplicaValues): a running mean is linear in the
 * batch means, so with equal shares the mean of the replicas' running means
 * is the whole batches' running mean; the running variance becomes the mean
 * of the halves' variances, short of the spread between the halves' means.
 *
 * The memory every replica shares, one SharedArrayBuffer:
 *   Int32 × 4   control: barrier generation, arrivals, failure flag, unused
 *   Float32     R slots of `values` (each replica's gradients, then its 2 metrics)
 *   Float32     their mean, each replica averaging its 1/R of the values
 *   Float32     the whole batch's pixels (B × 32 × 32 × 3), written by replica 0
 *   Int32       the whole batch's labels (B)
 */
import type { LayersModel, Optimizer } from '@tensorflow/tfjs';
import { PIXELS_PER_IMAGE } from '../data/format';
import type { ChannelStats } from '../data/preprocess';
import { AppError } from '../errors';
import type { Settings } from '../run/settings';

export const CONTROL_INTS = 4;
/** Loss and accuracy of the replica's share, after its gradients in its slot. */
export const METRIC_VALUES = 2;
/**
 * How long a replica waits for the others before it gives up. A safety net
 * for a worker that died without a word (the browser killed it); a replica
 * that fails with an error raises the failure flag and the others stop at
 * once. Unit: ms.
 */
export const REPLICA_WAIT_LIMIT_MS = 10 * 60_000;
/** Between two looks at the failure flag while waiting. Unit: ms. */
const WAIT_SLICE_MS = 250;
/**
 * The most one wait slice adds to a replica's silence. A slice returns after
 * about WAIT_SLICE_MS unless the waiting thread itself was suspended (a
 * laptop asleep for an hour must not end the run on waking). Generous for a
 * busy machine's late wake-ups. Unit: ms.
 */
const SUSPENDED_SLICE_MS = 5_000;

/** Where replica `index` of `count` meets the others. */
export interface ReplicaLink {
  index: number;
  count: number;
  shared: SharedArrayBuffer;
  /** Trainable values of the model: the gradient each replica contributes. */
  params: number;
  /** Images of the whole step, split evenly: replica i trains on rows i·B/R … (i+1)·B/R − 1. */
  batchSize: number;
}

export class ReplicaError extends AppError {
  override readonly name = 'ReplicaError';
  constructor(message: string) {
    super('training-failed', message);
  }
}

function slotValues(params: number): number {
  return params + METRIC_VALUES;
}

/** Bytes of the shared buffer for `count` replicas of a model with `params` trainable values, training batches of `batchSize`. */
export function sharedBytes(count: number, params: number, batchSize: number): number {
  return 4 * (CONTROL_INTS + (count + 1) * slotValues(params) + batchSize * PIXELS_PER_IMAGE + batchSize);
}

/** The images per replica; throws when the batch does not split evenly. */
export function shareOf(batchSize: number, count: number): number {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`A replica count must be a whole number ≥ 1, got ${count}`);
  if (batchSize % count !== 0) throw new RangeError(`A batch of ${batchSize} images does not split evenly across ${count} workers`);
  return batchSize / count;
}

/** Views of the shared buffer. */
export function sharedViews(link: ReplicaLink) {
  const slots = link.count * slotValues(link.params);
  const meanAt = 4 * (CONTROL_INTS + slots);
  const pixelsAt = meanAt + 4 * slotValues(link.params);
  const labelsAt = pixelsAt + 4 * link.batchSize * PIXELS_PER_IMAGE;
  if (link.shared.byteLength !== labelsAt + 4 * link.batchSize) {
    throw new RangeError(`The shared buffer holds ${link.shared.byteLength} bytes; this link needs ${labelsAt + 4 * link.batchSize}`);
  }
  return {
    control: new Int32Array(link.shared, 0, CONTROL_INTS),
    slots: new Float32Array(link.shared, 4 * CONTROL_INTS, slots),
    mean: new Float32Array(link.shared, meanAt, slotValues(link.params)),
    /** The whole batch, as replica 0 fills it before every step. */
    x: new Float32Array(link.shared, pixelsAt, link.batchSize * PIXELS_PER_IMAGE),
    y: new Int32Array(link.shared, labelsAt, link.batchSize),
  };
}

/** Copies this replica's rows of the shared batch into its own step buffers. */
export function takeShare(link: ReplicaLink, x: Float32Array, y: Int32Array): void {
  const share = shareOf(link.batchSize, link.count);
  const views = sharedViews(link);
  const first = link.index * share;
  x.set(views.x.subarray(first * PIXELS_PER_IMAGE, (first + share) * PIXELS_PER_IMAGE));
  y.set(views.y.subarray(first, first + share));
}

/**
 * Puts a whole batch where this worker's step reads it: `fill` writes it
 * into the shared buffer and this replica takes its rows, or, training
 * alone (no link), `fill` writes straight into the step's own buffers.
 */
export function loadBatch(
  link: ReplicaLink | null,
  step: { x: Float32Array; y: Int32Array },
  fill: (x: Float32Array, y: Int32Array) => void,
): void {
  if (!link) return fill(step.x, step.y);
  const shared = sharedViews(link);
  fill(shared.x, shared.y);
  takeShare(link, step.x, step.y);
}

/** The training step's options for this replica (its share of the batch, its link); none when training alone. */
export function stepShare(link: ReplicaLink | null): { batchSize: number; replica: ReplicaLink } | Record<string, never> {
  return link ? { batchSize: shareOf(link.batchSize, link.count), replica: link } : {};
}

/** Tells every replica waiting at a barrier to give up (a replica failed, or the run is over). */
export function raiseFailure(shared: SharedArrayBuffer): void {
  const control = new Int32Array(shared, 0, CONTROL_INTS);
  Atomics.store(control, 2, 1);
  Atomics.notify(control, 0);
}

/**
 * Blocks until all `count` replicas have arrived (Atomics.wait: allowed in
 * workers, never on a page's main thread). Throws when a replica raised the
 * failure flag, or after `limitMs` of waiting, as measured by `now`.
 */
export function barrier(
  control: Int32Array,
  count: number,
  now: () => number = () => performance.now(),
  limitMs = REPLICA_WAIT_LIMIT_MS,
): void {
  const failed = () => new ReplicaError('Another training worker failed; this run cannot continue.');
  if (Atomics.load(control, 2) !== 0) throw failed();
  const generation = Atomics.load(control, 0);
  if (Atomics.add(control, 1, 1) === count - 1) {
    Atomics.store(control, 1, 0);
    Atomics.add(control, 0, 1);
    Atomics.notify(control, 0);
    return;
  }
  let waited = 0;
  let last = now();
  while (Atomics.load(control, 0) === generation) {
    if (Atomics.load(control, 2) !== 0) throw failed();
    if (waited > limitMs) {
      throw new ReplicaError(
        `A training worker did not answer for ${Math.round(limitMs / 1000)} s; it may have been stopped by the browser.`,
      );
    }
    Atomics.wait(control, 0, generation, WAIT_SLICE_MS);
    const t = now();
    // A slice that ends far later than it asked means this thread was not running either (the laptop slept,
    // the process was stopped): the others were frozen too, and that time is nobody's silence.
    waited += Math.min(t - last, SUSPENDED_SLICE_MS);
    last = t;
  }
}

/**
 * The element-wise mean of `count` slots of `length` values over [from, to),
 * into `mean`: summed in slot order, so that the floats do not depend on
 * which replica computes them.
 */
export function meanOfSlots(slots: Float32Array, count: number, length: number, mean: Float32Array, from = 0, to = length): void {
  mean.fill(0, from, to);
  for (let r = 0; r < count; r++) {
    const base = r * length;
    for (let i = from; i < to; i++) mean[i] = (mean[i] as number) + (slots[base + i] as number);
  }
  for (let i = from; i < to; i++) mean[i] = (mean[i] as number) / count;
}

/** The part of `length` values replica `index` of `count` averages: [from, to). */
export function meanShare(length: number, index: number, count: number): [number, number] {
  const per = Math.ceil(length / count);
  return [Math.min(length, index * per), Math.min(length, (index + 1) * per)];
}

/**
 * One step's gradients and metrics averaged over all replicas: `fill`
 * writes this replica's values into its slot; once all have, each averages
 * its 1/R of them into the shared mean, and once all have, every replica
 * reads the same mean. Called by every replica once per step with the same
 * layout; the view returned is valid until this replica's next call.
 */
export function allReduceMean(link: ReplicaLink, fill: (slot: Float32Array) => void, now?: () => number): Float32Array {
  const length = slotValues(link.params);
  const { control, slots, mean } = sharedViews(link);
  fill(slots.subarray(link.index * length, (link.index + 1) * length));
  barrier(control, link.count, now);
  const [from, to] = meanShare(length, link.index, link.count);
  meanOfSlots(slots, link.count, length, mean, from, to);
  // Nobody reads the mean until all of it is there. Nobody writes the next step's values (or batch) before
  // everyone has passed this barrier: each replica's next write comes after its own read of this mean.
  barrier(control, link.count, now);
  return mean;
}

/** What the other replicas need to start as copies of the first. */
export interface ReplicaStart {
  model: LayersModel;
  /** Its weights (moments, iteration count) go along: a resumed run's replicas continue where it was. */
  optimizer: Optimizer;
  settings: Settings;
  stats: ChannelStats;
  /** Steps of the whole run, for the optimizer's schedule. */
  totalSteps: number;
}

/**
 * The replicas other than the first, as the first one (in the caller's
 * worker) drives them. One use at a time: a run, or one preset's timing.
 */
export interface ReplicaGroup {
  /** Workers training together, the caller's included. */
  readonly count: number;
  /** Starts the other replicas' workers if they are not running; throws when they cannot start. */
  prepare(): Promise<void>;
  /** Copies the model and optimizer into the other replicas; resolves with the first replica's link once they are ready. */
  start(from: ReplicaStart): Promise<ReplicaLink>;
  /** The other replicas start step `step` on their rows of the batch now in the shared buffer (call before the first replica's own step). */
  step(step: number): void;
  /**
   * At the end of an epoch, before `model` is evaluated or saved: sets every
   * replica's non-trainable weights (BatchNorm's running statistics), `model`'s
   * included, to their mean over the replicas (averageReplicaValues), then
   * throws a ReplicaError unless every replica's weights, all of them, equal
   * `model`'s bit for bit.
   */
  sync(model: LayersModel): Promise<void>;
  /** Ends this use; the other replicas let go of their models. */
  end(): Promise<void>;
}

/**
 * A 53-bit hash of the weights' float32 bit patterns, in order: replicas that
 * train as one agree on it exactly, and a difference in any bit (a sign of
 * zero included) or in the order changes it, which a sum would not show.
 * (cyrb53, over 32-bit words instead of characters.)
 */
export function weightsChecksum(weights: { read(): { dataSync(): ArrayLike<number> } }[]): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (const w of weights) {
    const values = Float32Array.from(w.read().dataSync());
    const bits = new Uint32Array(values.buffer);
    for (let i = 0; i < bits.length; i++) {
      const word = bits[i] as number;
      h1 = Math.imul(h1 ^ word, 2654435761);
      h2 = Math.imul(h2 ^ word, 1597334677);
    }
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** One weight's values in one replica, as averageReplicaValues takes them. */
export interface ReplicaValues {
  /** The variable's originalName: the same in every replica, whatever suffix tfjs gave `name`. */
  name: string;
  shape: number[];
  values: Float32Array | Int32Array;
}

/**
 * The element-wise mean over the replicas of each weight: `replicas[r]` holds
 * replica r's weights, all in the same order. Summed in float64 in replica
 * order (0 first) and rounded to float32 once, so the result does not depend
 * on who computes it and every replica can be given the same bits. Throws a
 * ReplicaError when the replicas' weights do not pair up (names, shapes,
 * float32).
 */
export function averageReplicaValues(replicas: readonly (readonly ReplicaValues[])[]): Float32Array[] {
  const first = replicas[0];
  if (!first) throw new RangeError('No replicas to average');
  for (const [r, weights] of replicas.entries()) {
    if (weights.length !== first.length) {
      throw new ReplicaError(`Replica ${r} has ${weights.length} weights to average; replica 0 has ${first.length}.`);
    }
    weights.forEach((w, i) => {
      const own = first[i] as ReplicaValues;
      if (w.name !== own.name || w.shape.join() !== own.shape.join() || w.values.length !== own.values.length) {
        throw new ReplicaError(
          `Replica ${r}'s weight ${i} is ${w.name} [${w.shape.join(', ')}]; replica 0's is ${own.name} [${own.shape.join(', ')}].`,
        );
      }
      if (!(w.values instanceof Float32Array))
        throw new ReplicaError(`Replica ${r}'s ${w.name} is not float32: only float32 weights are averaged.`);
    });
  }
  return first.map((own, i) => {
    const sum = new Float64Array(own.values.length);
    for (const weights of replicas) {
      const values = (weights[i] as ReplicaValues).values;
      for (let j = 0; j < sum.length; j++) sum[j] = (sum[j] as number) + (values[j] as number);
    }
    const mean = new Float32Array(sum.length);
    for (let j = 0; j < sum.length; j++) mean[j] = (sum[j] as number) / replicas.length;
    return mean;
  });
}
