import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock';
import { DB_NAME, STORES, openDatabase, requestResult } from './db';
import { idbPlanCache } from './kernelPlans';

describe('idbPlanCache', () => {
  it('keeps a choice across connections, as a later visit would find it', async () => {
    const factory = new IDBFactory();
    const clock = new ManualClock();
    const first = await openDatabase(factory, { clock });
    await idbPlanCache(first).put('v1|webgpu|gpu|filterGrad|64×32×32×16→32', {
      method: 'taps',
      timings: { taps: 1.5, stock: 4 },
      via: 'wall',
    });
    first.close();
    const second = await openDatabase(factory, { clock });
    expect(await idbPlanCache(second).get('v1|webgpu|gpu|filterGrad|64×32×32×16→32')).toEqual({
      method: 'taps',
      timings: { taps: 1.5, stock: 4 },
      via: 'wall',
    });
    expect(await idbPlanCache(second).get('v1|webgpu|another gpu|filterGrad|64×32×32×16→32')).toBeUndefined();
    second.close();
  });

  it('treats a damaged record as missing', async () => {
    const db = await openDatabase(new IDBFactory(), { clock: new ManualClock() });
    const tx = db.transaction(STORES.kernelPlans, 'readwrite');
    tx.objectStore(STORES.kernelPlans).put({ method: 'taps', timings: { taps: 'fast' }, via: 'wall' }, 'k');
    await requestResult(tx.objectStore(STORES.kernelPlans).get('k'));
    expect(await idbPlanCache(db).get('k')).toBeUndefined();
    db.close();
  });

  it('a database of version 1 gains the store and keeps its models', async () => {
    const factory = new IDBFactory();
    const old = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = factory.open(DB_NAME, 1);
      request.onupgradeneeded = () => {
        request.result.createObjectStore(STORES.checkpoint);
        request.result.createObjectStore(STORES.models, { keyPath: 'id' });
        request.result.createObjectStore(STORES.modelData, { keyPath: 'id' });
        request.transaction?.objectStore(STORES.models).put({ id: 'm1', name: 'kept' });
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    old.close();
    const db = await openDatabase(factory, { clock: new ManualClock() });
    expect([...db.objectStoreNames]).toContain(STORES.kernelPlans);
    const model = await requestResult(db.transaction(STORES.models).objectStore(STORES.models).get('m1'));
    expect(model).toEqual({ id: 'm1', name: 'kept' });
    db.close();
  });
});
