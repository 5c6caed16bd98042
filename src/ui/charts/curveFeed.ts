/**
 * The points of a live loss or accuracy chart, fed to its vega view as
 * changesets: a metric report adds points, it never redraws the chart from
 * scratch. Training is drawn per report (every few steps), raw and smoothed;
 * validation once per epoch; all on one x axis in epochs (fractional for
 * steps), so both share the axis.
 */
import type { BatchMetrics, EpochRecord } from '../../run/records';

export type Metric = 'loss' | 'accuracy';

export interface CurvePoint {
  /** Unit: epochs since the start (epoch 1 spans 0–1). */
  x: number;
  y: number;
  series: 'training' | 'validation';
  /** `raw`: the report's mean as measured; `smoothed`: its moving average; `epoch`: a validation point. */
  kind: 'raw' | 'smoothed' | 'epoch';
}

/** Exponential moving average with bias correction (as Adam's), so the first points are not pulled towards 0. */
export function smooth(values: readonly number[], weight = 0.9): number[] {
  let average = 0;
  return values.map((v, i) => {
    average = weight * average + (1 - weight) * v;
    return average / (1 - weight ** (i + 1));
  });
}

/** Training reports drawn at most, per line; a longer run keeps every 2nd, 4th, … report. */
export const MAX_STEP_POINTS = 1500;

export interface CurveUpdate {
  /** True: `points` replace everything drawn (a new run, or a coarser stride); else they are added. */
  reset: boolean;
  points: CurvePoint[];
}

/** Position on the x axis of a training report: the fraction of epochs done. */
export const stepX = (s: BatchMetrics) => s.epoch - 1 + s.batchInEpoch / s.batchesPerEpoch;

/** Every `stride`-th report (reports 0, stride, 2·stride, …), so thinning a growing run only ever appends. */
export function strideFor(reports: number, max = MAX_STEP_POINTS): number {
  let stride = 1;
  while (Math.ceil(reports / stride) > max) stride *= 2;
  return stride;
}

function stepPoints(steps: readonly BatchMetrics[], metric: Metric, from: number, stride: number): CurvePoint[] {
  const smoothed = smooth(steps.map((s) => s[metric]));
  const points: CurvePoint[] = [];
  for (let i = Math.ceil(from / stride) * stride; i < steps.length; i += stride) {
    const step = steps[i] as BatchMetrics;
    const x = stepX(step);
    points.push({ x, y: step[metric], series: 'training', kind: 'raw' });
    points.push({ x, y: smoothed[i] as number, series: 'training', kind: 'smoothed' });
  }
  return points;
}

function epochPoints(epochs: readonly EpochRecord[], metric: Metric, from: number): CurvePoint[] {
  const key = metric === 'loss' ? 'valLoss' : 'valAccuracy';
  return epochs.slice(from).flatMap((e) => {
    const y = e[key];
    return y === null ? [] : [{ x: e.epoch, y, series: 'validation' as const, kind: 'epoch' as const }];
  });
}

/** All points of a run, as `CurveFeed` would have fed them by now. */
export function allPoints(steps: readonly BatchMetrics[], epochs: readonly EpochRecord[], metric: Metric): CurvePoint[] {
  return [...stepPoints(steps, metric, 0, strideFor(steps.length)), ...epochPoints(epochs, metric, 0)];
}

/**
 * Remembers what a chart has been given and hands out only what is new. The
 * smoothing is causal (a point depends on earlier reports only), so a point
 * once drawn never changes.
 */
export class CurveFeed {
  /** Nothing given yet: the first update draws everything. */
  private started = false;
  private steps = 0;
  private epochs = 0;
  private stride = 1;
  /** The arrays' first elements: a new run (or a restored one) starts new arrays. */
  private firstStep: BatchMetrics | undefined;
  private firstEpoch: EpochRecord | undefined;

  constructor(private readonly metric: Metric) {}

  /** What to add (or, after a reset, to draw instead); null when nothing changed. */
  update(steps: readonly BatchMetrics[], epochs: readonly EpochRecord[]): CurveUpdate | null {
    const stride = strideFor(steps.length);
    const sameRun =
      this.started &&
      steps.length >= this.steps &&
      epochs.length >= this.epochs &&
      (this.steps === 0 || steps[0] === this.firstStep) &&
      (this.epochs === 0 || epochs[0] === this.firstEpoch);
    const reset = !sameRun || stride !== this.stride;
    if (!reset && steps.length === this.steps && epochs.length === this.epochs) return null;
    const points = reset
      ? allPoints(steps, epochs, this.metric)
      : [...stepPoints(steps, this.metric, this.steps, stride), ...epochPoints(epochs, this.metric, this.epochs)];
    this.started = true;
    this.steps = steps.length;
    this.epochs = epochs.length;
    this.stride = stride;
    this.firstStep = steps[0];
    this.firstEpoch = epochs[0];
    return { reset, points };
  }
}
