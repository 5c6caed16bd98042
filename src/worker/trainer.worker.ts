/// <reference lib="webworker" />
/**
 * The training worker: owns the data set, the backend and the model, so the
 * page never blocks on TensorFlow.js. It speaks only the messages in protocol.ts.
 */
import type * as tf from '@tensorflow/tfjs';
import { toErrorData, AppError, trainingElsewhere, type ErrorCode } from '../errors';
import { loadDataset, openBrowserShardCache, type Dataset, type LoadProgress } from '../data/loader';
import { gatherImages, pickPerClass } from '../data/samples';
import { Classifier } from '../classify/classifier';
import { openDatabase } from '../store/db';
import type { Checkpoint } from '../store/checkpoints';
import type { Settings } from '../run/settings';
import { activeWasmPlan, gpuDeviceLost, recoverBackend, selectBackend } from './backend';
import { CheckpointSlot } from './checkpointSlot';
import { ClassifyQueue } from './classifyQueue';
import { Library } from './library';
import { continueElsewhere } from './handoverTransfer';
import { exportModel, importModel } from './modelTransfer';
import { KernelPlanner } from './kernelPlan';
import {
  assertNever,
  TRAINING_LOCK,
  type BackendInfo,
  type DataSourceKind,
  type DroppedFileData,
  type FromWorker,
  type ToWorker,
  type TuneMode,
} from './protocol';
import { exportOwnData, importDrop, loadOwnData, storedOwnName } from './ownData';
import { CostMeter } from './presetCosts';
import { ReplicaPool } from './replicaPool';
import { Run } from './run';
import type { Isolation } from '../isolation/isolate';

declare const self: DedicatedWorkerGlobalScope;

/** Images per class in the first screen's grid. */
const SAMPLES_PER_CLASS = 10;

let dataset: Dataset | undefined;
let run: Run | undefined;
/** Settles once the backend is chosen; training waits for it. */
let backend: Promise<BackendInfo> | undefined;

function post(message: FromWorker, transfer: Transferable[] = []): void {
  self.postMessage(message, transfer);
}

/** The model that classifies dropped pictures: the run's, a finished one, a library entry or an import. */
const classifier = new Classifier();
const checkpoints = new CheckpointSlot(post);
const library = new Library(post, classifier);
const classifyQueue = new ClassifyQueue(post, classifier);
const transfer = { post, library, classifier, dataset: () => dataset };
/** On WASM with several cores, the workers that train each batch together with this one; null otherwise. */
let replicas: ReplicaPool | null = null;
/** Timed steps per preset, for the estimate before Train; a run stops it first. */
const costs = new CostMeter(post, () => replicas);
/** The convolution formulations each run uses, timed on this device where that means something. */
const planner = new KernelPlanner();
/** From the page's `?tune=`. */
let tuneMode: TuneMode = 'auto';

async function prepareKernels(model: tf.LayersModel, batchSize: number): Promise<void> {
  if (!backend) throw new AppError('not-ready', 'No backend has been chosen yet.');
  const plan = await planner.prepare(model, batchSize, await backend, tuneMode);
  post({ type: 'kernel-plan', plan });
}

/** Once the backend runs: replica workers where its plan has several (WASM on several cores; see wasmThreads.ts). */
function withReplicas(info: BackendInfo): BackendInfo {
  const plan = activeWasmPlan();
  if (!replicas && plan && plan.workers > 1) replicas = new ReplicaPool(plan.workers, plan.threads);
  return info;
}

async function initBackend(message: Extract<ToWorker, { type: 'init-backend' }>): Promise<void> {
  allowSoftwareGpu = message.allowSoftwareGpu;
  tuneMode = message.tune;
  wasmWorkers = message.wasmWorkers;
  isolation = message.isolation;
  // Once per worker: the page may ask twice (React runs effects twice in development),
  // and a second selection racing the first left tfjs on another backend than the one reported.
  backend ??= selectBackend(message.backend, { allowSoftwareGpu, wasmWorkers, isolation }).then(withReplicas);
  post({ type: 'backend', info: await backend });
}

/** Opens IndexedDB once; the page hears whether a run waits to be resumed before it hears whether checkpoints are on. */
async function openStorage(): Promise<void> {
  // A fresh worker (also after a restart) has no model yet.
  post({ type: 'classifier', info: classifier.info });
  let failure: unknown;
  const db = await openDatabase().catch((error: unknown) => {
    failure = error;
    return null;
  });
  await checkpoints.attach(db);
  planner.attach(db);
  post(db ? { type: 'storage', checkpoints: true } : { type: 'storage', checkpoints: false, error: toErrorData(failure) });
  await library.attach(db);
}

