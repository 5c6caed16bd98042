import { IDBFactory } from 'fake-indexeddb';
import { afterEach, describe, expect, it } from 'vitest';
import { StorageError } from '../errors';
import { DEFAULT_SETTINGS } from '../run/settings';
import { CHECKPOINT_FORMAT, deleteCheckpoint, loadCheckpoint, loadCheckpointMeta, saveCheckpoint, type Checkpoint } from './checkpoints';
import { STORES, asStorageError, openDatabase } from './db';

const open: IDBDatabase[] = [];
/** A fresh, empty database per test: a new factory shares nothing with the others. */
async function freshDb(): Promise<IDBDatabase> {
  const db = await openDatabase(new IDBFactory());
  open.push(db);
  return db;
}
afterEach(() => {
  for (const db of open.splice(0)) db.close();
});

const floats = (...values: number[]) => Float32Array.from(values).buffer;

/** A checkpoint after `epoch` epochs whose weights all hold the value `epoch`, so a mixed pair would show. */
function checkpoint(epoch: number): Checkpoint {
  const settings = { ...DEFAULT_SETTINGS, preset: 'tiny' as const, epochs: 5, seed: 7 };
  const epochs = Array.from({ length: epoch }, (_, i) => ({
    epoch: i + 1,
    trainLoss: 2 - i / 10,
    trainAccuracy: 0.1 * (i + 1),
    valLoss: 2.1 - i / 10,
    valAccuracy: 0.1 * (i + 1),
    seconds: 1,
    imagesPerSecond: 500,
    best: true,
  }));
  const steps = Array.from({ length: epoch * 2 }, (_, i) => ({
    step: 4 * (i + 1),
    epoch: Math.floor(i / 2) + 1,
    batchInEpoch: 4 * ((i % 2) + 1),
    batchesPerEpoch: 8,
    loss: 2,
    accuracy: 0.2,
    imagesPerSecond: 500,
  }));
  return {
    meta: {
      format: CHECKPOINT_FORMAT,
      savedAt: 1_700_000_000_000 + epoch,
      settings,
      config: { preset: 'tiny', color: 'rgb', seed: 7 },
      epoch,
      step: epoch * 8,
      optimizerStep: epoch * 8,
      stopped: false,
      epochs,
      steps,
      memory: epochs.map(() => ({ numTensors: 40, numBytes: 1000 })),
    },
    tensors: {
      format: CHECKPOINT_FORMAT,
      epoch,
      weights: [
        { name: 'conv1/kernel', shape: [2, 2], dtype: 'float32', data: floats(epoch, epoch, epoch, epoch) },
        { name: 'conv1/bias', shape: [2], dtype: 'float32', data: floats(epoch, epoch) },
      ],
      optimizer: [{ name: 'iter', shape: [], dtype: 'int32', data: Int32Array.of(epoch * 8).buffer }],
      bestWeights: null,
    },
  };
}

