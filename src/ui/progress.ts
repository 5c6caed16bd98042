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

/**
 * A forward pass costs about a third of a training step (forward, then a
 * backward pass of about twice its work), so evaluation runs at about this
 * many times the training throughput.
 */
const EVAL_SPEEDUP = 3;
/** Metric reports whose throughput the estimate averages. */
const PACE_REPORTS = 5;

export function runProgress(
  state: Pick<AppState, 'steps' | 'epochs' | 'status' | 'startedAt' | 'totalEpochs' | 'plan' | 'presetCosts'>,
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
  const etaSeconds = state.status === 'training' ? secondsLeft(state) : Number.NaN;
  return { currentEpoch, epochFraction: Math.min(1, epochFraction), runFraction, elapsedSeconds, etaSeconds };
}

/**
 * The steps and evaluations still to run, at the run's own recent pace, or
 * before its first report at the pace measured for its preset on this
 * device; NaN while neither is known.
 */
function secondsLeft({ steps, epochs, plan, presetCosts }: Pick<AppState, 'steps' | 'epochs' | 'plan' | 'presetCosts'>): number {
  if (!plan) return Number.NaN;
  const recent = steps.slice(-PACE_REPORTS).filter((m) => Number.isFinite(m.imagesPerSecond) && m.imagesPerSecond > 0);
  const pace =
    recent.length > 0 ? recent.reduce((sum, m) => sum + m.imagesPerSecond, 0) / recent.length : presetCosts[plan.preset]?.imagesPerSecond;
  if (pace === undefined) return Number.NaN;
  const stepsLeft = Math.max(0, plan.batchesPerEpoch * plan.epochs - (steps.at(-1)?.step ?? 0));
  const validationsLeft = Math.max(0, plan.epochs - (epochs.at(-1)?.epoch ?? 0));
  const evaluationImages = validationsLeft * plan.valImages + plan.testImages;
  return (stepsLeft * plan.batchSize) / pace + evaluationImages / (EVAL_SPEEDUP * pace);
}

/** A duration for people: "42 s", "7 min 5 s", "1 h 37 min"; "–" when unknown. */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '–';
  // Rounded once, then split: rounding the parts apart would say "1 h 60 min" for 7,199 s.
  if (s >= 3570) {
    const minutes = Math.round(s / 60);
    return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
  }
  const whole = Math.round(s);
  const m = Math.floor(whole / 60);
  return m > 0 ? `${m} min ${whole % 60} s` : `${whole} s`;
}
