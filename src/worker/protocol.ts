/**
 * The one contract between the page and the training worker. Every message is
 * a discriminated union keyed on `type`; both sides handle them in exhaustive
 * `switch`es, so adding a message is a compile error until it is handled.
 */
import type { ErrorData } from '../errors';
import type { LoadProgress } from '../data/loader';
import type { ImportProgress } from '../data/ownImport';
import type { OwnDataSetInfo } from '../data/ownStore';
import type { Settings } from '../run/settings';
import type { BatchMetrics, EpochRecord, Evaluation, MemoryInfo } from '../run/records';
import type { ModelSummary } from '../model/summary';
import type { ClassifierInfo } from '../classify/classifier';
import type { Preset } from '../model/config';
import type { ModelFiles } from '../model/modelFiles';
import type { LibraryEntry } from '../store/library';
import type { KernelInUse } from '../kernels/register';
import type { CaseChoice } from '../kernels/tuning/tune';
import type { ChannelStats } from '../data/preprocess';
import type { ReplicaLink } from '../train/replicas';
import type { Isolation } from '../isolation/isolate';

export const BACKEND_REQUESTS = ['auto', 'webgpu', 'webgl', 'wasm', 'cpu'] as const;
export type BackendRequest = (typeof BACKEND_REQUESTS)[number];
export type BackendName = Exclude<BackendRequest, 'auto'>;

/**
 * The Web Lock a worker holds while it trains. All tabs of the app share one
 * checkpoint slot, so only one of them may train at a time.
 */
export const TRAINING_LOCK = 'cifar10-in-a-tab:training';

export interface BackendInfo {
  name: BackendName;
  /** WebGPU: the adapter's vendor / architecture; WebGL: the renderer string. */
  adapter: string;
  /** Why each faster backend was passed over, in the order tried. Empty when the first choice ran. */
  fallbackReasons: string[];
  /** True when the backend was named with `?backend=`. */
  forced: boolean;
  /** A GPU API on a software renderer (SwiftShader, llvmpipe): a CPU in disguise. */
  software: boolean;
}

/**
 * Whether convolution formulations are timed on this device before a run (`?tune=`):
 * 'auto' on a hardware GPU only, 'on' also on a software renderer, 'off' never (the static plan).
 */
export const TUNE_MODES = ['auto', 'on', 'off'] as const;
export type TuneMode = (typeof TUNE_MODES)[number];

/** The convolution formulations a run uses on this device, and how they were chosen. */
export interface KernelPlanReport {
  backend: BackendName;
  adapter: string;
  /** 'tuned' once any shape's choice came from timing on this device (now or cached). */
  status: 'tuned' | 'static';
  /** In words, for the model details: why static, or what the tuning did. */
  reason: string;
  /** Time spent timing candidates now (0 when every choice was cached). Unit: ms. */
  ms: number;
  choices: CaseChoice[];
  /** Kernels of ours running on this backend, and why each (src/kernels/registry.ts). */
  ours: KernelInUse[];
}

export type RunStatus = 'idle' | 'loading' | 'ready' | 'training' | 'paused' | 'done' | 'error';

export interface SampleImages {
  /** Images of `pixels` in order, 32 × 32 × 3 bytes each. */
  pixels: Uint8Array;
  labels: Uint8Array;
}

/**
 * The final model's answer for every image of the test subset, position by
 * position: what the page needs to list the images behind any cell of the
 * confusion matrix. Sent once per run, its buffers transferred.
 */
export interface TestPredictions {
  /** Each image's index in the test split, to ask for its pixels ('test-images'). */
  indices: Uint32Array;
  labels: Uint8Array;
  predicted: Uint8Array;
  /** count × 10 class probabilities, row-major. */
  probs: Float32Array;
}

/** Which data set to train on: CIFAR-10 from the server, or the user's own, kept in this browser. */
export type DataSourceKind = 'cifar10' | 'own';

/** A file of a dropped or picked folder, with its path below what was dropped; or one dropped .zip. */
export interface DroppedFileData {
  path: string;
  file: Blob;
}

