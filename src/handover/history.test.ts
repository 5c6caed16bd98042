import { describe, expect, it } from 'vitest';
import type { RunFile, RunSegment } from './runFile';
import type { EpochRecord } from '../run/records';
import {
  continuationMissing,
  earlierCopy,
  historyText,
  libraryName,
  moveMarkers,
  placesSuffix,
  recordFromRunFile,
  segmentDetail,
} from './history';
import { resolveRecipe } from '../run/recipe';
import { DEFAULT_SETTINGS } from '../run/settings';

const epoch = (n: number, imagesPerSecond = 100): EpochRecord => ({
  epoch: n,
  trainLoss: 2 - n / 10,
  trainAccuracy: 0.1 * n,
  valLoss: 2.1 - n / 10,
  valAccuracy: 0.1 * n,
  seconds: 10,
  imagesPerSecond,
  best: true,
});

const segment = (over: Partial<RunSegment>): RunSegment => ({
  fromEpoch: 1,
  toEpoch: 1,
  fromStep: 0,
  toStep: 31,
  engine: 'tfjs',
  backend: 'wasm',
  worldSize: 1,
  device: 'browser',
  detail: 'TensorFlow.js 4.22.0',
  endedAt: 0,
  ...over,
});

/** A tiny run: epoch 1 in a tab, epochs 2–3 in PyTorch on two processes. */
function cameBack(): RunFile {
  const torch = { engine: 'torch' as const, backend: 'gloo', worldSize: 2, device: 'cpu', detail: 'PyTorch 1.13.1' };
  return {
    format: 'cifar10-in-a-tab/run',
    version: 1,
    runId: 'run-1',
    preset: 'tiny',
    color: 'rgb',
    seed: 1,
    settings: { ...DEFAULT_SETTINGS, preset: 'tiny', epochs: 3 },
    recipe: resolveRecipe({ ...DEFAULT_SETTINGS, preset: 'tiny' }),
    classes: [],
    mean: [0, 0, 0],
    std: [1, 1, 1],
    model: 'm.json',
    epochsDone: 3,
    step: 93,
    stopped: false,
    optimizer: null,
    curves: { epochs: [epoch(1, 100), epoch(2, 400), epoch(3, 400)], steps: [] },
    segments: [segment({}), segment({ fromEpoch: 2, toEpoch: 3, fromStep: 31, toStep: 93, ...torch })],
  };
}

