/**
 * The app's one IndexedDB database: checkpoints of the run in progress, the
 * model library and the kernel plans timed on this device. Opened in the
 * training worker (weights live there); the factory is a parameter so tests
 * run on `fake-indexeddb`.
 */
import { systemClock, type Clock } from '../clock';
import { StorageError } from '../errors';

export const DB_NAME = 'cifar10-in-a-tab';
/** Bump with an upgrade step in `openDatabase` when stores change. */
export const DB_VERSION = 2;

/** Object stores. `checkpoint` holds two records, 'meta' and 'tensors', always written together. */
export const STORES = Object.freeze({
  checkpoint: 'checkpoint',
  /** One small record per saved model (what the library lists), keyed by `id`. */
  models: 'models',
  /** The topology and weights of each saved model, same `id`: read only to open or export one. */
  modelData: 'model-data',
  /** Since version 2: the convolution formulations timed on this device, keyed by device and shape (kernelPlans.ts). */
  kernelPlans: 'kernel-plans',
});

/** How long to wait for a database that another tab holds open at an older version. Unit: ms. */
const BLOCKED_TIMEOUT_MS = 5000;

export interface OpenOptions {
  name?: string;
  /** DB_VERSION; a test asks for a later one to play a newer build of the app against a tab of an older one. */
  version?: number;
  /** What the blocked-open wait is timed by; the system clock by default. */
  clock?: Clock;
}

/**
 * Opens (and creates or upgrades) the database. A slow open is waited for as
 * long as it takes; only an open that is blocked (another tab holds the
 * database at an older version and does not let go) gives up, after
 * BLOCKED_TIMEOUT_MS. A connection that arrives after giving up is closed at
 * once, so it cannot block the next open in its turn.
 */
export function openDatabase(factory: IDBFactory | undefined = globalThis.indexedDB, options: OpenOptions = {}): Promise<IDBDatabase> {
  const { name = DB_NAME, version = DB_VERSION, clock = systemClock } = options;
  if (!factory)
    return Promise.reject(
      new StorageError('storage-unavailable', 'This browser offers no IndexedDB storage here (private mode or disabled site data).'),
    );
  return new Promise((resolve, reject) => {
    let request: IDBOpenDBRequest;
    try {
      request = factory.open(name, version);
    } catch (error) {
      reject(asStorageError(error, 'open the database'));
      return;
    }
    let gaveUp = false;
    let cancelTimer: (() => void) | undefined;
    request.onblocked = () => {
      cancelTimer ??= clock.after(BLOCKED_TIMEOUT_MS, () => {
        gaveUp = true;
        reject(
          new StorageError(
            'storage-unavailable',
            'The database is held by another tab of this app with an older version; close it and reload.',
          ),
        );
      });
    };
    request.onupgradeneeded = () => {
      const db = request.result;
      if (!db.objectStoreNames.contains(STORES.checkpoint)) db.createObjectStore(STORES.checkpoint);
      if (!db.objectStoreNames.contains(STORES.models)) db.createObjectStore(STORES.models, { keyPath: 'id' });
      if (!db.objectStoreNames.contains(STORES.modelData)) db.createObjectStore(STORES.modelData, { keyPath: 'id' });
      if (!db.objectStoreNames.contains(STORES.kernelPlans)) db.createObjectStore(STORES.kernelPlans);
    };
    request.onsuccess = () => {
      cancelTimer?.();
      const db = request.result;
      if (gaveUp) {
        db.close();
        return;
      }
      // Another tab upgrading the schema: step aside instead of blocking it.
      db.onversionchange = () => db.close();
      resolve(db);
    };
    request.onerror = () => {
      cancelTimer?.();
      reject(asStorageError(request.error, 'open the database'));
    };
  });
}

/** Resolves with the request's result once it succeeds. */
export function requestResult<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/** Resolves when the transaction has committed (durably written); rejects if it aborted. */
export function committed(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error ?? new DOMException('The transaction was aborted', 'AbortError'));
    tx.onerror = (event) => event.preventDefault(); // the abort handler reports it
  });
}

/**
 * Runs `write` in ONE readwrite transaction over `stores`: all its requests
 * commit together or none does. An exception thrown by `write` (e.g. a value
 * that cannot be stored) aborts the transaction, so nothing of it is kept.
 */
export async function writeAtomically(db: IDBDatabase, stores: string[], what: string, write: (tx: IDBTransaction) => void): Promise<void> {
  let tx: IDBTransaction;
  try {
    tx = db.transaction(stores, 'readwrite');
  } catch (error) {
    throw asStorageError(error, what);
  }
  const done = committed(tx);
  try {
    write(tx);
  } catch (error) {
    try {
      tx.abort();
    } catch {
      // Already finished: nothing to undo.
    }
    await done.catch(() => {});
    throw asStorageError(error, what);
  }
  await done.catch((error: unknown) => {
    throw asStorageError(error, what);
  });
}

/** IndexedDB's DOMExceptions in words; a full disk is said as such. */
export function asStorageError(error: unknown, what: string): StorageError {
  if (error instanceof StorageError) return error;
  const name = error instanceof DOMException || error instanceof Error ? error.name : '';
  const detail = error instanceof Error || error instanceof DOMException ? error.message : String(error);
  if (name === 'QuotaExceededError')
    return new StorageError('storage-unavailable', `The browser's storage for this site is full, so it could not ${what}.`, error);
  return new StorageError('storage-unavailable', `Could not ${what}: ${detail || name || 'unknown storage error'}.`, error);
}
