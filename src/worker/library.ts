/**
 * The model library from the worker's side: list, open and delete entries,
 * and keep a model (a finished run or an import) as the classifier's and in
 * the library. Failures are reported as 'model-error' and change nothing.
 */
import { StorageError, toErrorData } from '../errors';
import type { Classifier, ClassifierInfo } from '../classify/classifier';
import type { ModelArtifactsData, ModelMetadata } from '../model/modelFiles';
import { modelFromArtifacts } from '../model/modelIO';
import { deleteModel, listModels, loadModel, saveModel, type ContinuationData, type LibraryEntry } from '../store/library';
import type { FromWorker } from './protocol';

type Post = (message: FromWorker, transfer?: Transferable[]) => void;

export class Library {
  private db: IDBDatabase | null = null;

  constructor(
    private readonly post: Post,
    private readonly classifier: Classifier,
  ) {}

  /** Storage is open (or null: there is none); sends the list. */
  async attach(db: IDBDatabase | null): Promise<void> {
    this.db = db;
    if (db) await this.announce();
    else this.post({ type: 'library', models: [] });
  }

  /** The entry and its weights; throws a StorageError when there is no library or the entry is gone. */
  async load(id: string): Promise<{ entry: LibraryEntry; artifacts: ModelArtifactsData; continuation?: ContinuationData }> {
    if (!this.db) throw new StorageError('storage-unavailable', 'The model library is not available in this browser.');
    const found = await loadModel(this.db, id);
    if (!found) throw new StorageError('storage-unavailable', 'That model is no longer in the library.');
    return found;
  }

  async open(id: string): Promise<void> {
    try {
      const { entry, artifacts } = await this.load(id);
      const model = await modelFromArtifacts(artifacts);
      const { metadata } = entry;
      const info: ClassifierInfo = { source: 'library', name: entry.name, color: metadata.color, classes: metadata.classes, libraryId: id };
      this.classifier.adopt(model, metadata, info);
      this.post({ type: 'classifier', info });
    } catch (error) {
      this.post({ type: 'model-error', action: 'open', error: toErrorData(error) });
    }
  }

  async delete(id: string): Promise<void> {
    try {
      if (!this.db) throw new StorageError('storage-unavailable', 'The model library is not available in this browser.');
      await deleteModel(this.db, id);
      await this.announce();
      // A deleted entry stays usable for as long as it is loaded; it is just no longer saved.
      const info = this.classifier.info;
      if (info?.libraryId === id) {
        const relabelled = { ...info, libraryId: null };
        this.classifier.relabel(relabelled);
        this.post({ type: 'classifier', info: relabelled });
      }
    } catch (error) {
      this.post({ type: 'model-error', action: 'delete', error: toErrorData(error) });
    }
  }

  /** Every entry, for matching a returning run with its earlier copy; empty without storage. */
  async entries(): Promise<LibraryEntry[]> {
    return this.db ? listModels(this.db) : [];
  }

  /**
   * A model becomes the classifier's and goes into the library (when there is
   * storage), with what a later hand-over needs; `replaces`, an earlier copy of
   * the same run, leaves the library in the same transaction.
   */
  async keep(
    artifacts: ModelArtifactsData,
    metadata: ModelMetadata,
    entry: LibraryEntry,
    continuation?: ContinuationData,
    replaces?: string,
  ): Promise<void> {
    const model = await modelFromArtifacts(artifacts);
    const info: ClassifierInfo = {
      source: entry.source,
      name: entry.name,
      color: metadata.color,
      classes: metadata.classes,
      libraryId: null,
    };
    this.classifier.adopt(model, metadata, info);
    if (this.db) {
      try {
        await saveModel(this.db, entry, artifacts, continuation, replaces);
        info.libraryId = entry.id;
        await this.announce();
      } catch (error) {
        this.post({ type: 'model-error', action: 'save', error: toErrorData(error) });
      }
    }
    this.post({ type: 'classifier', info: { ...info } });
  }

  private async announce(): Promise<void> {
    if (!this.db) return;
    try {
      this.post({ type: 'library', models: await listModels(this.db) });
    } catch (error) {
      this.post({ type: 'model-error', action: 'open', error: toErrorData(error) });
    }
  }
}

/** A new library record for `artifacts`. */
export function libraryEntry(
  source: LibraryEntry['source'],
  name: string,
  metadata: ModelMetadata,
  artifacts: ModelArtifactsData,
): LibraryEntry {
  const params = artifacts.weightSpecs.reduce((sum, s) => sum + s.shape.reduce((a, b) => a * b, 1), 0);
  return { id: crypto.randomUUID(), savedAt: Date.now(), source, name, params, metadata };
}
