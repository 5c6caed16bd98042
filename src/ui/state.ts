/**
 * The page's state, rebuilt from worker messages by one pure reducer. The
 * worker sends deltas; the full curves live here.
 */
import type { ErrorData } from '../errors';
import type { LoadProgress } from '../data/loader';
import { assertNever, type FromWorker, type RunStatus } from '../worker/protocol';
import type { DataReady } from './DataPanel';

export interface AppState {
  status: RunStatus;
  dataProgress?: LoadProgress;
  data?: DataReady;
  error?: ErrorData;
}

export const initialState: AppState = { status: 'idle' };

export function reduce(state: AppState, message: FromWorker): AppState {
  switch (message.type) {
    case 'data-progress':
      return { ...state, dataProgress: message.progress };
    case 'data-ready':
      return { ...state, data: { classes: message.classes, counts: message.counts, samples: message.samples, cachedShards: message.cachedShards } };
    case 'status':
      return { ...state, status: message.status };
    case 'error':
      return { ...state, error: message.error };
    case 'backend':
    case 'model':
    case 'batch-metrics':
    case 'epoch-end':
    case 'test-result':
      return state;
    default:
      return assertNever(message);
  }
}