describe('checkpoint store', () => {
  it('is empty at first, then gives back exactly what was saved', async () => {
    const db = await freshDb();
    expect(await loadCheckpoint(db)).toBeNull();
    expect(await loadCheckpointMeta(db)).toBeNull();
    const saved = checkpoint(2);
    await saveCheckpoint(db, saved);
    const loaded = await loadCheckpoint(db);
    expect(loaded?.meta).toEqual(saved.meta);
    expect(loaded?.tensors.epoch).toBe(2);
    expect(Array.from(new Float32Array(loaded?.tensors.weights[0]?.data as ArrayBuffer))).toEqual([2, 2, 2, 2]);
    expect(Array.from(new Int32Array(loaded?.tensors.optimizer[0]?.data as ArrayBuffer))).toEqual([16]);
    expect(await loadCheckpointMeta(db)).toEqual(saved.meta);
  });

  it('a later save replaces the earlier one; delete removes both records', async () => {
    const db = await freshDb();
    await saveCheckpoint(db, checkpoint(1));
    await saveCheckpoint(db, checkpoint(2));
    expect((await loadCheckpoint(db))?.meta.epoch).toBe(2);
    await deleteCheckpoint(db);
    expect(await loadCheckpoint(db)).toBeNull();
  });

  it('an interrupted save (the weights cannot be written after the meta was) keeps the previous checkpoint whole', async () => {
    const db = await freshDb();
    await saveCheckpoint(db, checkpoint(1));
    const broken = checkpoint(2);
    // A value IndexedDB cannot store: the tensors' put throws after the meta's put was issued.
    (broken.tensors.weights[0] as unknown as { data: unknown }).data = () => 'not cloneable';
    await expect(saveCheckpoint(db, broken)).rejects.toBeInstanceOf(StorageError);
    const after = await loadCheckpoint(db);
    expect(after?.meta.epoch).toBe(1);
    expect(after?.meta.steps).toHaveLength(2);
    expect(Array.from(new Float32Array(after?.tensors.weights[1]?.data as ArrayBuffer))).toEqual([1, 1]);
  });

  it('a transaction aborted before it commits (a crash mid-save) leaves the previous checkpoint', async () => {
    const db = await freshDb();
    await saveCheckpoint(db, checkpoint(1));
    // What saveCheckpoint does, with the "crash" between the two writes and the commit.
    const next = checkpoint(2);
    const tx = db.transaction(STORES.checkpoint, 'readwrite');
    tx.objectStore(STORES.checkpoint).put(next.meta, 'meta');
    tx.objectStore(STORES.checkpoint).put(next.tensors, 'tensors');
    tx.abort();
    await new Promise((resolve) => (tx.onabort = resolve));
    expect((await loadCheckpoint(db))?.meta.epoch).toBe(1);
  });

  it('refuses a mismatched pair, a damaged record, and a save whose parts disagree', async () => {
    const db = await freshDb();
    await expect(saveCheckpoint(db, { meta: checkpoint(2).meta, tensors: checkpoint(1).tensors })).rejects.toThrow(RangeError);

    // Written behind the store's back, as a bug or another version might.
    const write = async (key: string, value: unknown) => {
      const tx = db.transaction(STORES.checkpoint, 'readwrite');
      tx.objectStore(STORES.checkpoint).put(value, key);
      await new Promise((resolve) => (tx.oncomplete = resolve));
    };
    await write('meta', checkpoint(2).meta);
    await write('tensors', checkpoint(1).tensors);
    await expect(loadCheckpoint(db)).rejects.toMatchObject({ code: 'checkpoint-invalid' });

    await write('tensors', { ...checkpoint(2).tensors, weights: [{ name: 'w', shape: [3], dtype: 'float32', data: floats(1) }] });
    await expect(loadCheckpoint(db)).rejects.toMatchObject({ code: 'checkpoint-invalid' });

    await write('meta', { ...checkpoint(2).meta, format: 99 });
    await expect(loadCheckpointMeta(db)).rejects.toMatchObject({ code: 'checkpoint-invalid' });

    const tx = db.transaction(STORES.checkpoint, 'readwrite');
    tx.objectStore(STORES.checkpoint).delete('tensors');
    await new Promise((resolve) => (tx.oncomplete = resolve));
    await write('meta', checkpoint(2).meta);
    await expect(loadCheckpoint(db)).rejects.toMatchObject({ code: 'checkpoint-invalid' });
  });

  it('says storage is unavailable when there is no IndexedDB', async () => {
    await expect(openDatabase(undefined)).rejects.toMatchObject({ name: 'StorageError', code: 'storage-unavailable' });
  });

  it('says so in words when the disk is full', () => {
    const full = asStorageError(new DOMException('quota', 'QuotaExceededError'), 'save a checkpoint');
    expect(full).toBeInstanceOf(StorageError);
    expect(full.code).toBe('storage-unavailable');
    expect(full.message).toBe("The browser's storage for this site is full, so it could not save a checkpoint.");
  });
});
