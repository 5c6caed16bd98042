import { describe, expect, it } from 'vitest';
import type { BatchMetrics, EpochRecord } from '../run/records';
import type { PresetCost, RunPlan } from '../worker/protocol';
import { formatSeconds, runProgress } from './progress';

const step = (epoch: number, batchInEpoch: number, imagesPerSecond = 100): BatchMetrics => ({
  step: (epoch - 1) * 10 + batchInEpoch,
  epoch,
  batchInEpoch,
  batchesPerEpoch: 10,
  loss: 1,
  accuracy: 0.5,
  imagesPerSecond,
});
const record = (epoch: number): EpochRecord => ({
  epoch,
  trainLoss: 1,
  trainAccuracy: 0.5,
  valLoss: null,
  valAccuracy: null,
  seconds: 10,
  imagesPerSecond: 100,
  best: false,
});
/** 10 steps of 10 images an epoch; 30 validation and 60 test images. */
const plan = (epochs: number): RunPlan => ({
  preset: 'tiny',
  trainImages: 100,
  valImages: 30,
  testImages: 60,
  batchSize: 10,
  batchesPerEpoch: 10,
  epochs,
});
const tinyCost: PresetCost = { preset: 'tiny', backend: 'wasm', adapter: '', imagesPerSecond: 50, batchSize: 10, timedSteps: 5 };
const base = { steps: [], epochs: [], status: 'training' as const, startedAt: 0, presetCosts: {} };

describe('runProgress', () => {
  it('knows nothing before the first report when this preset was not measured', () => {
    const p = runProgress({ ...base, startedAt: 1000, totalEpochs: 4, plan: plan(4) }, 3000);
    expect(p).toMatchObject({ currentEpoch: 0, runFraction: 0, elapsedSeconds: 2 });
    expect(p.etaSeconds).toBeNaN();
  });

  it('estimates from the first step on with the pace measured for the preset on this device', () => {
    // 40 steps of 10 images at 50 images/s = 8 s, plus 4 × 30 + 60 evaluation images at 150 images/s = 1.2 s.
    const p = runProgress({ ...base, totalEpochs: 4, plan: plan(4), presetCosts: { tiny: tinyCost } }, 500);
    expect(p.etaSeconds).toBeCloseTo(9.2);
  });

  it('then follows the run’s own recent pace', () => {
    // Epoch 1 done, epoch 2 at step 14 of 20: 6 steps of 10 images at 200 images/s = 0.3 s, plus 30 + 60 images at 600 images/s.
    const steps = [step(1, 10, 100), step(2, 4, 300)];
    const p = runProgress({ ...base, steps, epochs: [record(1)], totalEpochs: 2, plan: plan(2), presetCosts: { tiny: tinyCost } }, 30_000);
    expect(p.currentEpoch).toBe(2);
    expect(p.epochFraction).toBeCloseTo(0.5);
    expect(p.runFraction).toBeCloseTo(0.75);
    expect(p.etaSeconds).toBeCloseTo(0.3 + 90 / 600);
  });

  it('gives no estimate while paused, and shows a finished epoch as whole', () => {
    const p = runProgress({ ...base, steps: [step(1, 10)], epochs: [record(1)], status: 'paused', totalEpochs: 2, plan: plan(2) }, 10_000);
    expect(p).toMatchObject({ currentEpoch: 1, epochFraction: 1, runFraction: 0.5 });
    expect(p.etaSeconds).toBeNaN();
  });
});

describe('formatSeconds', () => {
  it('says durations the way people do', () => {
    expect(formatSeconds(42.4)).toBe('42 s');
    expect(formatSeconds(425)).toBe('7 min 5 s');
    expect(formatSeconds(5820)).toBe('1 h 37 min');
    expect(formatSeconds(Number.NaN)).toBe('–');
    // A part that rounds up carries into the next unit.
    expect(formatSeconds(7199)).toBe('2 h 0 min');
    expect(formatSeconds(119.6)).toBe('2 min 0 s');
    expect(formatSeconds(3590)).toBe('1 h 0 min');
    expect(formatSeconds(3569)).toBe('59 min 29 s');
  });
});
