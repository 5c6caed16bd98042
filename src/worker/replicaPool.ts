/**
 * The trainer worker's side of data parallelism on WASM: the replica workers
 * it owns (replica.worker.ts), started once with the backend and reused by
 * every run and every preset timing. See src/train/replicas.ts for how the
 * replicas train as one.
 */
import * as tf from '@tensorflow/tfjs';
import { AppError } from '../errors';
import { modelClasses } from '../model/model';
import {
  ReplicaError,
  averageReplicaValues,
  raiseFailure,
  sharedBytes,
  weightsChecksum,
  type ReplicaGroup,
  type ReplicaLink,
  type ReplicaStart,
} from '../train/replicas';
import type { FromReplica, ToReplica, WeightValues } from './protocol';
import { frozenWeights, valuesOf, variableValues, writeWeights } from './weightValues';

/** One replica worker and the requests it has yet to answer, oldest first. */
class Helper {
  private readonly worker = new Worker(new URL('./replica.worker.ts', import.meta.url), { type: 'module', name: 'replica' });
  private readonly pending: { resolve: (m: FromReplica) => void; reject: (e: Error) => void }[] = [];
  /** Set once the worker cannot be used any more. */
  broken: Error | null = null;

  constructor() {
    this.worker.onmessage = (event: MessageEvent<FromReplica>) => {
      const message = event.data;
      if (message.type === 'failed') {
        const error = new AppError(message.error.code, message.error.message);
        const waiting = this.pending.shift();
        // A failed step has no request waiting: the replica raised the shared failure flag, and the trainer hears it there.
        if (waiting) waiting.reject(error);
        else console.error('A replica worker failed:', message.error.message);
        return;
      }
      this.pending.shift()?.resolve(message);
    };
    this.worker.onerror = (event) =>
      this.fail(new ReplicaError(`A training worker could not run: ${event.message || 'it failed to load'}.`));
  }

  request<T extends FromReplica['type']>(message: ToReplica, expected: T): Promise<Extract<FromReplica, { type: T }>> {
    if (this.broken) return Promise.reject(this.broken);
    return new Promise((resolve, reject) => {
      this.pending.push({
        resolve: (reply) =>
          reply.type === expected
            ? resolve(reply as Extract<FromReplica, { type: T }>)
            : reject(new Error(`A replica answered ${reply.type} to ${message.type}`)),
        reject,
      });
      this.worker.postMessage(message);
    });
  }

  send(message: ToReplica): void {
    this.worker.postMessage(message);
  }

  fail(error: Error): void {
    this.broken ??= error;
    for (const p of this.pending.splice(0)) p.reject(error);
  }

  terminate(): void {
    this.fail(new ReplicaError('The training worker was stopped.'));
    this.worker.terminate();
  }
}

export class ReplicaPool implements ReplicaGroup {
  private helpers: Helper[] | null = null;
  private link: ReplicaLink | null = null;

  constructor(
    /** Workers training together, this one included. */
    readonly count: number,
    /** WASM threads of each replica worker. */
    private readonly threads: number,
  ) {
    if (!Number.isInteger(count) || count < 2) throw new RangeError(`A replica pool needs at least 2 workers, got ${count}`);
  }

  async prepare(): Promise<void> {
    await this.ready();
  }

  async start({ model, optimizer, settings, stats, totalSteps }: ReplicaStart): Promise<ReplicaLink> {
    if (this.link) throw new Error('The replica workers are already training');
    const helpers = await this.ready();
    const params = model.trainableWeights.reduce((sum, w) => sum + w.read().size, 0);
    const { batchSize } = settings;
    const shared = new SharedArrayBuffer(sharedBytes(this.count, params, batchSize));
    const first: ReplicaLink = { index: 0, count: this.count, shared, params, batchSize };
    const weights = await variableValues(model.weights);
    const state = await optimizer.getWeights();
    let optimizerWeights: WeightValues[];
    try {
      optimizerWeights = await valuesOf(state);
    } finally {
      // getWeights() returns the optimizer's own variables plus a fresh scalar with its iteration count: only that one is ours.
      tf.dispose(state.filter((w) => !(w.tensor instanceof tf.Variable)).map((w) => w.tensor));
    }
    this.link = first;
    try {
      await Promise.all(
        helpers.map((h, i) =>
          h.request(
            {
              type: 'start',
              link: { ...first, index: i + 1 },
              settings,
              classes: modelClasses(model),
              stats,
              totalSteps,
              weights,
              optimizerWeights,
            },
            'ready',
          ),
        ),
      );
    } catch (error) {
      await this.end();
      throw error;
    }
    return first;
  }

  step(step: number): void {
    if (!this.helpers || !this.link) throw new Error('The replica workers have not started');
    for (const h of this.helpers) h.send({ type: 'step', step });
  }

  async sync(model: tf.LayersModel): Promise<void> {
    if (!this.helpers || !this.link) throw new Error('The replica workers have not started');
    const helpers = this.helpers;
    const frozen = frozenWeights(model);
    const mine = await variableValues(frozen);
    const theirs = await Promise.all(helpers.map((h) => h.request({ type: 'read-statistics' }, 'statistics')));
    // Replica 0's first, then the others in index order: the order averageReplicaValues sums in.
    const means = averageReplicaValues([mine, ...theirs.map((t) => t.weights)]);
    const weights: WeightValues[] = mine.map((w, i) => ({ ...w, dtype: 'float32', values: means[i] as Float32Array }));
    writeWeights(frozen, weights);
    await Promise.all(helpers.map((h) => h.request({ type: 'write-statistics', weights }, 'statistics-written')));
    const sum = weightsChecksum(model.weights);
    const sums = await Promise.all(helpers.map((h) => h.request({ type: 'checksum' }, 'checksum')));
    if (sums.some((s) => s.sum !== sum)) {
      throw new ReplicaError(
        `The training workers' models drifted apart (weight checksums ${[sum, ...sums.map((s) => s.sum)].join(', ')}); the run cannot continue.`,
      );
    }
  }

  /** Never throws: a worker that does not end cleanly is stopped, and a new one started next time. */
  async end(): Promise<void> {
    const link = this.link;
    this.link = null;
    if (!link || !this.helpers) return;
    // A replica still waiting for this one at a barrier (this one failed mid-step) gives up.
    raiseFailure(link.shared);
    const helpers = this.helpers;
    const ended = await Promise.allSettled(helpers.map((h) => h.request({ type: 'end' }, 'ended')));
    if (ended.some((r) => r.status === 'rejected')) this.dispose();
  }

  dispose(): void {
    for (const h of this.helpers ?? []) h.terminate();
    this.helpers = null;
    this.link = null;
  }

  /** The replica workers, started on first use (each starts its own WASM backend). */
  private async ready(): Promise<Helper[]> {
    if (this.helpers?.every((h) => !h.broken)) return this.helpers;
    this.dispose();
    const helpers = Array.from({ length: this.count - 1 }, () => new Helper());
    this.helpers = helpers;
    try {
      await Promise.all(helpers.map((h) => h.request({ type: 'init', threads: this.threads }, 'ready')));
    } catch (error) {
      this.dispose();
      throw error;
    }
    return helpers;
  }
}
