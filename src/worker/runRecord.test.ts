import { describe, expect, it } from 'vitest';
import type { EpochRecord } from '../run/records';
import { parseSettings } from '../run/settings';
import { runRecord } from './runRecord';

const epoch = (n: number, seconds: number, imagesPerSecond: number): EpochRecord => ({
  epoch: n,
  trainLoss: 1,
  trainAccuracy: 0.5,
  valLoss: 1,
  valAccuracy: 0.5,
  seconds,
  imagesPerSecond,
  best: false,
});

describe('runRecord', () => {
  it('sums the time, takes the throughput over all training images, and puts every epoch in one browser segment', () => {
    const settings = parseSettings({ preset: 'tiny', epochs: '2' });
    // 1,000 images an epoch: 10 s of training at 100 images/s, then 5 s at 200 images/s.
    const record = runRecord(settings, [epoch(1, 12, 100), epoch(2, 6, 200)], 'wasm', 1000);
    expect(record.seconds).toBe(18);
    expect(record.imagesPerSecond).toBeCloseTo(2000 / 15, 10);
    expect(record.segments).toEqual([{ fromEpoch: 1, toEpoch: 2, where: 'browser', detail: 'wasm' }]);
    expect(record.settings).toBe(settings);
    expect(record.backend).toBe('wasm');
  });

  it('a run stopped before its first epoch has no segment and no throughput', () => {
    const record = runRecord(parseSettings({}), [], 'webgl', 1000);
    expect(record).toMatchObject({ seconds: 0, imagesPerSecond: 0, segments: [] });
  });
});