export type ToWorker =
  /** `baseUrl`: CIFAR-10's folder, also what loads when `source` is 'own' and the user's data set is gone. */
  | { type: 'load-data'; baseUrl: string; source: DataSourceKind }
  /** A folder of class folders, or one zip of them; answered by 'import-progress', then 'import-done' and the data set's 'data-ready', or 'import-failed'. */
  | { type: 'import-data'; name: string; files: DroppedFileData[] }
  /** The stored data set of the user's own classes as one zip (manifest and shards); answered by 'data-archive' or 'import-failed'. */
  | { type: 'export-data' }
  | { type: 'cancel-load' }
  /** Sent once at start-up, so the page can show the backend before any training. */
  /** `wasmWorkers`: workers training together on WASM (the page's `?workers=`); null for the plan's own (wasmThreads.ts). */
  /** `isolation`: how the page came to be cross-origin isolated, or why not (null: not asked, as in unit tests). */
  | {
      type: 'init-backend';
      backend: BackendRequest;
      allowSoftwareGpu: boolean;
      tune: TuneMode;
      wasmWorkers: number | null;
      isolation: Isolation | null;
    }
  | { type: 'train'; settings: Settings }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'stop' }
  /** Sent once at start-up: opens IndexedDB; answered by 'storage', 'checkpoint-found' and 'library'. */
  | { type: 'open-storage' }
  /** Continue the checkpointed run (not to be confused with 'resume', which ends a pause). */
  | { type: 'resume-checkpoint' }
  | { type: 'discard-checkpoint' }
  /** Files to classify; answered by 'classified' messages, one per batch, in order. */
  | { type: 'classify'; files: ClassifyFile[] }
  | { type: 'open-model'; id: string }
  | { type: 'delete-model'; id: string }
  /** Export a library model, or with null the model that classifies now; answered by 'model-files'. */
  | { type: 'export-model'; id: string | null }
  /**
   * As the user picked or dropped them (any order): a model.json and its weights .bin; or a hand-over coming
   * back (one .zip, or the loose Layers files with run.json and optimizer.weights.bin).
   */
  | { type: 'import-model'; files: { name: string; file: Blob }[] }
  /** A library run as one hand-over archive for PyTorch (src/handover/files.ts); answered by 'handover-archive'. */
  | { type: 'continue-elsewhere'; id: string }
  /** Time a few training steps of each preset on this backend; answered by one 'preset-cost' each. A run stops the measuring. */
  | { type: 'measure-presets'; requests: { preset: Preset; batchSize: number }[] }
  /** The pixels of test-split images (indices as in TestPredictions); answered by 'test-images' with the same `request`. */
  | { type: 'test-images'; request: number; indices: number[] };

export type FromWorker =
  | { type: 'data-progress'; progress: LoadProgress }
  /**
   * `name`: "CIFAR-10" or the user's folder; `classCounts`: pictures per class, both splits together;
   * `ownStored`: the name of the user's data set kept in this browser (in use or not), or null.
   */
  | {
      type: 'data-ready';
      source: DataSourceKind;
      name: string;
      ownStored: string | null;
      classes: string[];
      counts: { train: number; test: number };
      classCounts: number[];
      samples: SampleImages;
      cachedShards: number;
    }
  | { type: 'import-progress'; progress: ImportProgress }
  /** The user's data set is stored; its 'data-ready' follows. */
  | { type: 'import-done'; info: OwnDataSetInfo }
  /** Nothing stored changed, and the data set in use stays. */
  | { type: 'import-failed'; error: ErrorData }
  /** The zip of 'export-data', its bytes transferred. */
  | { type: 'data-archive'; name: string; zip: ArrayBuffer }
  | { type: 'backend'; info: BackendInfo }
  | { type: 'model'; summary: ModelSummary }
  /** Sent after 'model', before the first step: the convolution formulations this run uses. */
  | { type: 'kernel-plan'; plan: KernelPlanReport }
  | { type: 'status'; status: RunStatus }
  /** Metrics since the previous message: a delta, never the whole history. */
  | { type: 'batch-metrics'; metrics: BatchMetrics[]; memory: MemoryInfo }
  | { type: 'epoch-end'; record: EpochRecord; memory: MemoryInfo }
  | { type: 'test-result'; result: Evaluation; images: SampleImages; predictions: TestPredictions }
  /** `pixels`: the asked images in the asked order, 32 × 32 × 3 bytes each (transferred). */
  | { type: 'test-images'; request: number; pixels: Uint8Array }
  | { type: 'error'; error: ErrorData }
  /** Something the user should know that is not an error, e.g. a run recovered from a lost GPU. */
  | { type: 'notice'; message: string }
  /** Whether checkpoints are being saved; with `error` saying why not. */
  | { type: 'storage'; checkpoints: boolean; error?: ErrorData }
  /** The unfinished run left by an earlier visit, or null. */
  | { type: 'checkpoint-found'; checkpoint: CheckpointSummary | null }
  | { type: 'checkpoint-saved'; epoch: number; step: number; optimizerStep: number }
  /** A resumed run's history up to its checkpoint: the page shows it before the new epochs arrive. */
  | { type: 'run-restored'; settings: Settings; steps: BatchMetrics[]; epochs: EpochRecord[]; memory: MemoryInfo[] }
  /** The model that classifies dropped images now; null when there is none. */
  | { type: 'classifier'; info: ClassifierInfo | null }
  /** `memory`: the worker's tensors after the batch, so a leak in classification shows. */
  | { type: 'classified'; results: ClassifyResult[]; memory: MemoryInfo }
  | { type: 'library'; models: LibraryEntry[] }
  | { type: 'model-files'; files: ModelFiles }
  /** The zip of 'continue-elsewhere', its bytes transferred. */
  | { type: 'handover-archive'; name: string; zip: ArrayBuffer }
  /** `cost` is null when the preset could not be measured here. */
  | { type: 'preset-cost'; preset: Preset; cost: PresetCost | null }
  /** What the run just started will do: its images and steps, for the progress bar and the estimate. */
  | { type: 'run-plan'; plan: RunPlan }
  /** A library action or import that failed; nothing else changed. */
  | { type: 'model-error'; action: 'open' | 'delete' | 'export' | 'continue' | 'import' | 'save' | 'checkpoint'; error: ErrorData };

