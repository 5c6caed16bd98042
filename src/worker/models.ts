/**
 * Everything in the worker that keeps or uses a trained model besides the
 * training loop itself: checkpoints (save after every epoch, resume), the
 * classifier for the user's images, and the model library (save, list, open,
 * delete, export, import). trainer.worker.ts hands it the protocol messages.
 *
 * Its failures never stop training: they are reported as 'storage',
 * 'model-error' or per-image results, never as the run's 'error'.
 */
import * as tf from '@tensorflow/tfjs';
import { memory } from './run';
import { decodeToModelPixels } from '../classify/decode';
import { Classifier } from '../classify/classifier';
import { NUM_CLASSES, PIXELS_PER_IMAGE } from '../data/format';
import type { Dataset } from '../data/loader';
import { AppError, ModelFileError, StorageError, toErrorData } from '../errors';
import { validateModelConfig } from '../model/config';
import { buildModel } from '../model/model';
import {
  checkModelFileSizes,
  checkModelJson,
  fileStem,
  toModelFiles,
  type ModelArtifactsData,
  type ModelMetadata,
} from '../model/modelFiles';
import { captureArtifacts, modelFromArtifacts } from '../model/modelIO';
import {
  deleteCheckpoint,
  loadCheckpoint,
  loadCheckpointMeta,
  saveCheckpoint,
  type Checkpoint,
  type SavedTensor,
} from '../store/checkpoints';
import { openDatabase } from '../store/db';
import { deleteModel, listModels, loadModel, saveModel, type LibraryEntry } from '../store/library';
import type { BatchMetrics, LoopState } from '../train/loop';
import { parseSettings, toModelConfig, type Settings } from '../train/settings';
import type { ClassifierInfo, ClassifyFile, ClassifyResult, FromWorker, MemoryInfo } from './protocol';
import type { RunExtras } from './run';

type Post = (message: FromWorker, transfer?: Transferable[]) => void;

/** Images decoded and predicted together; one 'classified' message each. Small enough that results stream in. */
export const CLASSIFY_BATCH = 8;

export class ModelService {
  private db: IDBDatabase | null = null;
  /** False once saving a checkpoint failed (full disk): training goes on without. */
  private checkpointsOn = false;
  private readonly classifier = new Classifier();
  private readonly queue: ClassifyFile[] = [];
  private draining = false;

  constructor(
    private readonly post: Post,
    /** The loaded data set, for its statistics and class names; undefined while loading. */
    private readonly dataset: () => Dataset | undefined,
  ) {}

  // ---- storage -----------------------------------------------------------------------

  async openStorage(): Promise<void> {
    // A fresh worker (also after a restart) has no model yet.
    this.post({ type: 'classifier', info: this.classifier.info });
    try {
      this.db = await openDatabase();
      this.checkpointsOn = true;
    } catch (error) {
      this.post({ type: 'checkpoint-found', checkpoint: null });
      this.post({ type: 'storage', checkpoints: false, error: toErrorData(error) });
      this.post({ type: 'library', models: [] });
      return;
    }
    // The checkpoint first: once the page hears 'storage', it knows whether a run waits to be resumed.
    await this.announceCheckpoint();
    this.post({ type: 'storage', checkpoints: true });
    await this.announceLibrary();
  }

  private async announceCheckpoint(): Promise<void> {
    if (!this.db) return;
    try {
      const meta = await loadCheckpointMeta(this.db);
      this.post({
        type: 'checkpoint-found',
        checkpoint: meta && { epoch: meta.epoch, step: meta.step, savedAt: meta.savedAt, settings: meta.settings, stopped: meta.stopped },
      });
    } catch (error) {
      // A checkpoint from another version or damaged: useless, so it goes, and the page says why.
      console.warn('Discarding an unusable checkpoint', error);
      await deleteCheckpoint(this.db).catch(() => {});
      this.post({ type: 'checkpoint-found', checkpoint: null });
      this.post({ type: 'model-error', action: 'checkpoint', error: toErrorData(error) });
    }
  }

  private async announceLibrary(): Promise<void> {
    if (!this.db) return;
    try {
      this.post({ type: 'library', models: await listModels(this.db) });
    } catch (error) {
      this.post({ type: 'model-error', action: 'open', error: toErrorData(error) });
    }
  }

  async discardCheckpoint(): Promise<void> {
    if (this.db) await deleteCheckpoint(this.db).catch((error: unknown) => console.warn('Could not delete the checkpoint', error));
    this.post({ type: 'checkpoint-found', checkpoint: null });
  }

