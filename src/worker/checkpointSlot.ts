/**
 * The one checkpoint slot, from the worker's side: what the page is told at
 * start-up, the run to resume (checked all the way before anything trains),
 * and the save after every epoch, written in the background.
 *
 * Its failures never stop training: they are reported as 'storage' or
 * 'model-error' messages, never as the run's 'error'.
 */
import * as tf from '@tensorflow/tfjs';
import { StorageError, toErrorData } from '../errors';
import { validateModelConfig, type ModelConfig } from '../model/config';
import { buildModel, modelClasses, setModelWeights } from '../model/model';
import {
  deleteCheckpoint,
  loadCheckpoint,
  loadCheckpointMeta,
  saveCheckpoint,
  type Checkpoint,
  type SavedTensor,
} from '../store/checkpoints';
import type { LoopState } from '../train/loop';
import type { BatchMetrics, MemoryInfo } from '../run/records';
import { parseSettings, toModelConfig, type Settings } from '../run/settings';
import type { FromWorker } from './protocol';

type Post = (message: FromWorker, transfer?: Transferable[]) => void;

/** What a run has reported so far, beyond its epochs: what the page's curves are drawn from. */
export interface RunHistory {
  steps: BatchMetrics[];
  /** Tensor memory after each epoch, parallel to the epochs. */
  memory: MemoryInfo[];
}

export class CheckpointSlot {
  private db: IDBDatabase | null = null;
  /** False without storage, and once a save failed (full disk): training goes on without. */
  private on = false;
  private saving: Promise<void> = Promise.resolve();

  constructor(private readonly post: Post) {}

  /** Storage is open (or null: there is none); tells the page whether a run waits to be resumed. */
  async attach(db: IDBDatabase | null): Promise<void> {
    this.db = db;
    this.on = db !== null;
    if (!db) {
      this.post({ type: 'checkpoint-found', checkpoint: null });
      return;
    }
    try {
      const meta = await loadCheckpointMeta(db);
      this.post({
        type: 'checkpoint-found',
        checkpoint: meta && { epoch: meta.epoch, step: meta.step, savedAt: meta.savedAt, settings: meta.settings, stopped: meta.stopped },
      });
    } catch (error) {
      // A checkpoint from another version or damaged: useless, so it goes, and the page says why.
      console.warn('Discarding an unusable checkpoint', error);
      await deleteCheckpoint(db).catch(() => {});
      this.post({ type: 'checkpoint-found', checkpoint: null });
      this.post({ type: 'model-error', action: 'checkpoint', error: toErrorData(error) });
    }
  }

  /** The user chose to start over. */
  async discard(): Promise<void> {
    await this.clear();
    this.post({ type: 'checkpoint-found', checkpoint: null });
  }

  /** Nothing to resume any more: a new run starts over, or the run completed. */
  async clear(): Promise<void> {
    if (this.db) await deleteCheckpoint(this.db).catch((error: unknown) => console.warn('Could not delete the checkpoint', error));
  }

  /**
   * The checkpoint to resume, checked all the way (settings, and weights that
   * fit the model those settings build) so that the run cannot fail on it
   * later. An unusable one is deleted and reported; then null.
   */
  async loadForResume(): Promise<{ checkpoint: Checkpoint; settings: Settings } | null> {
    try {
      if (!this.db) throw new StorageError('storage-unavailable', 'Checkpoints are off in this browser, so there is nothing to resume.');
      const checkpoint = await loadCheckpoint(this.db);
      if (!checkpoint) throw new StorageError('checkpoint-invalid', 'There is no saved run to resume.');
      let settings: Settings;
      let config: ModelConfig;
      try {
        settings = parseSettings(checkpoint.meta.settings as unknown as Record<string, string | number | boolean>);
        config = validateModelConfig(checkpoint.meta.config);
      } catch {
        throw new StorageError('checkpoint-invalid', 'The saved run has settings this version does not accept.');
      }
      // The stored config, not one made from the settings: it holds the class count of the run's data set.
      const probe = buildModel(config);
      try {
        checkShapes(probe, checkpoint.tensors.weights);
      } finally {
        probe.dispose();
      }
      return { checkpoint, settings };
    } catch (error) {
      if (this.db) await deleteCheckpoint(this.db).catch(() => {});
      this.post({ type: 'checkpoint-found', checkpoint: null });
      this.post({ type: 'model-error', action: 'checkpoint', error: toErrorData(error) });
      return null;
    }
  }

