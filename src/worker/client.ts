/**
 * The page's only handle on the training worker. React code calls these
 * typed methods and subscribes to typed messages; it never touches
 * `postMessage` itself.
 */
import type { Settings } from '../train/settings';
import type { BackendRequest, FromWorker, ToWorker } from './protocol';

export type Listener = (message: FromWorker) => void;

export class TrainerClient {
  private readonly worker: Worker;
  private readonly listeners = new Set<Listener>();

  constructor() {
    this.worker = new Worker(new URL('./trainer.worker.ts', import.meta.url), { type: 'module', name: 'trainer' });
    this.worker.onmessage = (event: MessageEvent<FromWorker>) => this.emit(event.data);
    // An exception that escaped the worker, or a script that failed to load.
    this.worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      this.emit({
        type: 'error',
        error: { name: 'WorkerError', code: 'worker-crashed', message: event.message || 'The training worker stopped unexpectedly.' },
      });
    };
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  loadData(baseUrl: string): void {
    this.send({ type: 'load-data', baseUrl });
  }

  initBackend(backend: BackendRequest, allowSoftwareGpu = false): void {
    this.send({ type: 'init-backend', backend, allowSoftwareGpu });
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

  terminate(): void {
    this.worker.terminate();
    this.listeners.clear();
  }

  private send(message: ToWorker): void {
    this.worker.postMessage(message);
  }

  private emit(message: FromWorker): void {
    for (const listener of this.listeners) listener(message);
  }
}