  /**
   * The checkpoint to resume, checked all the way (settings, and weights that
   * fit the model those settings build) so that the run cannot fail on it
   * later. An unusable one is deleted and reported; then null.
   */
  async loadCheckpointForResume(): Promise<{ checkpoint: Checkpoint; settings: Settings } | null> {
    try {
      if (!this.db) throw new StorageError('storage-unavailable', 'Checkpoints are off in this browser, so there is nothing to resume.');
      const checkpoint = await loadCheckpoint(this.db);
      if (!checkpoint) throw new StorageError('checkpoint-invalid', 'There is no saved run to resume.');
      let settings: Settings;
      try {
        settings = parseSettings(checkpoint.meta.settings as unknown as Record<string, string | number | boolean>);
        validateModelConfig(checkpoint.meta.config);
      } catch {
        throw new StorageError('checkpoint-invalid', 'The saved run has settings this version does not accept.');
      }
      const probe = buildModel(toModelConfig(settings));
      try {
        checkShapes(
          probe.weights.map((w) => w.shape),
          checkpoint.tensors.weights,
          'model',
        );
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

  // ---- training runs -------------------------------------------------------------------

  /**
   * What a run needs for checkpoints, the classifier and the library. A new
   * run (`restored` null) first removes the old checkpoint: starting over.
   * `post` is wrapped to record the history that checkpoints carry.
   */
  async runSession(settings: Settings, restored: Checkpoint | null): Promise<{ post: Post; extras: RunExtras }> {
    const db = this.db;
    if (!restored && db) await deleteCheckpoint(db).catch((error: unknown) => console.warn('Could not delete the old checkpoint', error));
    const config = toModelConfig(settings);
    const steps: BatchMetrics[] = restored ? [...restored.meta.steps] : [];
    const memory: MemoryInfo[] = restored ? [...restored.meta.memory] : [];
    let saving: Promise<void> = Promise.resolve();
    let restoredTensors: tf.Tensor[] = [];
    let trainedModel: tf.LayersModel | null = null;

    const post: Post = (message, transfer) => {
      if (message.type === 'batch-metrics') steps.push(...message.metrics);
      if (message.type === 'epoch-end') memory.push(message.memory);
      this.post(message, transfer);
    };

    const extras: RunExtras = {
      onModel: (model) => {
        trainedModel = model;
        const data = this.dataset();
        if (!data) return;
        const info: ClassifierInfo = {
          source: 'training',
          name: `${settings.preset} · ${settings.color} · training`,
          color: settings.color,
          classes: data.manifest.classes,
          libraryId: null,
        };
        this.classifier.follow(model, config, runMetadata(settings, data, null, restored?.meta.epoch ?? 0), info);
        this.post({ type: 'classifier', info });
      },

      onCheckpoint: async (state, model) => {
        if (!db || !this.checkpointsOn) return;
        // Read everything now, before the next step changes it; the write itself runs in the background.
        const checkpoint = await toCheckpoint(settings, state, model, steps, memory);
        saving = saving
          .then(() => (this.checkpointsOn ? saveCheckpoint(db, checkpoint) : undefined))
          .then(
            () => {
              if (this.checkpointsOn) {
                this.post({
                  type: 'checkpoint-saved',
                  epoch: checkpoint.meta.epoch,
                  step: checkpoint.meta.step,
                  optimizerStep: checkpoint.meta.optimizerStep,
                });
              }
            },
            (error: unknown) => {
              this.checkpointsOn = false;
              this.post({ type: 'storage', checkpoints: false, error: toErrorData(error) });
            },
          );
      },

      onFinished: async (model, result) => {
        await saving;
        // The run is complete: nothing to resume any more.
        if (db) await deleteCheckpoint(db).catch((error: unknown) => console.warn('Could not delete the checkpoint', error));
        const data = this.dataset();
        if (!data) return;
        try {
          const metadata = runMetadata(settings, data, result.test?.accuracy ?? null, result.epochs.length);
          const artifacts = await captureArtifacts(model);
          const entry = libraryEntry(
            'trained',
            `${settings.preset} · ${settings.color} · ${plural(result.epochs.length, 'epoch')}`,
            metadata,
            artifacts,
          );
          await this.keep(artifacts, metadata, entry, 'trained');
        } catch (error) {
          // The run itself succeeded; only keeping its model failed.
          this.post({ type: 'model-error', action: 'save', error: toErrorData(error) });
        }
      },

      onEnd: () => {
        if (trainedModel) this.classifier.unfollow(trainedModel);
        if (!this.classifier.info) this.post({ type: 'classifier', info: null });
        tf.dispose(restoredTensors);
        restoredTensors = [];
      },
    };

    if (restored) {
      extras.restore = (model) => {
        const { meta, tensors } = restored;
        checkShapes(
          model.weights.map((w) => w.shape),
          tensors.weights,
          'model',
        );
        const weights = tensors.weights.map(toTensor);
        model.setWeights(weights);
        tf.dispose(weights);
        const optimizerWeights = tensors.optimizer.map((t) => ({ name: t.name, tensor: toTensor(t) }));
        const bestWeights = tensors.bestWeights ? tensors.bestWeights.map(toTensor) : null;
        restoredTensors = [...optimizerWeights.map((w) => w.tensor), ...(bestWeights ?? [])];
        this.post({ type: 'run-restored', settings, steps: meta.steps, epochs: meta.epochs, memory: meta.memory });
        return { epochs: meta.epochs, step: meta.step, optimizerWeights, bestWeights, stopped: meta.stopped };
      };
    }
    return { post, extras };
  }

  /** A model becomes the classifier's and goes into the library (when there is storage). */
  private async keep(
    artifacts: ModelArtifactsData,
    metadata: ModelMetadata,
    entry: LibraryEntry,
    source: 'trained' | 'imported',
  ): Promise<void> {
    const model = await modelFromArtifacts(artifacts);
    const info: ClassifierInfo = { source, name: entry.name, color: metadata.color, classes: metadata.classes, libraryId: null };
    this.classifier.adopt(model, metadata, info);
    if (this.db) {
      try {
        await saveModel(this.db, entry, artifacts);
        info.libraryId = entry.id;
        await this.announceLibrary();
      } catch (error) {
        this.post({ type: 'model-error', action: 'save', error: toErrorData(error) });
      }
    }
    this.post({ type: 'classifier', info: { ...info } });
  }

  // ---- classification ----------------------------------------------------------------

  /** Queues files; a single loop decodes and predicts them in batches, so messages keep flowing meanwhile. */
  classify(files: ClassifyFile[]): void {
    this.queue.push(...files);
    if (!this.draining) void this.drain();
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, CLASSIFY_BATCH);
        const results = await this.classifyBatch(batch).catch((error: unknown) =>
          batch.map((f): ClassifyResult => ({ id: f.id, ok: false, error: toErrorData(error) })),
        );
        const transfer = results.flatMap((r) => (r.ok ? [r.pixels.buffer as ArrayBuffer] : []));
        this.post({ type: 'classified', results, memory: memory() }, transfer);
      }
    } finally {
      this.draining = false;
    }
  }

