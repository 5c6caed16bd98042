/**
 * The checkpoint of the run in progress, saved after every epoch so that a
 * closed tab or a crash loses at most one epoch.
 *
 * Two records in one store: 'meta' (small: settings, epoch, curves — what the
 * page needs to offer "Resume from epoch N") and 'tensors' (weights and the
 * optimizer's state). Both are written in ONE readwrite transaction, which
 * IndexedDB commits entirely or not at all: a crash or a failed write during
 * a save leaves the previous checkpoint whole. Each record also carries the
 * epoch, so a mismatched pair is detected on load all the same.
 */
import { StorageError } from '../errors';
import type { ModelConfig } from '../model/config';
import type { BatchMetrics, EpochRecord, MemoryInfo } from '../run/records';
import type { Settings } from '../run/settings';
import { STORES, requestResult, writeAtomically } from './db';

export const CHECKPOINT_FORMAT = 1;

/** One tensor as stored: its values' bytes (little-endian, as typed arrays are on every browser) plus shape. */
export interface SavedTensor {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  data: ArrayBuffer;
}

export interface CheckpointMeta {
  format: typeof CHECKPOINT_FORMAT;
  /** ms since 1970. */
  savedAt: number;
  /** The whole run's settings, including `seed`, which fixes the data split, the shuffles and the augmentation. */
  settings: Settings;
  config: ModelConfig;
  /** Epochs completed; the run continues at epoch + 1. */
  epoch: number;
  /** Optimizer steps completed. */
  step: number;
  /** The optimizer's own iteration count (Adam's bias correction depends on it); equals `step`. */
  optimizerStep: number;
  /** True when early stopping had already ended training: resuming only evaluates. */
  stopped: boolean;
  /** The run's history, for the curves: every epoch and every metrics report so far. */
  epochs: EpochRecord[];
  steps: BatchMetrics[];
  /** Tensor memory after each epoch, parallel to `epochs`. */
  memory: MemoryInfo[];
}

export interface CheckpointTensors {
  format: typeof CHECKPOINT_FORMAT;
  /** Must equal the meta's epoch. */
  epoch: number;
  /** `model.getWeights()` in order, BatchNorm running statistics included. */
  weights: SavedTensor[];
  /** `optimizer.getWeights()` in order: the iteration count first, then the moment estimates. */
  optimizer: SavedTensor[];
  /** The best epoch's weights when they differ from `weights` (early stopping will restore them); else null. */
  bestWeights: SavedTensor[] | null;
}

export interface Checkpoint {
  meta: CheckpointMeta;
  tensors: CheckpointTensors;
}

const META = 'meta';
const TENSORS = 'tensors';

/** Replaces the checkpoint, atomically. Rejects with a StorageError (full disk, unavailable) and keeps the old one. */
export function saveCheckpoint(db: IDBDatabase, checkpoint: Checkpoint): Promise<void> {
  if (checkpoint.meta.epoch !== checkpoint.tensors.epoch) {
    return Promise.reject(new RangeError(`meta is for epoch ${checkpoint.meta.epoch} but tensors for ${checkpoint.tensors.epoch}`));
  }
  return writeAtomically(db, [STORES.checkpoint], 'save a checkpoint', (tx) => {
    const store = tx.objectStore(STORES.checkpoint);
    store.put(checkpoint.meta, META);
    store.put(checkpoint.tensors, TENSORS);
  });
}

/** The small part only, for offering "Resume"; null when there is no checkpoint. */
export async function loadCheckpointMeta(db: IDBDatabase): Promise<CheckpointMeta | null> {
  const tx = db.transaction(STORES.checkpoint, 'readonly');
  const meta = (await requestResult(tx.objectStore(STORES.checkpoint).get(META))) as unknown;
  if (meta === undefined) return null;
  return checkMeta(meta);
}

/** The whole checkpoint, read in one transaction (a consistent snapshot); null when there is none. */
export async function loadCheckpoint(db: IDBDatabase): Promise<Checkpoint | null> {
  const tx = db.transaction(STORES.checkpoint, 'readonly');
  const store = tx.objectStore(STORES.checkpoint);
  const [meta, tensors] = (await Promise.all([requestResult(store.get(META)), requestResult(store.get(TENSORS))])) as unknown[];
  if (meta === undefined && tensors === undefined) return null;
  if (meta === undefined || tensors === undefined) throw new StorageError('checkpoint-invalid', 'The saved checkpoint is incomplete.');
  const checkedMeta = checkMeta(meta);
  const checkedTensors = checkTensors(tensors);
  if (checkedMeta.epoch !== checkedTensors.epoch) {
    throw new StorageError(
      'checkpoint-invalid',
      `The saved checkpoint is inconsistent (epoch ${checkedMeta.epoch} vs ${checkedTensors.epoch}).`,
    );
  }
  return { meta: checkedMeta, tensors: checkedTensors };
}

export function deleteCheckpoint(db: IDBDatabase): Promise<void> {
  return writeAtomically(db, [STORES.checkpoint], 'delete the checkpoint', (tx) => {
    const store = tx.objectStore(STORES.checkpoint);
    store.delete(META);
    store.delete(TENSORS);
  });
}

function checkMeta(value: unknown): CheckpointMeta {
  const m = value as Partial<CheckpointMeta> | null;
  if (
    typeof m !== 'object' ||
    m === null ||
    m.format !== CHECKPOINT_FORMAT ||
    !Number.isInteger(m.epoch) ||
    !Number.isInteger(m.step) ||
    !Array.isArray(m.epochs) ||
    !Array.isArray(m.steps) ||
    typeof m.settings !== 'object' ||
    m.epochs.length !== m.epoch
  ) {
    throw new StorageError('checkpoint-invalid', 'The saved checkpoint is from another version of this app or damaged.');
  }
  return m as CheckpointMeta;
}

function checkTensors(value: unknown): CheckpointTensors {
  const t = value as Partial<CheckpointTensors> | null;
  const tensorList = (list: unknown) =>
    Array.isArray(list) &&
    list.every(
      (s: Partial<SavedTensor>) =>
        typeof s === 'object' &&
        s !== null &&
        s.data instanceof ArrayBuffer &&
        Array.isArray(s.shape) &&
        s.data.byteLength === 4 * s.shape.reduce((a, b) => a * b, 1),
    );
  if (
    typeof t !== 'object' ||
    t === null ||
    t.format !== CHECKPOINT_FORMAT ||
    !tensorList(t.weights) ||
    !tensorList(t.optimizer) ||
    !(t.bestWeights === null || tensorList(t.bestWeights))
  ) {
    throw new StorageError('checkpoint-invalid', 'The saved checkpoint is from another version of this app or damaged.');
  }
  return t as CheckpointTensors;
}
