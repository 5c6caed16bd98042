/**
 * The loss and accuracy of each step stay on the device until they are read:
 * every read makes the CPU wait for the GPU, so the loop reads every few
 * steps, all waiting steps in one download.
 */
import * as tf from '@tensorflow/tfjs';
import { AppError } from '../errors';
import type { RunControl } from './control';
import type { BatchMetrics } from '../run/records';

/**
 * Steps between reads of loss/accuracy from the GPU. Each read makes the
 * CPU wait until the GPU has caught up, which also keeps the GPU's command
 * queue short; more often costs speed, less often makes the charts jerky.
 */
export const READ_EVERY = 10; // steps
/**
 * …or sooner once this much run time has passed, so slow steps (the seed
 * preset on WASM takes seconds each) still move the curves within seconds.
 * Where a step is that slow, one extra sync per step costs nothing measurable.
 */
export const READ_AT_LEAST_EVERY_MS = 2000;

/** Whether the metrics waiting on the device are to be read now. Pure, so the cadence is tested without a clock. */
export function isReadDue(pendingSteps: number, msSinceLastRead: number, readEvery = READ_EVERY): boolean {
  return pendingSteps >= readEvery || (pendingSteps > 0 && msSinceLastRead >= READ_AT_LEAST_EVERY_MS);
}

/**
 * Per-step [loss, accuracy] tensors wait on the device until a read, which
 * stacks them into one download; the epoch's sums grow with every read.
 */
export class MetricReader {
  private pending: tf.Tensor1D[] = [];
  private lastRead = 0;
  private sums = { loss: 0, accuracy: 0, steps: 0 };

  constructor(
    private readonly control: RunControl,
    private readonly readEvery: number,
  ) {}

  startEpoch(): void {
    this.sums = { loss: 0, accuracy: 0, steps: 0 };
    this.lastRead = this.control.now();
  }

  push(metrics: tf.Tensor1D): void {
    this.pending.push(metrics);
  }

  due(): boolean {
    return isReadDue(this.pending.length, this.control.now() - this.lastRead, this.readEvery);
  }

  /** Means since the last read and the throughput; null when no step ran since. Throws when the loss diverged. */
  async read(step: number, batchSize: number): Promise<Pick<BatchMetrics, 'loss' | 'accuracy' | 'imagesPerSecond'> | null> {
    const count = this.pending.length;
    if (count === 0) return null;
    const stacked = tf.stack(this.pending);
    tf.dispose(this.pending);
    this.pending = [];
    const values = await stacked.data().finally(() => stacked.dispose());
    let loss = 0;
    let accuracy = 0;
    for (let i = 0; i < count; i++) {
      loss += values[2 * i] as number;
      accuracy += values[2 * i + 1] as number;
    }
    if (!Number.isFinite(loss)) {
      throw new AppError('training-failed', `The loss became ${loss} around step ${step}; try a lower learning rate.`);
    }
    this.sums = { loss: this.sums.loss + loss, accuracy: this.sums.accuracy + accuracy, steps: this.sums.steps + count };
    const now = this.control.now();
    const seconds = (now - this.lastRead) / 1000;
    this.lastRead = now;
    return { loss: loss / count, accuracy: accuracy / count, imagesPerSecond: (count * batchSize) / seconds };
  }

  epochMeans(): { loss: number; accuracy: number } {
    return { loss: this.sums.loss / this.sums.steps, accuracy: this.sums.accuracy / this.sums.steps };
  }

  dispose(): void {
    tf.dispose(this.pending);
    this.pending = [];
  }
}
