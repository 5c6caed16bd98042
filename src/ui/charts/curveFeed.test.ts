import { describe, expect, it } from 'vitest';
import type { BatchMetrics, EpochRecord } from '../../run/records';
import { allPoints, CurveFeed, MAX_STEP_POINTS, smooth, strideFor, type CurvePoint } from './curveFeed';

const BATCHES = 20;
const step = (i: number): BatchMetrics => ({
  step: (i + 1) * 2,
  epoch: Math.floor((i * 2) / BATCHES) + 1,
  batchInEpoch: ((i * 2) % BATCHES) + 2,
  batchesPerEpoch: BATCHES,
  loss: 2 - i * 0.01 + (i % 3) * 0.05,
  accuracy: 0.1 + i * 0.005,
  imagesPerSecond: 100,
});
const epoch = (n: number): EpochRecord => ({
  epoch: n,
  trainLoss: 1,
  trainAccuracy: 0.5,
  valLoss: 1.5 - n * 0.1,
  valAccuracy: 0.3 + n * 0.05,
  seconds: 1,
  imagesPerSecond: 100,
  best: true,
});
const steps = (n: number) => Array.from({ length: n }, (_, i) => step(i));
const epochs = (n: number) => Array.from({ length: n }, (_, i) => epoch(i + 1));

/** Replays updates the way a vega view applies them. */
function replay(feed: CurveFeed, history: [BatchMetrics[], EpochRecord[]][]): CurvePoint[] {
  let drawn: CurvePoint[] = [];
  for (const [s, e] of history) {
    const update = feed.update(s, e);
    if (update) drawn = update.reset ? update.points : drawn.concat(update.points);
  }
  return drawn;
}

describe('CurveFeed', () => {
  it('adds only the new points, which together equal the whole run drawn at once', () => {
    const all = steps(35);
    const ep = epochs(3);
    const feed = new CurveFeed('loss');
    const first = feed.update(all.slice(0, 10), ep.slice(0, 1));
    expect(first?.reset).toBe(true);
    const second = feed.update(all.slice(0, 25), ep.slice(0, 2));
    expect(second?.reset).toBe(false);
    expect(second?.points.filter((p) => p.kind === 'raw')).toHaveLength(15);
    expect(second?.points.filter((p) => p.series === 'validation')).toEqual([{ x: 2, y: 1.3, series: 'validation', kind: 'epoch' }]);
    expect(feed.update(all.slice(0, 25), ep.slice(0, 2))).toBeNull();

    const fresh = new CurveFeed('loss');
    const drawn = replay(fresh, [
      [all.slice(0, 10), ep.slice(0, 1)],
      [all.slice(0, 25), ep.slice(0, 2)],
      [all, ep],
    ]);
    const byPosition = (a: CurvePoint, b: CurvePoint) => a.x - b.x || a.kind.localeCompare(b.kind);
    expect(drawn.sort(byPosition)).toEqual(allPoints(all, ep, 'loss').sort(byPosition));
  });

  it('draws training per report, raw and smoothed, on an x axis in epochs', () => {
    const points = allPoints(steps(3), [], 'accuracy');
    expect(points.map((p) => [p.x, p.kind])).toEqual([
      [0.1, 'raw'],
      [0.1, 'smoothed'],
      [0.2, 'raw'],
      [0.2, 'smoothed'],
      [0.3, 'raw'],
      [0.3, 'smoothed'],
    ]);
    // The first smoothed point equals the first report (bias-corrected average); later ones lag behind the rising raw values.
    expect(points[1]?.y).toBeCloseTo(0.1, 10);
    expect(points[5]?.y).toBeLessThan(points[4]?.y as number);
  });

  it('starts over for a new run, even one of the same length', () => {
    const feed = new CurveFeed('loss');
    feed.update(steps(10), epochs(1));
    const again = feed.update(steps(10), epochs(1));
    expect(again?.reset).toBe(true);
    expect(feed.update([], [])?.reset).toBe(true);
  });

  it('thins a long run by doubling strides, redrawing only when the stride changes', () => {
    expect(strideFor(MAX_STEP_POINTS)).toBe(1);
    expect(strideFor(MAX_STEP_POINTS + 1)).toBe(2);
    expect(strideFor(4 * MAX_STEP_POINTS + 1)).toBe(8);
    const all = steps(MAX_STEP_POINTS + 10);
    const feed = new CurveFeed('loss');
    expect(feed.update(all.slice(0, MAX_STEP_POINTS), [])?.reset).toBe(true);
    const coarser = feed.update(all.slice(0, MAX_STEP_POINTS + 2), []);
    expect(coarser?.reset).toBe(true);
    expect(coarser?.points.filter((p) => p.kind === 'raw')).toHaveLength(MAX_STEP_POINTS / 2 + 1);
    const next = feed.update(all, []);
    expect(next?.reset).toBe(false);
    expect(next?.points.filter((p) => p.kind === 'raw').map((p) => p.x)).toEqual(
      [MAX_STEP_POINTS + 2, MAX_STEP_POINTS + 4, MAX_STEP_POINTS + 6, MAX_STEP_POINTS + 8].map(
        (i) => allPoints([step(i)], [], 'loss')[0]?.x,
      ),
    );
  });
});

describe('smooth', () => {
  it('starts at the first value (bias-corrected) and follows a constant exactly', () => {
    expect(smooth([5, 5, 5])).toEqual([5, 5, 5].map((v) => expect.closeTo(v, 10)));
  });
  it('lags behind a jump', () => {
    const s = smooth([0, 0, 10], 0.5);
    expect(s[2]).toBeGreaterThan(0);
    expect(s[2]).toBeLessThan(10);
  });
});
