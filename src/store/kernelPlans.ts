/**
 * The kernel plans timed on this device (src/kernels/tuning/tune.ts), kept in
 * IndexedDB so a device is timed once, not on every visit. Keys name the
 * kernels' version, the backend, the adapter and the convolution's shape.
 */
import type { CachedChoice, PlanCache } from '../kernels/tuning/tune';
import { requestResult, STORES, writeAtomically } from './db';

export function idbPlanCache(db: IDBDatabase): PlanCache {
  return {
    async get(key) {
      const tx = db.transaction(STORES.kernelPlans, 'readonly');
      const value = (await requestResult(tx.objectStore(STORES.kernelPlans).get(key))) as unknown;
      return isCachedChoice(value) ? value : undefined;
    },
    put: (key, value) =>
      writeAtomically(db, [STORES.kernelPlans], 'save the kernel plan', (tx) => {
        tx.objectStore(STORES.kernelPlans).put(value, key);
      }),
  };
}

/** A record from an older or damaged store is treated as missing, so the shape is timed again. */
function isCachedChoice(value: unknown): value is CachedChoice {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.method === 'string' &&
    (v.via === 'timestamp' || v.via === 'wall') &&
    typeof v.timings === 'object' &&
    v.timings !== null &&
    Object.values(v.timings).every((t) => typeof t === 'number')
  );
}