describe('run history across engines', () => {
  it('names where segments ran as the library and the charts say it', () => {
    expect(segmentDetail(segment({}))).toBe('wasm');
    expect(segmentDetail(segment({ device: 'node' }))).toBe('wasm, Node.js');
    expect(segmentDetail(segment({ worldSize: 2 }))).toBe('wasm, 2 workers');
    expect(segmentDetail(segment({ engine: 'torch', backend: 'gloo', worldSize: 2, device: 'cpu' }))).toBe('2 processes (gloo)');
    expect(segmentDetail(segment({ engine: 'torch', backend: 'nccl', worldSize: 8, device: 'cuda' }))).toBe('8 processes (nccl) on cuda');
    expect(segmentDetail(segment({ engine: 'torch', backend: 'none', worldSize: 1, device: 'cpu' }))).toBe('1 process (cpu)');
  });

  it('keeps every epoch of the run in one record, with a marker where it moved', () => {
    const earlier = { segments: [{ fromEpoch: 1, toEpoch: 1, where: 'browser' as const, detail: 'wasm (SIMD, 2 threads)' }] };
    const record = recordFromRunFile(cameBack(), earlier);
    expect(record.epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);
    expect(record.segments).toEqual([
      { fromEpoch: 1, toEpoch: 1, where: 'browser', detail: 'wasm (SIMD, 2 threads)' },
      { fromEpoch: 2, toEpoch: 3, where: 'torch', detail: '2 processes (gloo)' },
    ]);
    expect(record.backend).toBe('PyTorch gloo ×2');
    expect(record.seconds).toBe(30);
    // Equal images per epoch: 3 epochs over (1/100 + 2/400) s per image.
    expect(record.imagesPerSecond).toBeCloseTo(3 / (1 / 100 + 2 / 400), 9);
    expect(moveMarkers(record)).toEqual([{ epoch: 1.5, fromEpoch: 2, label: '→ PyTorch, 2 processes (gloo)' }]);
  });

  it('says in words where the epochs ran, a run trained whole in PyTorch or not yet trained included', () => {
    const moved = recordFromRunFile(cameBack());
    expect(historyText(moved)).toBe('epochs 1–1 in the tab (wasm), epochs 2–3 → PyTorch, 2 processes (gloo)');
    expect(placesSuffix(moved)).toBe(' · tab → PyTorch');
    // Handed over before its first step (npm run train --stop-after 0), then trained by PyTorch alone.
    const torch = { engine: 'torch' as const, backend: 'none', worldSize: 1, device: 'cpu', detail: 'PyTorch 1.13.1' };
    const whole = recordFromRunFile({ ...cameBack(), segments: [segment({ fromEpoch: 1, toEpoch: 3, toStep: 93, ...torch })] });
    expect(historyText(whole)).toBe('epochs 1–3 in PyTorch (1 process (cpu))');
    expect(placesSuffix(whole)).toBe(' · PyTorch');
    const tabOnly = recordFromRunFile({ ...cameBack(), segments: [segment({ toEpoch: 3, toStep: 93 })] });
    expect([historyText(tabOnly), placesSuffix(tabOnly)]).toEqual(['epochs 1–3 in the tab (wasm)', '']);
    const notYet = { segments: [] };
    expect([historyText(notYet), placesSuffix(notYet)]).toEqual(['no epoch trained yet', '']);
  });

  it('names a run in the library by preset, colour and epochs, with where it trained unless that was the tab alone', () => {
    const run = { preset: 'seed', color: 'rgb' };
    const tabOnly = { segments: [{ fromEpoch: 1, toEpoch: 12, where: 'browser' as const, detail: 'wasm' }] };
    expect(libraryName(run, 12, tabOnly)).toBe('seed · rgb · 12 epochs');
    expect(libraryName({ preset: 'tiny', color: 'gray' }, 1, tabOnly)).toBe('tiny · gray · 1 epoch');
    expect(libraryName(run, 3, recordFromRunFile(cameBack()))).toBe('seed · rgb · 3 epochs · tab → PyTorch');
    // A data set of the user's own is named; CIFAR-10 is the default, left unsaid.
    expect(libraryName({ preset: 'tiny', color: 'rgb' }, 2, tabOnly, 'leaves')).toBe('tiny · rgb · 2 epochs · on leaves');
  });

  it("replaces the library's earlier copy of the run only when its history is the run's beginning", () => {
    const run = cameBack();
    const copy = (id: string, runId: string, epochs: EpochRecord[]) => ({ id, run: { epochs, segments: [] }, continuation: { runId } });
    const tab = copy('tab', 'run-1', [epoch(1)]);
    const longer = copy('longer', 'run-1', [epoch(1), epoch(2)]);
    const other = copy('other', 'run-2', [epoch(1)]);
    const diverged = copy('diverged', 'run-1', [{ ...epoch(1), trainLoss: 5 }]);
    expect(earlierCopy([other, tab, diverged], run)?.id).toBe('tab');
    expect(earlierCopy([tab, longer], run)?.id).toBe('longer');
    expect(earlierCopy([other, diverged, { id: 'plain' }], run)).toBeNull();
    expect(earlierCopy([copy('ahead', 'run-1', [epoch(1), epoch(2), epoch(3), epoch(4)])], run)).toBeNull();
  });

  it('says why an entry cannot continue elsewhere', () => {
    expect(continuationMissing({ source: 'imported' })).toMatch(/plain model files/);
    expect(continuationMissing({ source: 'trained', run: {} })).toMatch(/optimizer state was not saved/);
    expect(continuationMissing({ source: 'trained', run: {}, continuation: {} })).toBeNull();
  });
});
