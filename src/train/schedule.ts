/**
 * Learning-rate schedules as pure functions of the step: a rerun, a resumed
 * run and a test all get the same rate for the same step, and no state has to
 * be carried (or saved) between steps.
 */

/** A piecewise-linear "triangle": warm up linearly to the peak, then decay linearly to the end. */
export interface WarmupDecay {
  /** Highest rate, reached at the end of the warm-up. Unit: dimensionless step size, > 0. */
  peak: number;
  /** Share of all steps spent warming up. Unit: fraction, 0 … 1 (0 = start at the peak). */
  warmupFraction: number;
  /** Rate of step 0 as a share of the peak. Unit: fraction, 0 … 1. */
  startFactor: number;
  /** Rate of the last step as a share of the peak. Unit: fraction, 0 … 1. */
  endFactor: number;
}

/**
 * The rate for optimizer step `step` (0-based) of a run of `totalSteps` steps.
 *
 * Warm-up covers steps 0 … w with w = round(warmupFraction · (totalSteps − 1)):
 * step 0 gets startFactor · peak, step w the peak. The decay then runs from the
 * peak at step w to endFactor · peak at the last step, totalSteps − 1. Steps
 * past the end (a run extended by hand) keep the final rate.
 */
export function warmupDecayRate(step: number, totalSteps: number, schedule: WarmupDecay): number {
  checkSchedule(schedule);
  if (!Number.isInteger(totalSteps) || totalSteps < 1) throw new RangeError(`totalSteps must be a whole number ≥ 1, got ${totalSteps}`);
  if (!Number.isInteger(step) || step < 0) throw new RangeError(`step must be a whole number ≥ 0, got ${step}`);
  const { peak, warmupFraction, startFactor, endFactor } = schedule;
  const last = totalSteps - 1;
  if (last === 0) return peak;
  const s = Math.min(step, last);
  const warmupEnd = Math.round(warmupFraction * last);
  const lerp = (from: number, to: number, t: number) => from + (to - from) * t;
  if (s <= warmupEnd) return warmupEnd === 0 ? peak : peak * lerp(startFactor, 1, s / warmupEnd);
  return peak * lerp(1, endFactor, (s - warmupEnd) / (last - warmupEnd));
}

function checkSchedule({ peak, warmupFraction, startFactor, endFactor }: WarmupDecay): void {
  if (!(Number.isFinite(peak) && peak > 0)) throw new RangeError(`peak must be a number > 0, got ${peak}`);
  for (const [name, value] of Object.entries({ warmupFraction, startFactor, endFactor })) {
    if (!(value >= 0 && value <= 1)) throw new RangeError(`${name} must be in [0, 1], got ${value}`);
  }
}