  private async classifyBatch(batch: ClassifyFile[]): Promise<ClassifyResult[]> {
    if (!this.classifier.info) {
      const error = toErrorData(new AppError('no-model', 'There is no trained model to classify with yet.'));
      return batch.map((f) => ({ id: f.id, ok: false, error }));
    }
    const decoded: { id: number; pixels: Uint8Array }[] = [];
    const results = new Map<number, ClassifyResult>();
    // One file at a time: each decode is at most DECODE_SIDE² pixels, and training steps run in between.
    for (const f of batch) {
      try {
        decoded.push({ id: f.id, pixels: (await decodeToModelPixels(f.file, f.name)).pixels });
      } catch (error) {
        results.set(f.id, { id: f.id, ok: false, error: toErrorData(error) });
      }
    }
    if (decoded.length > 0) {
      const all = new Uint8Array(decoded.length * PIXELS_PER_IMAGE);
      decoded.forEach((d, i) => all.set(d.pixels, i * PIXELS_PER_IMAGE));
      try {
        const probs = await this.classifier.predict(all, decoded.length);
        decoded.forEach((d, i) => {
          const p = Array.from(probs.subarray(i * NUM_CLASSES, (i + 1) * NUM_CLASSES));
          results.set(d.id, { id: d.id, ok: true, pixels: this.classifier.displayPixels(d.pixels), probs: p });
        });
      } catch (error) {
        for (const d of decoded) results.set(d.id, { id: d.id, ok: false, error: toErrorData(error) });
      }
    }
    return batch.map((f) => results.get(f.id) as ClassifyResult);
  }

  // ---- library -------------------------------------------------------------------------

  async openModel(id: string): Promise<void> {
    try {
      if (!this.db) throw new StorageError('storage-unavailable', 'The model library is not available in this browser.');
      const found = await loadModel(this.db, id);
      if (!found) throw new StorageError('storage-unavailable', 'That model is no longer in the library.');
      const { metadata } = found.entry;
      const model = await modelFromArtifacts(found.artifacts);
      const info: ClassifierInfo = {
        source: 'library',
        name: found.entry.name,
        color: metadata.color,
        classes: metadata.classes,
        libraryId: id,
      };
      this.classifier.adopt(model, metadata, info);
      this.post({ type: 'classifier', info });
    } catch (error) {
      this.post({ type: 'model-error', action: 'open', error: toErrorData(error) });
    }
  }

