import { describe, expect, it } from 'vitest';
import type { LibraryEntry } from '../../store/library';
import type { EpochRecord } from '../../run/records';
import { parseSettings } from '../../run/settings';
import { comparable, compareMoves, comparePoints, compareRows, compareSpec, describeMoves, type ComparableEntry } from './compare';

const epoch = (n: number, valAccuracy: number | null): EpochRecord => ({
  epoch: n,
  trainLoss: 1,
  trainAccuracy: 0.4,
  valLoss: valAccuracy === null ? null : 2 - valAccuracy,
  valAccuracy,
  seconds: 10,
  imagesPerSecond: 100,
  best: false,
});

function entry(id: string, color: 'rgb' | 'gray', epochs: EpochRecord[]): LibraryEntry {
  const settings = parseSettings({ preset: 'tiny', color, epochs: String(epochs.length) });
  return {
    id,
    savedAt: 0,
    source: 'trained',
    name: `tiny · ${color} · ${epochs.length} epochs`,
    params: 1000,
    metadata: {
      version: 1,
      preset: 'tiny',
      color,
      classes: [],
      mean: [0, 0, 0],
      std: [1, 1, 1],
      testAccuracy: 0.42,
      epochs: epochs.length,
    },
    run: { settings, epochs, backend: 'wasm', imagesPerSecond: 123, seconds: 20, segments: [] },
  };
}

describe('compare runs', () => {
  const rgb = entry('a', 'rgb', [epoch(1, 0.3), epoch(2, 0.55)]);
  const gray = entry('b', 'gray', [epoch(1, 0.25), epoch(2, null), epoch(3, 0.35)]);
  const runs = [rgb, gray] as ComparableEntry[];

  it('only runs with a kept history can be compared', () => {
    const { run: _none, ...imported } = rgb;
    expect(comparable(rgb)).toBe(true);
    expect(comparable(imported)).toBe(false);
    expect(comparable({ ...rgb, run: { ...(rgb.run as ComparableEntry['run']), epochs: [] } })).toBe(false);
  });

  it('puts each run in a row: preset, colour, epochs, test accuracy, images/s, backend, time', () => {
    expect(compareRows(runs)).toEqual([
      {
        id: 'a',
        label: '1 · tiny · rgb · 2 epochs',
        preset: 'tiny',
        color: 'RGB',
        epochs: 2,
        testAccuracy: 0.42,
        imagesPerSecond: 123,
        backend: 'wasm',
        seconds: 20,
        // Records without elapsed time (as before this version): the epochs' own 10 s each, added up.
        timeToAccuracy: [{ threshold: 0.5, epoch: 2, seconds: 20, images: null }],
      },
      {
        id: 'b',
        label: '2 · tiny · gray · 3 epochs',
        preset: 'tiny',
        color: 'grayscale',
        epochs: 3,
        testAccuracy: 0.42,
        imagesPerSecond: 123,
        backend: 'wasm',
        seconds: 20,
        timeToAccuracy: [],
      },
    ]);
  });

  it('overlays the validation curves, skipping epochs without validation', () => {
    expect(comparePoints(runs, 'valAccuracy')).toEqual([
      { run: '1 · tiny · rgb · 2 epochs', epoch: 1, minutes: 10 / 60, value: 0.3 },
      { run: '1 · tiny · rgb · 2 epochs', epoch: 2, minutes: 20 / 60, value: 0.55 },
      { run: '2 · tiny · gray · 3 epochs', epoch: 1, minutes: 10 / 60, value: 0.25 },
      { run: '2 · tiny · gray · 3 epochs', epoch: 3, minutes: 30 / 60, value: 0.35 },
    ]);
    expect(comparePoints(runs, 'valLoss')[0]?.value).toBeCloseTo(1.7, 10);
  });

  it('marks where a run moved between engines, between the epochs on either side, in the chart and in words', () => {
    const moved = entry('m', 'rgb', [epoch(1, 0.3), epoch(2, 0.4), epoch(3, 0.45)]) as ComparableEntry;
    moved.run.segments = [
      { fromEpoch: 1, toEpoch: 1, where: 'browser', detail: 'wasm' },
      { fromEpoch: 2, toEpoch: 3, where: 'torch', detail: '2 processes (gloo)' },
    ];
    const stayed = entry('s', 'gray', [epoch(1, 0.2)]) as ComparableEntry;
    stayed.run.segments = [{ fromEpoch: 1, toEpoch: 1, where: 'browser', detail: 'wasm' }];
    const moves = compareMoves([stayed, moved]);
    expect(moves).toEqual([
      { run: '2 · tiny · rgb · 3 epochs', epoch: 1.5, fromEpoch: 2, minutes: 10 / 60, label: '→ PyTorch, 2 processes (gloo)' },
    ]);
    expect(describeMoves(moves)).toBe('2 · tiny · rgb · 3 epochs moved → PyTorch, 2 processes (gloo) before epoch 2');
    const spec = JSON.stringify(compareSpec(['a', 'b'], 'valAccuracy', 'light'));
    expect(spec).toContain('"rule"');
    expect(spec).toContain('"name":"moves"');
  });

  it('draws the curves against minutes from Train when asked, the moves too', () => {
    const byEpoch = compareSpec(['a'], 'valAccuracy', 'light') as { layer: { encoding: { x: { field: string } } }[] };
    const byTime = compareSpec(['a'], 'valAccuracy', 'light', 'minutes') as typeof byEpoch;
    expect(byEpoch.layer.map((l) => l.encoding.x.field)).toEqual(['epoch', 'epoch', 'epoch', 'epoch']);
    expect(byTime.layer.map((l) => l.encoding.x.field)).toEqual(['minutes', 'minutes', 'minutes', 'minutes']);
  });

  it('takes the recorded time from Train where the epochs carry it', () => {
    const timed = entry('t', 'rgb', [
      { ...epoch(1, 0.52), elapsedSeconds: 45, images: 900 },
      { ...epoch(2, 0.61), elapsedSeconds: 75, images: 1800 },
    ]) as ComparableEntry;
    expect(compareRows([timed])[0]?.timeToAccuracy).toEqual([
      { threshold: 0.5, epoch: 1, seconds: 45, images: 900 },
      { threshold: 0.6, epoch: 2, seconds: 75, images: 1800 },
    ]);
    expect(comparePoints([timed], 'valAccuracy').map((p) => p.minutes)).toEqual([0.75, 1.25]);
  });
});