/** What a preset costs on this device (measured by a few timed steps), for the estimate before Train. */
export interface PresetCost {
  preset: Preset;
  backend: BackendName;
  /** The backend's adapter line: the estimate holds for this device and these threads only. */
  adapter: string;
  /** Unit: images/s. */
  imagesPerSecond: number;
  /** Images per measured step. */
  batchSize: number;
  /** Steps timed; 0 when one slow first step gave the estimate. */
  timedSteps: number;
}

export interface RunPlan {
  preset: Preset;
  /** Images in the training, validation and test subsets. */
  trainImages: number;
  valImages: number;
  testImages: number;
  batchSize: number;
  batchesPerEpoch: number;
  epochs: number;
}

export interface CheckpointSummary {
  /** Epochs done; "Resume from epoch epoch + 1". */
  epoch: number;
  step: number;
  /** ms since 1970. */
  savedAt: number;
  settings: Settings;
  /** Early stopping had ended training; resuming only evaluates on the test set. */
  stopped: boolean;
}

export interface ClassifyFile {
  /** A request id chosen by the page; results carry it back. */
  id: number;
  name: string;
  file: Blob;
}

export type ClassifyResult =
  /**
   * `pixels`: the 32 × 32 × 3 HWC bytes the model saw (luma in all three channels for a grayscale model). `probs`: 10 class probabilities.
   * `saliency`: 32 × 32 bytes, how strongly each pixel drove the top class (0–255, see src/classify/saliency.ts); null when it could not be computed.
   */
  { id: number; ok: true; pixels: Uint8Array; probs: number[]; saliency: Uint8Array | null } | { id: number; ok: false; error: ErrorData };

/** Compile-time guard for exhaustive switches. */
export function assertNever(value: never): never {
  throw new Error(`Unhandled message: ${JSON.stringify(value)}`);
}

/** One tensor's values, copied across a worker boundary. */
export interface WeightValues {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  values: Float32Array | Int32Array;
}

/**
 * The trainer worker to each of its replica workers (replica.worker.ts),
 * which train copies of the run's model on shares of every batch
 * (src/train/replicas.ts). Requests other than `step` get one reply each, in order.
 */
export type ToReplica =
  /** Start the WASM backend with this many threads; replies `ready`. */
  | { type: 'init'; threads: number }
  /** Build a replica of the model, with the first replica's weights and optimizer state; replies `ready`. */
  | {
      type: 'start';
      link: ReplicaLink;
      settings: Settings;
      /** The model's outputs, one per class of the run's data set. Unit: classes. */
      classes: number;
      stats: ChannelStats;
      totalSteps: number;
      weights: WeightValues[];
      optimizerWeights: WeightValues[];
    }
  /** Train step `step` on this replica's rows of the shared batch; no reply (the replicas meet in shared memory). */
  | { type: 'step'; step: number }
  /** Replies `statistics`: the replica's non-trainable weights (BatchNorm's running statistics), in the model's order. */
  | { type: 'read-statistics' }
  /** Set the non-trainable weights to these (their mean over the replicas), in the model's order; replies `statistics-written`. */
  | { type: 'write-statistics'; weights: WeightValues[] }
  /** Replies `checksum`, of all the replica's weights (replicas.ts, weightsChecksum). */
  | { type: 'checksum' }
  /** Let go of the model; replies `ended`. */
  | { type: 'end' };

export type FromReplica =
  | { type: 'ready' }
  | { type: 'statistics'; weights: WeightValues[] }
  | { type: 'statistics-written' }
  | { type: 'checksum'; sum: number }
  | { type: 'ended' }
  /** A request or a step failed; after a failed step the replica has raised the shared failure flag. */
  | { type: 'failed'; error: ErrorData };