  /** Reads the state now, before the next step changes it; the write itself runs in the background. */
  async save(settings: Settings, state: LoopState, model: tf.LayersModel, history: RunHistory): Promise<void> {
    const db = this.db;
    if (!db || !this.on) return;
    const checkpoint = await toCheckpoint(settings, state, model, history);
    this.saving = this.saving
      .then(() => (this.on ? saveCheckpoint(db, checkpoint) : undefined))
      .then(
        () => {
          if (!this.on) return;
          const { epoch, step, optimizerStep } = checkpoint.meta;
          this.post({ type: 'checkpoint-saved', epoch, step, optimizerStep });
        },
        (error: unknown) => {
          this.on = false;
          this.post({ type: 'storage', checkpoints: false, error: toErrorData(error) });
        },
      );
  }

  /** Resolves once every save started so far has been written (or has failed and been reported). */
  flushed(): Promise<void> {
    return this.saving;
  }
}

/**
 * Puts a checkpoint's weights into a freshly built model and returns where
 * the loop continues, with the tensors made for it (the caller disposes them
 * once the run ends).
 */
export function restoreCheckpoint(model: tf.LayersModel, checkpoint: Checkpoint): { state: LoopState; tensors: tf.Tensor[] } {
  const { meta, tensors } = checkpoint;
  checkShapes(model, tensors.weights);
  const weights = tensors.weights.map(toTensor);
  setModelWeights(model, weights);
  tf.dispose(weights);
  const optimizerWeights = tensors.optimizer.map((t) => ({ name: t.name, tensor: toTensor(t) }));
  const bestWeights = tensors.bestWeights ? tensors.bestWeights.map(toTensor) : null;
  return {
    state: { epochs: meta.epochs, step: meta.step, optimizerWeights, bestWeights, stopped: meta.stopped },
    tensors: [...optimizerWeights.map((w) => w.tensor), ...(bestWeights ?? [])],
  };
}

/** Reads the loop state and the model's weights into plain bytes: the checkpoint as stored. */
async function toCheckpoint(settings: Settings, state: LoopState, model: tf.LayersModel, history: RunHistory): Promise<Checkpoint> {
  const names = model.weights.map((w) => w.originalName);
  const weights = await Promise.all(model.getWeights().map((t, i) => fromTensor(names[i] ?? `w${i}`, t)));
  const optimizer = await Promise.all(state.optimizerWeights.map((w) => fromTensor(w.name, w.tensor)));
  const bestWeights = state.bestWeights ? await Promise.all(state.bestWeights.map((t, i) => fromTensor(names[i] ?? `w${i}`, t))) : null;
  const iterations = optimizer[0] ? (new Int32Array(optimizer[0].data)[0] ?? 0) : 0;
  const epoch = state.epochs.length;
  return {
    meta: {
      format: 1,
      savedAt: Date.now(),
      settings,
      config: toModelConfig(settings, modelClasses(model)),
      epoch,
      step: state.step,
      optimizerStep: iterations,
      stopped: state.stopped,
      epochs: state.epochs,
      steps: [...history.steps],
      memory: history.memory.slice(0, epoch),
    },
    tensors: { format: 1, epoch, weights, optimizer, bestWeights },
  };
}

async function fromTensor(name: string, tensor: tf.Tensor): Promise<SavedTensor> {
  if (tensor.dtype !== 'float32' && tensor.dtype !== 'int32') throw new RangeError(`Cannot checkpoint a ${tensor.dtype} tensor (${name})`);
  const values = await tensor.data();
  // A copy of exactly this tensor's bytes (data() may return a view of a larger buffer).
  const data = values.slice().buffer as ArrayBuffer;
  return { name, shape: [...tensor.shape], dtype: tensor.dtype, data };
}

function toTensor(saved: SavedTensor): tf.Tensor {
  const values = saved.dtype === 'int32' ? new Int32Array(saved.data) : new Float32Array(saved.data);
  return tf.tensor(values, saved.shape, saved.dtype);
}

function checkShapes(model: tf.LayersModel, saved: SavedTensor[]): void {
  const expected = model.weights.map((w) => w.shape);
  const same = expected.length === saved.length && expected.every((shape, i) => shape.join() === saved[i]?.shape.join());
  if (!same) throw new StorageError('checkpoint-invalid', 'The saved model weights do not fit the model these settings build.');
}
