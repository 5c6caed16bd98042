/**
 * The page's state, rebuilt from worker messages by one pure reducer. The
 * worker sends deltas; the full curves live here.
 */
import type { ErrorData } from '../errors';
import type { LoadProgress } from '../data/loader';
import type { ImportProgress } from '../data/ownImport';
import type { OwnDataSetInfo } from '../data/ownStore';
import type { ModelSummary } from '../model/summary';
import type { BatchMetrics, EpochRecord, Evaluation, MemoryInfo } from '../run/records';
import type { Preset } from '../model/config';
import {
  assertNever,
  type BackendInfo,
  type FromWorker,
  type KernelPlanReport,
  type PresetCost,
  type RunPlan,
  type RunStatus,
  type SampleImages,
  type TestPredictions,
} from '../worker/protocol';
import type { DataReady } from './DataPanel';

export interface AppState {
  status: RunStatus;
  dataProgress?: LoadProgress;
  data?: DataReady;
  backend?: BackendInfo;
  model?: ModelSummary;
  /** The current run's convolution formulations and how they were chosen (tuned here, cached or static). */
  kernelPlan?: KernelPlanReport;
  steps: BatchMetrics[];
  epochs: EpochRecord[];
  /** Tensor memory at the end of each epoch, parallel to `epochs`: flat when nothing leaks. */
  epochMemory: MemoryInfo[];
  memory?: MemoryInfo;
  /** Wall-clock ms when the current run started, for elapsed time and ETA. */
  startedAt?: number;
  /** Epochs the current run is set to train; 0 before the first run. */
  totalEpochs: number;
  /** The current run's subsets and steps, once the worker has split the data. */
  plan?: RunPlan;
  /** What each preset costs on this device, measured before Train; null when it could not be measured. */
  presetCosts: Partial<Record<Preset, PresetCost | null>>;
  test?: { result: Evaluation; images: SampleImages; predictions: TestPredictions };
  error?: ErrorData;
  /** The latest message that is not an error (e.g. a run recovered from a lost GPU). */
  notice?: string;
  /** A drop of the user's own classes: being read, read (its report), or refused. */
  ownImport?: OwnImportState;
}

export type OwnImportState =
  | { status: 'reading'; progress: ImportProgress | null }
  | { status: 'done'; info: OwnDataSetInfo }
  | { status: 'failed'; error: ErrorData };

export const initialState: AppState = { status: 'idle', steps: [], epochs: [], epochMemory: [], totalEpochs: 0, presetCosts: {} };

/** Local actions the page dispatches itself, beside the worker's messages. */
export type LocalAction =
  /** `epochs`: the run's length when the page knows it (a resumed run's comes with 'run-restored'). */
  | { type: 'run-requested'; at: number; epochs?: number }
  | { type: 'dismiss-error' }
  | { type: 'worker-restarted' }
  /** The page sent a drop of the user's classes to the worker. */
  | { type: 'import-requested' };

export function reduce(state: AppState, action: FromWorker | LocalAction): AppState {
  switch (action.type) {
    case 'run-requested': {
      const { error: _dropped, test: _old, plan: _oldPlan, kernelPlan: _oldKernels, ...rest } = state;
      return { ...rest, steps: [], epochs: [], epochMemory: [], startedAt: action.at, totalEpochs: action.epochs ?? rest.totalEpochs };
    }
    case 'worker-restarted':
      // A new worker knows nothing: start from the first screen again (the costs of this device still hold).
      return { ...initialState, presetCosts: state.presetCosts };
    case 'dismiss-error': {
      const { error: _dropped, ...rest } = state;
      return rest;
    }
    case 'data-progress':
      return { ...state, dataProgress: action.progress };
    case 'data-ready': {
      const { type: _type, ...data } = action;
      const same = state.data?.name === data.name && state.data.classes.join('\n') === data.classes.join('\n');
      if (same || state.data === undefined) return { ...state, data };
      // Another data set: the last run's curves and results name the other one's classes.
      const { test: _test, plan: _plan, model: _model, kernelPlan: _kernels, startedAt: _started, ...rest } = state;
      return { ...rest, data, steps: [], epochs: [], epochMemory: [], totalEpochs: 0 };
    }
    case 'import-requested':
      return { ...state, ownImport: { status: 'reading', progress: null } };
    case 'import-progress':
      return { ...state, ownImport: { status: 'reading', progress: action.progress } };
    case 'import-done':
      return { ...state, ownImport: { status: 'done', info: action.info } };
    case 'import-failed':
      return { ...state, ownImport: { status: 'failed', error: action.error } };
    case 'data-archive': // saved as a download by OwnDataPanel (useArchiveDownload)
      return state;
    case 'status':
      return { ...state, status: action.status };
    case 'error':
      return { ...state, error: action.error };
    case 'backend':
      return { ...state, backend: action.info };
    case 'model':
      return { ...state, model: action.summary };
    case 'kernel-plan':
      return { ...state, kernelPlan: action.plan };
    case 'batch-metrics':
      return { ...state, steps: state.steps.concat(action.metrics), memory: action.memory };
    case 'epoch-end':
      return {
        ...state,
        epochs: state.epochs.concat(action.record),
        epochMemory: state.epochMemory.concat(action.memory),
        memory: action.memory,
      };
    case 'test-result':
      return { ...state, test: { result: action.result, images: action.images, predictions: action.predictions } };
    case 'notice':
      return { ...state, notice: action.message };
    case 'preset-cost':
      return { ...state, presetCosts: { ...state.presetCosts, [action.preset]: action.cost } };
    case 'run-plan':
      return { ...state, plan: action.plan, totalEpochs: action.plan.epochs };
    case 'run-restored': {
      // The clock counts the restored epochs' time too, so elapsed time and ETA cover the whole run.
      const restoredMs = action.epochs.reduce((sum, e) => sum + e.seconds * 1000, 0);
      const startedAt = state.startedAt === undefined ? undefined : state.startedAt - restoredMs;
      return {
        ...state,
        steps: action.steps,
        epochs: action.epochs,
        epochMemory: action.memory,
        totalEpochs: action.settings.epochs,
        ...(startedAt === undefined ? {} : { startedAt }),
      };
    }
    // Checkpoints, classification and the model library have their own state (src/ui/modelsState.ts).
    case 'storage':
    case 'checkpoint-found':
    case 'checkpoint-saved':
    case 'classifier':
    case 'classified':
    case 'library':
    case 'model-files':
    case 'handover-archive':
    case 'model-error':
    case 'test-images': // answered to its caller (TrainerClient.testImages)
      return state;
    default:
      return assertNever(action);
  }
}
