/**
 * The one contract between the page and the training worker. Every message is
 * a discriminated union keyed on `type`; both sides handle them in exhaustive
 * `switch`es, so adding a message is a compile error until it is handled.
 */
import type { ErrorData } from '../errors';
import type { LoadProgress } from '../data/loader';
import type { Settings } from '../train/settings';
import type { BatchMetrics, EpochRecord, Evaluation as TestResult } from '../train/loop';
import type { ModelSummary } from '../model/summary';

export const BACKEND_REQUESTS = ['auto', 'webgpu', 'webgl', 'wasm', 'cpu'] as const;
export type BackendRequest = (typeof BACKEND_REQUESTS)[number];
export type BackendName = Exclude<BackendRequest, 'auto'>;

export interface BackendInfo {
  name: BackendName;
  /** WebGPU: the adapter's vendor / architecture; WebGL: the renderer string. */
  adapter: string;
  /** Why each faster backend was passed over, in the order tried. Empty when the first choice ran. */
  fallbackReasons: string[];
  /** True when the backend was named with `?backend=`. */
  forced: boolean;
}

export type RunStatus = 'idle' | 'loading' | 'ready' | 'training' | 'paused' | 'done' | 'error';

export interface SampleImages {
  /** Images of `pixels` in order, 32 × 32 × 3 bytes each. */
  pixels: Uint8Array;
  labels: Uint8Array;
}

export type ToWorker =
  | { type: 'load-data'; baseUrl: string }
  /** Sent once at start-up, so the page can show the backend before any training. */
  | { type: 'init-backend'; backend: BackendRequest; allowSoftwareGpu: boolean }
  | { type: 'train'; settings: Settings }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'stop' };

export type FromWorker =
  | { type: 'data-progress'; progress: LoadProgress }
  | { type: 'data-ready'; classes: string[]; counts: { train: number; test: number }; samples: SampleImages; cachedShards: number }
  | { type: 'backend'; info: BackendInfo }
  | { type: 'model'; summary: ModelSummary }
  | { type: 'status'; status: RunStatus }
  /** Metrics since the previous message: a delta, never the whole history. */
  | { type: 'batch-metrics'; metrics: BatchMetrics[]; memory: MemoryInfo }
  | { type: 'epoch-end'; record: EpochRecord; memory: MemoryInfo }
  | { type: 'test-result'; result: TestResult; images: SampleImages }
  | { type: 'error'; error: ErrorData };

export interface MemoryInfo {
  numTensors: number;
  /** Bytes held by tensors, as `tf.memory().numBytes` reports. */
  numBytes: number;
}

/** Compile-time guard for exhaustive switches. */
export function assertNever(value: never): never {
  throw new Error(`Unhandled message: ${JSON.stringify(value)}`);
}
