/// <reference lib="webworker" />
/**
 * The training worker: owns the data set, the backend and the model, so the
 * page never blocks on TensorFlow.js. It speaks only the messages in protocol.ts.
 */
import { toErrorData, AppError } from '../errors';
import { loadDataset, openBrowserShardCache, type Dataset } from '../data/loader';
import { gatherImages, pickPerClass } from '../data/samples';
import { NUM_CLASSES } from '../data/format';
import { assertNever, type BackendInfo, type FromWorker, type ToWorker } from './protocol';
import { TrainingRun } from './run';
import { selectBackend } from './backend';

declare const self: DedicatedWorkerGlobalScope;

/** Images per class in the first screen's grid. */
const SAMPLES_PER_CLASS = 10;

let dataset: Dataset | undefined;
let run: TrainingRun | undefined;
/** Settles once the backend is chosen; training waits for it. */
let backend: Promise<BackendInfo> | undefined;

function post(message: FromWorker, transfer: Transferable[] = []): void {
  self.postMessage(message, transfer);
}

async function loadData(baseUrl: string): Promise<void> {
  post({ type: 'status', status: 'loading' });
  let cachedShards = 0;
  // Progress messages are throttled: a 180 MB download gives thousands of chunks.
  let lastPost = 0;
  dataset = await loadDataset({
    baseUrl,
    cache: await openBrowserShardCache(),
    onProgress(progress) {
      cachedShards = progress.cachedShards;
      const now = performance.now();
      if (now - lastPost > 100 || progress.loadedBytes === progress.totalBytes) {
        lastPost = now;
        post({ type: 'data-progress', progress });
      }
    },
  });
  const picked = pickPerClass(dataset.train.labels, NUM_CLASSES, SAMPLES_PER_CLASS, Date.now() >>> 0);
  const samples = gatherImages(dataset.train.pixels, dataset.train.labels, picked);
  post(
    {
      type: 'data-ready',
      classes: dataset.manifest.classes,
      counts: { train: dataset.manifest.splits.train.count, test: dataset.manifest.splits.test.count },
      samples,
      cachedShards,
    },
    [samples.pixels.buffer, samples.labels.buffer],
  );
  post({ type: 'status', status: 'ready' });
}

async function handle(message: ToWorker): Promise<void> {
  switch (message.type) {
    case 'load-data':
      return loadData(message.baseUrl);
    case 'init-backend': {
      backend = selectBackend(message.backend, { allowSoftwareGpu: message.allowSoftwareGpu });
      post({ type: 'backend', info: await backend });
      return;
    }
    case 'train': {
      if (!dataset) throw new AppError('not-ready', 'The data set has not finished loading yet.');
      if (!backend) throw new AppError('not-ready', 'No backend has been chosen yet.');
      if (run?.active) throw new AppError('not-ready', 'A training run is already in progress.');
      await backend;
      run = new TrainingRun(dataset, message.settings, post);
      return run.start();
    }
    case 'pause':
      return run?.pause();
    case 'resume':
      return run?.resume();
    case 'stop':
      return run?.stop();
    default:
      return assertNever(message);
  }
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  handle(event.data).catch((error: unknown) => {
    console.error(error);
    post({ type: 'error', error: toErrorData(error) });
    post({ type: 'status', status: 'error' });
  });
};