  async deleteModel(id: string): Promise<void> {
    try {
      if (!this.db) throw new StorageError('storage-unavailable', 'The model library is not available in this browser.');
      await deleteModel(this.db, id);
      await this.announceLibrary();
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

  async exportModel(id: string | null): Promise<void> {
    try {
      let artifacts: ModelArtifactsData;
      let metadata: ModelMetadata;
      let savedAt = Date.now();
      if (id === null) {
        const current = this.classifier.current();
        if (!current) throw new AppError('no-model', 'There is no model to export yet.');
        artifacts = await captureArtifacts(current.model);
        metadata = current.metadata;
      } else {
        if (!this.db) throw new StorageError('storage-unavailable', 'The model library is not available in this browser.');
        const found = await loadModel(this.db, id);
        if (!found) throw new StorageError('storage-unavailable', 'That model is no longer in the library.');
        artifacts = found.artifacts;
        metadata = found.entry.metadata;
        savedAt = found.entry.savedAt;
      }
      const files = toModelFiles(artifacts, metadata, fileStem(metadata, savedAt));
      this.post({ type: 'model-files', files }, [files.weights]);
    } catch (error) {
      this.post({ type: 'model-error', action: 'export', error: toErrorData(error) });
    }
  }

  /**
   * Everything about the files is checked before any tensor exists (sizes,
   * JSON, topology, byte counts); only then are the weights read and the
   * model built. A refusal changes nothing: the current model stays.
   */
  async importModel(files: { name: string; file: Blob }[]): Promise<void> {
    try {
      const json = files.filter((f) => /\.json$/i.test(f.name));
      const bin = files.filter((f) => !/\.json$/i.test(f.name));
      if (json.length !== 1 || bin.length !== 1) {
        throw new ModelFileError(
          `Choose exactly two files: the model's .json and its weights .bin (got ${files.map((f) => `"${f.name}"`).join(', ') || 'none'}).`,
        );
      }
      const [jsonFile, binFile] = [json[0], bin[0]] as [{ name: string; file: Blob }, { name: string; file: Blob }];
      checkModelFileSizes(jsonFile.file.size, binFile.file.size);
      const checked = checkModelJson(await jsonFile.file.text(), binFile.file.size);
      const weightData = await binFile.file.arrayBuffer();
      if (weightData.byteLength !== binFile.file.size) throw new ModelFileError('The weights file changed while it was being read.');
      let metadata = checked.metadata;
      if (!metadata) {
        // A model from elsewhere: it was trained on CIFAR-10, standardised with its statistics (we assume), in our class order.
        const data = this.dataset();
        if (!data)
          throw new AppError(
            'not-ready',
            'This model carries no CIFAR-10 statistics; wait until the data set has loaded, then import it again.',
          );
        metadata = {
          version: 1,
          preset: 'imported',
          color: checked.channels === 1 ? 'gray' : 'rgb',
          classes: data.manifest.classes,
          mean: data.manifest.mean,
          std: data.manifest.std,
          testAccuracy: null,
          epochs: 0,
        };
      }
      const artifacts: ModelArtifactsData = { modelTopology: checked.modelTopology, weightSpecs: checked.weightSpecs, weightData };
      const name = `${metadata.preset} · ${metadata.color} · imported from ${jsonFile.name}`;
      await this.keep(artifacts, metadata, libraryEntry('imported', name, metadata, artifacts), 'imported');
    } catch (error) {
      this.post({ type: 'model-error', action: 'import', error: toErrorData(error) });
    }
  }
}

/** What a run's model is, for the classifier, the library and model.json. */
function runMetadata(settings: Settings, data: Dataset, testAccuracy: number | null, epochs: number): ModelMetadata {
  const { classes, mean, std } = data.manifest;
  return { version: 1, preset: settings.preset, color: settings.color, classes, mean, std, testAccuracy, epochs };
}

function libraryEntry(source: LibraryEntry['source'], name: string, metadata: ModelMetadata, artifacts: ModelArtifactsData): LibraryEntry {
  const params = artifacts.weightSpecs.reduce((sum, s) => sum + s.shape.reduce((a, b) => a * b, 1), 0);
  return { id: crypto.randomUUID(), savedAt: Date.now(), source, name, params, metadata };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Reads the loop state and the model's weights into plain bytes: the checkpoint as stored. */
async function toCheckpoint(
  settings: Settings,
  state: LoopState,
  model: tf.LayersModel,
  steps: BatchMetrics[],
  memory: MemoryInfo[],
): Promise<Checkpoint> {
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
      config: toModelConfig(settings),
      epoch,
      step: state.step,
      optimizerStep: iterations,
      stopped: state.stopped,
      epochs: state.epochs,
      steps: [...steps],
      memory: memory.slice(0, epoch),
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

function checkShapes(expected: (number | null)[][], saved: SavedTensor[], what: string): void {
  const same = expected.length === saved.length && expected.every((shape, i) => shape.join() === saved[i]?.shape.join());
  if (!same) throw new StorageError('checkpoint-invalid', `The saved ${what} weights do not fit the model these settings build.`);
}
