/**
 * "How good, how soon?": when a run's validation accuracy first reached each
 * of a few thresholds, in wall time from Train and in training images, and
 * an estimate of when it will reach the next one. Pure: no TensorFlow.js,
 * so the page, the library, the CLI and the tests all use it.
 */
import type { EpochRecord } from './records';

/** The validation accuracies a run is timed to (fractions). 93 %: airbench94's bar; the rest, steps a CPU run meets. */
export const ACCURACY_THRESHOLDS = [0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.93] as const;

export interface ThresholdReached {
  /** Fraction 0–1, one of ACCURACY_THRESHOLDS. */
  threshold: number;
  /** The first epoch whose validation accuracy reached it (1-based). */
  epoch: number;
  /** From Train to the end of that epoch's validation, pauses excluded. Unit: s. */
  seconds: number;
  /** Training images seen by then (every epoch's, augmented copies counted once each); null where the record predates the count. */
  images: number | null;
}

/**
 * Each epoch's time since Train. Records from this version carry it
 * (`elapsedSeconds`, set-up before the first step included); those without
 * (earlier versions, the PyTorch side) add their own `seconds` to the
 * previous epoch's time.
 */
export function elapsedSeconds(epochs: readonly EpochRecord[]): number[] {
  let previous = 0;
  return epochs.map((e) => (previous = e.elapsedSeconds ?? previous + e.seconds));
}

/** The first epoch at or above each threshold, in threshold order; thresholds never reached are left out. */
export function timeToAccuracy(epochs: readonly EpochRecord[]): ThresholdReached[] {
  const elapsed = elapsedSeconds(epochs);
  return ACCURACY_THRESHOLDS.flatMap((threshold) => {
    const i = epochs.findIndex((e) => e.valAccuracy !== null && e.valAccuracy >= threshold);
    if (i < 0) return [];
    const e = epochs[i] as EpochRecord;
    return [{ threshold, epoch: e.epoch, seconds: elapsed[i] as number, images: e.images ?? null }];
  });
}

/** Validated epochs an estimate needs: two points fit any line; a third shows whether the curve bends. */
export const ESTIMATE_MIN_EPOCHS = 3;

export type NextThreshold =
  | { kind: 'estimate'; threshold: number; epoch: number; seconds: number }
  /** Every threshold is reached. */
  | { kind: 'all-reached' }
  /** Why no estimate is given, in words for the page. */
  | { kind: 'unknown'; threshold: number; reason: string };

/**
 * When the next threshold will be reached, from the curve so far: validation
 * accuracy grows roughly linearly in log(epoch) once the first epochs are
 * past, so a line through the last ESTIMATE_MIN_EPOCHS validated epochs
 * against ln(epoch) is extended to the threshold, and the epochs still to go
 * are timed at the recent pace. No estimate before enough epochs, while the
 * accuracy does not rise, or past the run's planned epochs: a guess there
 * would be a number without meaning.
 */
export function estimateNext(epochs: readonly EpochRecord[], plannedEpochs: number): NextThreshold {
  const best = Math.max(0, ...epochs.map((e) => e.valAccuracy ?? 0));
  const threshold = ACCURACY_THRESHOLDS.find((t) => t > best);
  if (threshold === undefined) return { kind: 'all-reached' };
  const validated = epochs.filter((e) => e.valAccuracy !== null);
  if (validated.length < ESTIMATE_MIN_EPOCHS) {
    return { kind: 'unknown', threshold, reason: `too early to tell: an estimate needs ${ESTIMATE_MIN_EPOCHS} validated epochs` };
  }
  const recent = validated.slice(-ESTIMATE_MIN_EPOCHS);
  const xs = recent.map((e) => Math.log(e.epoch));
  const ys = recent.map((e) => e.valAccuracy as number);
  const mx = mean(xs);
  const my = mean(ys);
  const slope = xs.reduce((s, x, i) => s + (x - mx) * ((ys[i] as number) - my), 0) / xs.reduce((s, x) => s + (x - mx) ** 2, 0);
  if (!(slope > 0)) return { kind: 'unknown', threshold, reason: 'the validation accuracy is not rising over the last epochs' };
  const epoch = Math.ceil(Math.exp(mx + (threshold - my) / slope));
  if (epoch > plannedEpochs) {
    return { kind: 'unknown', threshold, reason: `not within this run's ${plannedEpochs} epochs at the current rate` };
  }
  const elapsed = elapsedSeconds(epochs);
  const last = epochs.at(-1) as EpochRecord;
  const pace = mean(epochs.slice(-ESTIMATE_MIN_EPOCHS).map((e) => e.seconds));
  return { kind: 'estimate', threshold, epoch, seconds: (elapsed.at(-1) as number) + Math.max(0, epoch - last.epoch) * pace };
}

function mean(values: readonly number[]): number {
  return values.reduce((s, v) => s + v, 0) / values.length;
}
