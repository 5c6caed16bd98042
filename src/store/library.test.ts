import { IDBFactory } from 'fake-indexeddb';
import { afterEach, describe, expect, it } from 'vitest';
import type { ModelMetadata } from '../model/modelFiles';
import { STORES, openDatabase, requestResult } from './db';
import { deleteModel, listModels, loadModel, saveModel, type LibraryEntry } from './library';

const open: IDBDatabase[] = [];
afterEach(() => {
  for (const db of open.splice(0)) db.close();
});
async function freshDb(): Promise<IDBDatabase> {
  const db = await openDatabase(new IDBFactory());
  open.push(db);
  return db;
}

const metadata: ModelMetadata = {
  version: 1,
  preset: 'tiny',
  color: 'gray',
  classes: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'],
  mean: [125, 123, 114],
  std: [63, 62, 66],
  testAccuracy: 0.42,
  epochs: 3,
};

const entry = (id: string, savedAt: number): LibraryEntry => ({ id, savedAt, source: 'trained', name: `model ${id}`, params: 4, metadata });
const artifacts = (value: number) => ({
  modelTopology: { class_name: 'Sequential', config: { layers: [] } },
  weightSpecs: [{ name: 'dense/kernel', shape: [4], dtype: 'float32' as const }],
  weightData: Float32Array.of(value, value, value, value).buffer,
});

describe('model library store', () => {
  it('lists saved models newest first, without their weights, and opens one with its weights', async () => {
    const db = await freshDb();
    expect(await listModels(db)).toEqual([]);
    await saveModel(db, entry('old', 1000), artifacts(1));
    await saveModel(db, entry('new', 2000), artifacts(2));
    const list = await listModels(db);
    expect(list.map((e) => e.id)).toEqual(['new', 'old']);
    expect(list[0]).toEqual(entry('new', 2000));
    expect(JSON.stringify(list)).not.toContain('weightData');
    const opened = await loadModel(db, 'old');
    expect(opened?.entry.metadata).toEqual(metadata);
    expect(Array.from(new Float32Array(opened?.artifacts.weightData as ArrayBuffer))).toEqual([1, 1, 1, 1]);
    expect(await loadModel(db, 'missing')).toBeNull();
  });

  it('deletes the entry and its weights together', async () => {
    const db = await freshDb();
    await saveModel(db, entry('a', 1), artifacts(1));
    await deleteModel(db, 'a');
    expect(await listModels(db)).toEqual([]);
    const tx = db.transaction(STORES.modelData, 'readonly');
    expect(await requestResult(tx.objectStore(STORES.modelData).count())).toBe(0);
  });

  it('a failed save stores neither the entry nor the weights', async () => {
    const db = await freshDb();
    const bad = { ...artifacts(1), weightData: (() => 0) as unknown as ArrayBuffer };
    await expect(saveModel(db, entry('x', 1), bad)).rejects.toMatchObject({ code: 'storage-unavailable' });
    expect(await listModels(db)).toEqual([]);
  });

  it('keeps a continuation with the weights, and a returning run replaces its earlier copy in the same transaction', async () => {
    const db = await freshDb();
    await saveModel(db, entry('tab', 1), artifacts(1));
    await saveModel(db, entry('keep', 2), artifacts(2));
    const continuation = { optimizer: Float32Array.of(0.5, 0.25).buffer, steps: [] };
    await saveModel(db, entry('back', 3), artifacts(3), continuation, 'tab');
    expect((await listModels(db)).map((e) => e.id)).toEqual(['back', 'keep']);
    expect(await loadModel(db, 'tab')).toBeNull();
    const back = await loadModel(db, 'back');
    expect(Array.from(new Float32Array(back?.continuation?.optimizer as ArrayBuffer))).toEqual([0.5, 0.25]);
    // A failed save deletes nothing either.
    const bad = { ...artifacts(4), weightData: (() => 0) as unknown as ArrayBuffer };
    await expect(saveModel(db, entry('worse', 4), bad, undefined, 'keep')).rejects.toMatchObject({ code: 'storage-unavailable' });
    expect((await listModels(db)).map((e) => e.id)).toEqual(['back', 'keep']);
  });
});