/** TensorFlow.js must not run an op before the chosen backend is set, or it would start a default one. */
async function backendReady(): Promise<void> {
  if (!backend) throw new AppError('not-ready', 'No backend has been chosen yet.');
  await backend;
}

/** From the page's `?softwareGpu=1` and `?workers=`, and its isolation; a backend chosen again after a GPU loss follows them too. */
let allowSoftwareGpu = false;
let wasmWorkers: number | null = null;
let isolation: Isolation | null = null;

/**
 * Runs training; if the WebGPU device is lost on the way, starts a backend
 * again (WebGPU if a new device can be had) and resumes from the last
 * checkpoint, so no finished epoch is lost.
 */
async function train(data: Dataset, settings: Settings, checkpoint: Checkpoint | null): Promise<void> {
  let from = checkpoint;
  for (;;) {
    run = new Run({ post, checkpoints, library, classifier, prepareKernels, replicas: () => replicas }, data, settings, from);
    try {
      return await run.start();
    } catch (error) {
      const lost = await gpuDeviceLost();
      if (!lost) throw error;
      post({ type: 'status', status: 'loading' });
      backend = recoverBackend(lost, { allowSoftwareGpu, wasmWorkers, isolation }).then(withReplicas);
      const info = await backend;
      post({ type: 'backend', info });
      const resumable = await checkpoints.loadForResume();
      if (!resumable) {
        throw new AppError(
          'training-failed',
          `The GPU device was lost (${lost}) before the first checkpoint was saved; press Train to start again on ${info.name}.`,
        );
      }
      post({
        type: 'notice',
        message: `The GPU device was lost (${lost}). Training resumed from the checkpoint after epoch ${resumable.checkpoint.meta.epoch}, on ${info.name}.`,
      });
      from = resumable.checkpoint;
    }
  }
}

/**
 * One training run at a time across all tabs of this app: they share one
 * checkpoint slot in IndexedDB, so a second run would overwrite the first's.
 * A Web Lock is released by the browser when its worker ends, crashed or not.
 */
async function exclusively(work: () => Promise<void>): Promise<void> {
  // Every current browser has Web Locks; without them, runs are not guarded, as before.
  if (!('locks' in navigator)) return work();
  return navigator.locks.request(TRAINING_LOCK, { ifAvailable: true }, async (lock) => {
    if (!lock) throw trainingElsewhere();
    return work();
  });
}

/** The download in progress, so Cancel can stop it. */
let loading: AbortController | undefined;

/** CIFAR-10's name on the page; the user's own data set goes by its folder's. */
const CIFAR10_NAME = 'CIFAR-10';

async function loadData(baseUrl: string, source: DataSourceKind): Promise<void> {
  if (run?.active) throw new AppError('not-ready', 'A run is training on the data set in use: stop it before changing the data set.');
  loading?.abort();
  const controller = new AbortController();
  loading = controller;
  post({ type: 'status', status: 'loading' });
  let cachedShards = 0;
  // Progress messages are throttled: a 180 MB download gives thousands of chunks.
  let lastPost = 0;
  let lastStalled = false;
  const onProgress = (progress: LoadProgress) => {
    cachedShards = progress.cachedShards;
    const now = performance.now();
    if (now - lastPost > 100 || progress.loadedBytes === progress.totalBytes || progress.stalled !== lastStalled) {
      lastStalled = progress.stalled;
      lastPost = now;
      post({ type: 'data-progress', progress });
    }
  };
  let loaded: { data: Dataset; name: string; source: DataSourceKind };
  try {
    const own = source === 'own' ? await loadOwnData(onProgress) : null;
    if (source === 'own' && !own) {
      post({
        type: 'notice',
        message:
          'Your own data set is no longer stored in this browser (it was cleared, or never finished storing): CIFAR-10 is loaded instead. Drop your folder again to train on it.',
      });
    }
    loaded = own
      ? { data: { ...own.data, ownName: own.info.name }, name: own.info.name, source: 'own' }
      : {
          data: await loadDataset({ baseUrl, cache: await openBrowserShardCache(), signal: controller.signal, onProgress }),
          name: CIFAR10_NAME,
          source: 'cifar10',
        };
  } catch (error) {
    // Replaced by a newer load (the page asked again): that one reports, this one was never the user's to cancel.
    if (loading !== controller) return;
    throw error;
  }
  if (loading !== controller) return;
  dataset = loaded.data;
  const classes = dataset.manifest.classes;
  const picked = pickPerClass(dataset.train.labels, classes.length, SAMPLES_PER_CLASS, Date.now() >>> 0);
  const samples = gatherImages(dataset.train.pixels, dataset.train.labels, picked);
  const classCounts = classes.map(() => 0);
  for (const labels of [dataset.train.labels, dataset.test.labels])
    for (const label of labels) classCounts[label] = (classCounts[label] ?? 0) + 1;
  post(
    {
      type: 'data-ready',
      source: loaded.source,
      name: loaded.name,
      ownStored: loaded.source === 'own' ? loaded.name : await storedOwnName(),
      classes,
      counts: { train: dataset.manifest.splits.train.count, test: dataset.manifest.splits.test.count },
      classCounts,
      samples,
      cachedShards,
    },
    [samples.pixels.buffer, samples.labels.buffer],
  );
  post({ type: 'status', status: 'ready' });
}

