/**
 * The page's only handle on the training worker. React code calls these
 * typed methods and subscribes to typed messages; it never touches
 * `postMessage` itself.
 */
import type { Preset } from '../model/config';
import type { Settings } from '../run/settings';
import type { Isolation } from '../isolation/isolate';
import {
  TRAINING_LOCK,
  type BackendRequest,
  type ClassifyFile,
  type DataSourceKind,
  type DroppedFileData,
  type FromWorker,
  type ToWorker,
  type TuneMode,
} from './protocol';

export type Listener = (message: FromWorker) => void;

export class TrainerClient {
  private worker: Worker;
  private readonly listeners = new Set<Listener>();
  /** Requests for test images waiting for their answer, by request id. */
  private readonly imageRequests = new Map<number, (pixels: Uint8Array) => void>();
  private nextImageRequest = 1;

  constructor() {
    this.worker = this.spawn();
  }

  private spawn(): Worker {
    const worker = new Worker(new URL('./trainer.worker.ts', import.meta.url), { type: 'module', name: 'trainer' });
    worker.onmessage = (event: MessageEvent<FromWorker>) => this.emit(event.data);
    // An exception that escaped the worker, or a script that failed to load:
    // its state is unknown from here on, so the page offers a restart. A
    // worker outlives an uncaught exception and would go on posting (a late
    // 'ready' over the page's 'error'), so it is ended here; its checkpoints
    // are already in IndexedDB.
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      worker.onmessage = null;
      worker.onerror = null;
      worker.terminate();
      this.emit({
        type: 'error',
        error: {
          name: 'WorkerError',
          code: 'worker-crashed',
          message: `The trainer stopped unexpectedly${event.message ? ` (${event.message})` : ''}.`,
        },
      });
      this.emit({ type: 'status', status: 'error' });
    };
    return worker;
  }

  /** Replaces a crashed worker with a fresh one; the caller loads data and picks a backend again. */
  restart(): void {
    // The old worker's pending answers will never come.
    this.imageRequests.clear();
    this.worker.terminate();
    this.worker = this.spawn();
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts (or, after a failure, retries) loading; verified shards come from the browser's cache. */
  loadData(baseUrl: string, source: DataSourceKind = 'cifar10'): void {
    this.send({ type: 'load-data', baseUrl, source });
  }

  /** Reads, checks and stores a dropped folder or zip of class folders, then trains on it. */
  importData(name: string, files: DroppedFileData[]): void {
    this.send({ type: 'import-data', name, files });
  }

  /** The user's stored data set as a zip, for Python (python/README.md). */
  exportData(): void {
    this.send({ type: 'export-data' });
  }

  cancelLoad(): void {
    this.send({ type: 'cancel-load' });
  }

  initBackend(
    backend: BackendRequest,
    allowSoftwareGpu = false,
    tune: TuneMode = 'auto',
    wasmWorkers: number | null = null,
    isolation: Isolation | null = null,
  ): void {
    this.send({ type: 'init-backend', backend, allowSoftwareGpu, tune, wasmWorkers, isolation });
  }

  /**
   * Whether a run in another tab holds the training lock, asked before the
   * page clears what it shows for a new run. The worker checks again as it
   * starts (two tabs pressing Train at once).
   */
  async trainingElsewhere(): Promise<boolean> {
    if (!('locks' in navigator)) return false;
    const { held = [] } = await navigator.locks.query();
    return held.some((lock) => lock.name === TRAINING_LOCK);
  }

  train(settings: Settings): void {
    this.send({ type: 'train', settings });
  }

  pause(): void {
    this.send({ type: 'pause' });
  }

  resume(): void {
    this.send({ type: 'resume' });
  }

  stop(): void {
    this.send({ type: 'stop' });
  }

  /** Opens checkpoint and library storage; the worker answers with what it found. */
  openStorage(): void {
    this.send({ type: 'open-storage' });
  }

  resumeCheckpoint(): void {
    this.send({ type: 'resume-checkpoint' });
  }

  discardCheckpoint(): void {
    this.send({ type: 'discard-checkpoint' });
  }

  /** Files are passed as handles (structured clone shares, not copies, their bytes). */
  classify(files: ClassifyFile[]): void {
    this.send({ type: 'classify', files });
  }

  openModel(id: string): void {
    this.send({ type: 'open-model', id });
  }

  deleteModel(id: string): void {
    this.send({ type: 'delete-model', id });
  }

  /** A library entry, or with null the model that classifies now. */
  exportModel(id: string | null): void {
    this.send({ type: 'export-model', id });
  }

  continueElsewhere(id: string): void {
    this.send({ type: 'continue-elsewhere', id });
  }

  importModel(files: File[]): void {
    this.send({ type: 'import-model', files: files.map((file) => ({ name: file.name, file })) });
  }

  /** Times a few steps of each preset on the chosen backend; answered by 'preset-cost' messages. */
  measurePresets(requests: { preset: Preset; batchSize: number }[]): void {
    this.send({ type: 'measure-presets', requests });
  }

  /**
   * The pixels of test-split images (32 × 32 × 3 bytes each, in the order asked), e.g. those of one
   * confusion-matrix cell. Never settles if the worker is replaced meanwhile.
   */
  testImages(indices: readonly number[]): Promise<Uint8Array> {
    const request = this.nextImageRequest++;
    return new Promise((resolve) => {
      this.imageRequests.set(request, resolve);
      this.send({ type: 'test-images', request, indices: [...indices] });
    });
  }

  terminate(): void {
    this.worker.terminate();
    this.listeners.clear();
  }

  private send(message: ToWorker): void {
    this.worker.postMessage(message);
  }

  private emit(message: FromWorker): void {
    if (message.type === 'test-images') {
      this.imageRequests.get(message.request)?.(message.pixels);
      this.imageRequests.delete(message.request);
      return;
    }
    for (const listener of this.listeners) listener(message);
  }
}
