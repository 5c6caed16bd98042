import { describe, expect, it } from 'vitest';
import { PRESETS, type Preset } from '../model/config';
import type { PresetCost } from '../worker/protocol';
import {
  cachedCost,
  epochSeconds,
  fittingPreset,
  MEASURED_RUNS,
  minutesToGood,
  probeBatch,
  storeCost,
  trainImagesFor,
  type CostStore,
} from './presetCosts';

const cost = (preset: Preset, imagesPerSecond: number, batchSize = 64): PresetCost => ({
  preset,
  backend: 'wasm',
  adapter: 'SIMD, 2 threads',
  imagesPerSecond,
  batchSize,
  timedSteps: 3,
});

function memoryStore(): CostStore & { map: Map<string, string> } {
  const map = new Map<string, string>();
  return { map, getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, v) };
}

describe('preset costs', () => {
  it('measure on WASM at a batch of at most 256, on plain JavaScript at most 64, and on a GPU at the preset’s own', () => {
    expect(probeBatch('fast', 'wasm')).toBe(256);
    expect(probeBatch('quick', 'wasm')).toBe(256);
    expect(probeBatch('seed', 'wasm')).toBe(64);
    expect(probeBatch('quick', 'cpu')).toBe(64);
    expect(probeBatch('tiny', 'cpu')).toBe(64);
    expect(probeBatch('fast', 'webgpu')).toBe(512);
  });

  it('count the training images as the split and the limit make them', () => {
    expect(trainImagesFor({ validationShare: 0.1, trainLimit: 0 }, 50_000)).toBe(45_000);
    expect(trainImagesFor({ validationShare: 0.1, trainLimit: 5000 }, 50_000)).toBe(5000);
    expect(trainImagesFor({ validationShare: 0, trainLimit: 0 }, 50_000)).toBe(50_000);
  });

  it('time an epoch of full batches only, as the loop trains', () => {
    expect(epochSeconds({ imagesPerSecond: 100 }, 1000, 64)).toBeCloseTo(960 / 100);
  });

  it('pick the most capable preset whose run of its own length fits in 15 minutes, once all are settled', () => {
    // 45,000 images in 900 s: tiny and seed run 10 epochs at batch 64 (44,992 images each), so they need
    // 499.9 images/s; quick runs 9 of batch 256 (44,800 images each), so it needs 448 images/s.
    const all = (tiny: number, seed: number, quick: number | null, fast: number) => ({
      tiny: cost('tiny', tiny),
      seed: cost('seed', seed),
      quick: quick === null ? null : cost('quick', quick, 256),
      fast: cost('fast', fast, 512),
    });
    expect(fittingPreset({ tiny: cost('tiny', 1000), seed: cost('seed', 80) }, 45_000)).toBeNull();
    expect(fittingPreset(all(1000, 80, 150, 20), 45_000)).toBe('tiny');
    expect(fittingPreset(all(5000, 600, 150, 20), 45_000)).toBe('seed');
    // quick is preferred to seed where it fits, and fits at less than seed would need.
    expect(fittingPreset(all(5000, 600, 448, 20), 45_000)).toBe('quick');
    expect(fittingPreset(all(5000, 600, 447, 20), 45_000)).toBe('seed');
    expect(fittingPreset(all(5000, 480, 450, 20), 45_000)).toBe('quick');
    // Nothing fits: the cheapest measured one; an unmeasurable preset is passed over.
    expect(fittingPreset({ tiny: cost('tiny', 100), seed: null, quick: null, fast: cost('fast', 20) }, 45_000)).toBe('tiny');
    // A small run lets the bigger networks in (fast: 10 epochs of one 512-image batch).
    expect(fittingPreset(all(1000, 80, 50, 6), 1000)).toBe('fast');
  });

  it('are kept per backend, device and preset, and a damaged entry is ignored', () => {
    const store = memoryStore();
    storeCost(store, cost('seed', 77));
    expect(cachedCost(store, 'wasm', 'SIMD, 2 threads', 'seed')?.imagesPerSecond).toBe(77);
    expect(cachedCost(store, 'wasm', 'SIMD, 1 thread', 'seed')).toBeUndefined();
    expect(cachedCost(store, 'cpu', 'SIMD, 2 threads', 'seed')).toBeUndefined();
    for (const key of store.map.keys()) store.map.set(key, '{not json');
    expect(cachedCost(store, 'wasm', 'SIMD, 2 threads', 'seed')).toBeUndefined();
  });
});

describe('minutesToGood', () => {
  const run = { accuracy: 0.85, command: 'npm run train', date: '2026-12-06', imagesTo80: 600_000, trainedBy: 'tab' } as const;

  it('turns the measured images to 80 % into minutes at the speed measured here', () => {
    expect(minutesToGood(run, { imagesPerSecond: 250 })).toBe(40);
  });

  it('has no figure for a run that never reached it, an unmeasured preset or an unknown speed', () => {
    expect(minutesToGood({ ...run, imagesTo80: null }, { imagesPerSecond: 250 })).toBeNull();
    expect(minutesToGood(null, { imagesPerSecond: 250 })).toBeNull();
    expect(minutesToGood(run, null)).toBeNull();
    expect(minutesToGood(run, { imagesPerSecond: 0 })).toBeNull();
  });
});

describe('MEASURED_RUNS', () => {
  it('has a run for every preset, each with a command a user can type again, a date and who took its steps', () => {
    for (const preset of PRESETS) {
      const run = MEASURED_RUNS[preset];
      expect(run, preset).not.toBeNull();
      expect(run?.command).toMatch(/^npm run train -- --preset /);
      expect(run?.command).toContain(`--preset ${preset}`);
      expect(run?.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(run?.accuracy).toBeGreaterThan(0.1);
      expect(run?.accuracy).toBeLessThan(1);
    }
  });
});