/** True while a drop is read: a run started meanwhile would train on the data set about to be replaced. */
let importing = false;

/** A dropped folder or zip becomes the data set in use; a failure leaves the one in use and the one stored as they were. */
async function importData(name: string, files: DroppedFileData[]): Promise<void> {
  let info;
  try {
    if (run?.active) throw new AppError('not-ready', 'A run is training on the data set in use: stop it before importing another.');
    if (importing) throw new AppError('not-ready', 'Another drop is still being read: wait for its report.');
    importing = true;
    try {
      info = await importDrop(name, files, post);
    } finally {
      importing = false;
    }
  } catch (error) {
    post({ type: 'import-failed', error: toErrorData(error) });
    return;
  }
  post({ type: 'import-done', info });
  await loadData('', 'own');
}

async function exportData(): Promise<void> {
  try {
    const { name, zip } = await exportOwnData();
    post({ type: 'data-archive', name, zip }, [zip]);
  } catch (error) {
    post({ type: 'import-failed', error: toErrorData(error) });
  }
}

async function handle(message: ToWorker): Promise<void> {
  switch (message.type) {
    case 'load-data':
      return loadData(message.baseUrl, message.source);
    case 'import-data':
      return importData(message.name, message.files);
    case 'export-data':
      return exportData();
    case 'cancel-load':
      loading?.abort();
      return;
    case 'init-backend':
      return initBackend(message);
    case 'train': {
      if (!dataset || importing) throw new AppError('not-ready', 'The data set has not finished loading yet.');
      if (!backend) throw new AppError('not-ready', 'No backend has been chosen yet.');
      if (run?.active) throw new AppError('not-ready', 'A training run is already in progress.');
      await backend;
      await costs.stop();
      const data = dataset;
      return exclusively(() => train(data, message.settings, null));
    }
    case 'resume-checkpoint': {
      if (!dataset) throw new AppError('not-ready', 'The data set has not finished loading yet.');
      if (run?.active) throw new AppError('not-ready', 'A training run is already in progress.');
      await backendReady();
      await costs.stop();
      const data = dataset;
      return exclusively(async () => {
        // null: the checkpoint was unusable; the page has been told and offered a new run.
        const resumable = await checkpoints.loadForResume();
        if (resumable) await train(data, resumable.settings, resumable.checkpoint);
      });
    }
    case 'discard-checkpoint':
      return checkpoints.discard();
    case 'open-storage':
      return openStorage();
    case 'classify':
      return classifyQueue.add(message.files);
    case 'open-model':
      await backendReady();
      return library.open(message.id);
    case 'delete-model':
      return library.delete(message.id);
    case 'export-model':
      await backendReady();
      return exportModel(transfer, message.id);
    case 'continue-elsewhere':
      await backendReady();
      return continueElsewhere(transfer, message.id);
    case 'import-model':
      await backendReady();
      return importModel(transfer, message.files);
    case 'measure-presets': {
      if (!dataset) throw new AppError('not-ready', 'The data set has not finished loading yet.');
      if (!backend) throw new AppError('not-ready', 'No backend has been chosen yet.');
      const info = await backend;
      if (!run?.active) costs.measure(message.requests, dataset, info);
      return;
    }
    case 'test-images': {
      if (!dataset) throw new AppError('not-ready', 'The data set has not finished loading yet.');
      const { pixels } = gatherImages(dataset.test.pixels, dataset.test.labels, message.indices);
      post({ type: 'test-images', request: message.request, pixels }, [pixels.buffer]);
      return;
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

/** Requests refused before anything changed (busy, not loaded yet, another tab training): the worker's status stands. */
const REFUSALS: readonly ErrorCode[] = ['not-ready', 'training-elsewhere'];

self.onmessage = (event: MessageEvent<ToWorker>) => {
  handle(event.data).catch((error: unknown) => {
    console.error(error);
    const data = toErrorData(error);
    post({ type: 'error', error: data });
    if (!REFUSALS.includes(data.code)) post({ type: 'status', status: 'error' });
  });
};
