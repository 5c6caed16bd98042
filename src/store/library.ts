/**
 * The model library: every finished run and every imported model, kept in
 * IndexedDB until the user deletes it. The list (small records) and the
 * weights live in separate stores so listing never reads megabytes; both are
 * written and deleted in one transaction.
 */
import type { ModelArtifactsData, ModelMetadata } from '../model/modelFiles';
import type { RunRecord } from '../train/records';
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
}

export interface LibraryData {
  id: string;
  artifacts: ModelArtifactsData;
}

export function saveModel(db: IDBDatabase, entry: LibraryEntry, artifacts: ModelArtifactsData): Promise<void> {
  return writeAtomically(db, [STORES.models, STORES.modelData], 'save the model to the library', (tx) => {
    tx.objectStore(STORES.models).put(entry);
    tx.objectStore(STORES.modelData).put({ id: entry.id, artifacts } satisfies LibraryData);
  });
}

/** Newest first. */
export async function listModels(db: IDBDatabase): Promise<LibraryEntry[]> {
  const tx = db.transaction(STORES.models, 'readonly');
  const all = (await requestResult(tx.objectStore(STORES.models).getAll())) as LibraryEntry[];
  return all.sort((a, b) => b.savedAt - a.savedAt);
}

/** The entry and its weights, or null when it was deleted meanwhile. */
export async function loadModel(db: IDBDatabase, id: string): Promise<{ entry: LibraryEntry; artifacts: ModelArtifactsData } | null> {
  const tx = db.transaction([STORES.models, STORES.modelData], 'readonly');
  const [entry, data] = await Promise.all([
    requestResult(tx.objectStore(STORES.models).get(id)) as Promise<LibraryEntry | undefined>,
    requestResult(tx.objectStore(STORES.modelData).get(id)) as Promise<LibraryData | undefined>,
  ]);
  return entry && data ? { entry, artifacts: data.artifacts } : null;
}

export function deleteModel(db: IDBDatabase, id: string): Promise<void> {
  return writeAtomically(db, [STORES.models, STORES.modelData], 'delete the model', (tx) => {
    tx.objectStore(STORES.models).delete(id);
    tx.objectStore(STORES.modelData).delete(id);
  });
}
