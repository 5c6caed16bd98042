/**
 * How far a run has come and how long it may still take, from the page's
 * state and the time `now` (passed in, so it is tested without a clock).
 */
import type { AppState } from './state';

export interface RunProgress {
  /** The epoch being trained, or the last one done. 1-based; 0 before the first report. */
  currentEpoch: number;
  /** Share of the current epoch done, 0–1 (1 once it is done). */
  epochFraction: number;
  /** Share of the whole run done, 0–1. */
  runFraction: number;
  /** Since the run started, restored epochs included. Unit: s. */
  elapsedSeconds: number;
  /** Time left at the pace so far; NaN while there is nothing to estimate from or the run is not training. Unit: s. */
  etaSeconds: number;
}

export function runProgress(
  state: Pick<AppState, 'steps' | 'epochs' | 'status' | 'startedAt' | 'totalEpochs'>,
  /** Wall-clock ms, on the same scale as `state.startedAt`. */
  now: number,
): RunProgress {
  const { totalEpochs } = state;
  const last = state.steps.at(-1);
  const doneEpochs = state.epochs.at(-1)?.epoch ?? 0;
  const inEpoch = last !== undefined && last.epoch > doneEpochs;
  const currentEpoch = inEpoch ? last.epoch : doneEpochs;
  const epochFraction = inEpoch ? (last.batchInEpoch + 1) / last.batchesPerEpoch : 1;
  const runFraction = totalEpochs > 0 ? Math.min(1, (currentEpoch - 1 + (inEpoch ? epochFraction : 1)) / totalEpochs) : 0;
  const elapsedSeconds = state.startedAt !== undefined ? (now - state.startedAt) / 1000 : 0;
  const etaSeconds = runFraction > 0 && state.status === 'training' ? (elapsedSeconds / runFraction) * (1 - runFraction) : Number.NaN;
  return { currentEpoch, epochFraction: Math.min(1, epochFraction), runFraction, elapsedSeconds, etaSeconds };
}
