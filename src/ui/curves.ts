/**
 * Turns the metric history into chart series. The x axis is in epochs
 * (fractional for steps), so per-step training curves and per-epoch
 * validation points share one axis.
 */
import type { BatchMetrics, EpochRecord } from '../train/records';

export interface Point {
  x: number;
  y: number;
}

/** Exponential moving average with bias correction (as Adam's), so the first points are not pulled towards 0. */
export function smooth(values: number[], weight = 0.9): number[] {
  let average = 0;
  return values.map((v, i) => {
    average = weight * average + (1 - weight) * v;
    return average / (1 - weight ** (i + 1));
  });
}

/** Charts stay fast with a few hundred points: keep every k-th point of a long run, always the last one. */
export function thin<T>(points: T[], max = 400): T[] {
  if (points.length <= max) return points;
  const stride = Math.ceil(points.length / max);
  const kept = points.filter((_, i) => i % stride === 0);
  const last = points.at(-1) as T;
  if (kept.at(-1) !== last) kept.push(last);
  return kept;
}

export function curves(steps: BatchMetrics[], epochs: EpochRecord[]) {
  const x = steps.map((s) => s.epoch - 1 + s.batchInEpoch / s.batchesPerEpoch);
  const loss = smooth(steps.map((s) => s.loss));
  const accuracy = smooth(steps.map((s) => s.accuracy));
  const toPoints = (ys: number[]): Point[] => thin(ys.map((y, i) => ({ x: x[i] as number, y })));
  return {
    trainLoss: toPoints(loss),
    trainAccuracy: toPoints(accuracy),
    valLoss: epochs.flatMap((e) => (e.valLoss === null ? [] : [{ x: e.epoch, y: e.valLoss }])),
    valAccuracy: epochs.flatMap((e) => (e.valAccuracy === null ? [] : [{ x: e.epoch, y: e.valAccuracy }])),
  };
}
