/**
 * Data parallelism, as a benchmark prototype: R workers each train a replica
 * of the model on 1/R of every batch, then average their gradients through
 * shared memory and all apply the same Adam step, so the replicas stay
 * identical without sending weights around. Every kernel of the step runs in
 * parallel this way, also those tfjs runs on one thread (reductions,
 * transposes, BatchNorm, our JavaScript kernels) and its per-kernel overhead.
 *
 * Differences from one worker training the whole batch: BatchNorm normalises
 * with each replica's own statistics (batches of B/R, "ghost" batch norm, as
 * PyTorch's DistributedDataParallel does without SyncBatchNorm), and each
 * replica keeps its own running averages.
 */
import * as tf from '@tensorflow/tfjs';
import type { NamedTensorMap, Tensor } from '@tensorflow/tfjs';

/** A gradient by variable name, as tfjs's optimizers receive them. */
type NamedTensor = { name: string; tensor: Tensor };

/** Where replica `index` of `count` meets the others: a barrier and one gradient slot per replica. */
export interface ReplicaLink {
  index: number;
  count: number;
  /** Int32 [generation, arrived], then `count` slots of `params` float32 each. */
  shared: SharedArrayBuffer;
  params: number;
}

export const CONTROL_BYTES = 8;

export function sharedBytes(count: number, params: number): number {
  return CONTROL_BYTES + 4 * count * params;
}

/** Blocks until all `count` replicas arrive (Atomics.wait: allowed in workers). */
export function barrier(control: Int32Array, count: number): void {
  const generation = Atomics.load(control, 0);
  if (Atomics.add(control, 1, 1) === count - 1) {
    Atomics.store(control, 1, 0);
    Atomics.add(control, 0, 1);
    Atomics.notify(control, 0);
    return;
  }
  while (Atomics.load(control, 0) === generation) Atomics.wait(control, 0, generation);
}

/** The mean of every replica's gradients, in place of this replica's own; called by all replicas with the same variables in the same order. */
export function averageGradients(link: ReplicaLink, grads: NamedTensor[]): NamedTensor[] {
  const control = new Int32Array(link.shared, 0, 2);
  const slots = new Float32Array(link.shared, CONTROL_BYTES, link.count * link.params);
  const mine = link.index * link.params;
  let offset = 0;
  for (const { tensor } of grads) {
    slots.set(tensor.dataSync() as Float32Array, mine + offset);
    offset += tensor.size;
  }
  if (offset !== link.params) throw new Error(`The replica has ${offset} gradient values, the link expects ${link.params}`);
  barrier(control, link.count);
  const mean = new Float32Array(link.params);
  for (let r = 0; r < link.count; r++) {
    const slot = slots.subarray(r * link.params, (r + 1) * link.params);
    for (let i = 0; i < link.params; i++) mean[i] = (mean[i] as number) + (slot[i] as number);
  }
  for (let i = 0; i < link.params; i++) mean[i] = (mean[i] as number) / link.count;
  // Nobody writes the next step's gradients until everyone has read this step's.
  barrier(control, link.count);
  offset = 0;
  return grads.map(({ name, tensor }) => {
    const values = mean.subarray(offset, offset + tensor.size);
    offset += tensor.size;
    return { name, tensor: tf.tensor(values, tensor.shape, 'float32') };
  });
}

/** Adam whose every step first averages the gradients across the replicas. */
export class AllReduceAdam extends tf.AdamOptimizer {
  constructor(
    learningRate: number,
    private readonly link: ReplicaLink,
  ) {
    super(learningRate, 0.9, 0.999);
  }

  override applyGradients(variableGradients: NamedTensorMap | NamedTensor[]): void {
    if (!Array.isArray(variableGradients)) throw new Error('AllReduceAdam needs the variables in a list (minimize with a varList)');
    const averaged = averageGradients(this.link, variableGradients);
    try {
      super.applyGradients(averaged);
    } finally {
      tf.dispose(averaged.map((g) => g.tensor));
    }
  }
}
