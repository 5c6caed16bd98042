/**
 * The model library: every finished run and every imported model, kept in
 * IndexedDB until the user deletes it. The list (small records) and the
 * weights live in separate stores so listing never reads megabytes; both are
 * written and deleted in one transaction.
 */
import type { ModelArtifactsData, ModelMetadata } from '../model/modelFiles';
import type { BatchMetrics, RunRecord } from '../run/records';
import type { Continuation } from '../handover/history';
import { STORES, requestResult, writeAtomically } from './db';

export interface LibraryEntry {
  id: string;
  /** ms since 1970. */
  savedAt: number;
  source: 'trained' | 'imported';
  /** Shown in the list, e.g. "tiny · rgb · 3 epochs". */
  name: string;
  /** Parameters, BatchNorm statistics included. */
  params: number;
  metadata: ModelMetadata;
  /** The run that trained it, for comparing runs; absent for imports and for entries kept before runs were recorded. */
  run?: RunRecord;
  /** What "Continue elsewhere" needs beyond `run`; absent for plain imported models and entries kept before runs could move. */
  continuation?: Continuation;
}

/** The large part of a continuation, kept with the weights so that listing stays small. */
export interface ContinuationData {
  /** The weights at the run's last epoch, when the entry's own differ (best epoch restored, stopped mid-epoch). */
  artifacts?: ModelArtifactsData;
  /** The optimizer's slots as optimizer.weights.bin holds them; null when the continuation has no optimizer state. */
  optimizer: ArrayBuffer | null;
  /** The metric reports of the whole run, for run.json's curves. */
  steps: BatchMetrics[];
}

export interface LibraryData {
  id: string;
  artifacts: ModelArtifactsData;
  continuation?: ContinuationData;
}

/**
 * Saves an entry with its weights; `replaces` (an earlier copy of the same
 * run) is deleted in the same transaction, so either both happen or neither.
 */
export function saveModel(
  db: IDBDatabase,
  entry: LibraryEntry,
  artifacts: ModelArtifactsData,
  continuation?: ContinuationData,
  replaces?: string,
): Promise<void> {
  return writeAtomically(db, [STORES.models, STORES.modelData], 'save the model to the library', (tx) => {
    if (replaces !== undefined && replaces !== entry.id) {
      tx.objectStore(STORES.models).delete(replaces);
      tx.objectStore(STORES.modelData).delete(replaces);
    }
    tx.objectStore(STORES.models).put(entry);
    const data: LibraryData = continuation ? { id: entry.id, artifacts, continuation } : { id: entry.id, artifacts };
    tx.objectStore(STORES.modelData).put(data);
  });
}

/** Newest first. */
export async function listModels(db: IDBDatabase): Promise<LibraryEntry[]> {
  const tx = db.transaction(STORES.models, 'readonly');
  const all = (await requestResult(tx.objectStore(STORES.models).getAll())) as LibraryEntry[];
  return all.sort((a, b) => b.savedAt - a.savedAt);
}

/** The entry and its weights, or null when it was deleted meanwhile. */
export async function loadModel(
  db: IDBDatabase,
  id: string,
): Promise<{ entry: LibraryEntry; artifacts: ModelArtifactsData; continuation?: ContinuationData } | null> {
  const tx = db.transaction([STORES.models, STORES.modelData], 'readonly');
  const [entry, data] = await Promise.all([
    requestResult(tx.objectStore(STORES.models).get(id)) as Promise<LibraryEntry | undefined>,
    requestResult(tx.objectStore(STORES.modelData).get(id)) as Promise<LibraryData | undefined>,
  ]);
  if (!entry || !data) return null;
  return data.continuation ? { entry, artifacts: data.artifacts, continuation: data.continuation } : { entry, artifacts: data.artifacts };
}

export function deleteModel(db: IDBDatabase, id: string): Promise<void> {
  return writeAtomically(db, [STORES.models, STORES.modelData], 'delete the model', (tx) => {
    tx.objectStore(STORES.models).delete(id);
    tx.objectStore(STORES.modelData).delete(id);
  });
}
