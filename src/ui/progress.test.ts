import { describe, expect, it } from 'vitest';
import type { BatchMetrics, EpochRecord } from '../train/records';
import { runProgress } from './progress';

const step = (epoch: number, batchInEpoch: number): BatchMetrics => ({
  step: (epoch - 1) * 10 + batchInEpoch,
  epoch,
  batchInEpoch,
  batchesPerEpoch: 10,
  loss: 1,
  accuracy: 0.5,
  imagesPerSecond: 100,
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

describe('runProgress', () => {
  it('knows nothing before the first report', () => {
    const p = runProgress({ steps: [], epochs: [], status: 'training', startedAt: 1000, totalEpochs: 4 }, 3000);
    expect(p).toMatchObject({ currentEpoch: 0, runFraction: 0, elapsedSeconds: 2 });
    expect(p.etaSeconds).toBeNaN();
  });

  it('estimates the time left at the pace so far', () => {
    // Epoch 1 done, epoch 2 at batch 4 of 10 (the 5th is running): 1.5 of 4 epochs in 30 s.
    const p = runProgress(
      { steps: [step(1, 10), step(2, 4)], epochs: [record(1)], status: 'training', startedAt: 0, totalEpochs: 4 },
      30_000,
    );
    expect(p.currentEpoch).toBe(2);
    expect(p.epochFraction).toBeCloseTo(0.5);
    expect(p.runFraction).toBeCloseTo(1.5 / 4);
    expect(p.etaSeconds).toBeCloseTo(50);
  });

  it('gives no estimate while paused, and shows a finished epoch as whole', () => {
    const p = runProgress({ steps: [step(1, 10)], epochs: [record(1)], status: 'paused', startedAt: 0, totalEpochs: 2 }, 10_000);
    expect(p).toMatchObject({ currentEpoch: 1, epochFraction: 1, runFraction: 0.5 });
    expect(p.etaSeconds).toBeNaN();
  });
});
