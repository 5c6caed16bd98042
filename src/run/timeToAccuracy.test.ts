import { describe, expect, it } from 'vitest';
import type { EpochRecord } from './records';
import { elapsedSeconds, estimateNext, timeToAccuracy } from './timeToAccuracy';

/** Epoch records with the given validation accuracies, 100 s and 1,000 images an epoch, 30 s of set-up before the first. */
function epochs(accuracies: (number | null)[], withElapsed = true): EpochRecord[] {
  return accuracies.map((valAccuracy, i) => ({
    epoch: i + 1,
    trainLoss: 1,
    trainAccuracy: 0.5,
    valLoss: valAccuracy === null ? null : 1,
    valAccuracy,
    seconds: 100,
    imagesPerSecond: 10,
    best: false,
    ...(withElapsed ? { elapsedSeconds: 30 + 100 * (i + 1), images: 1000 * (i + 1) } : {}),
  }));
}

describe('timeToAccuracy', () => {
  it('gives the first epoch at or above each threshold, with its time and images', () => {
    expect(timeToAccuracy(epochs([0.42, 0.55, 0.61, 0.6, 0.71]))).toEqual([
      { threshold: 0.5, epoch: 2, seconds: 230, images: 2000 },
      { threshold: 0.6, epoch: 3, seconds: 330, images: 3000 },
      { threshold: 0.7, epoch: 5, seconds: 530, images: 5000 },
    ]);
  });

  it('counts an accuracy exactly at a threshold as reached', () => {
    expect(timeToAccuracy(epochs([0.8])).map((r) => r.threshold)).toEqual([0.5, 0.6, 0.7, 0.8]);
  });

  it('skips epochs without validation and leaves out what was never reached', () => {
    expect(timeToAccuracy(epochs([null, 0.3]))).toEqual([]);
    expect(timeToAccuracy(epochs([null, 0.52]))).toEqual([{ threshold: 0.5, epoch: 2, seconds: 230, images: 2000 }]);
  });

  it('adds up the epochs of records that carry no elapsed time (earlier versions, PyTorch), images unknown', () => {
    const mixed = [...epochs([0.4, 0.45]), ...epochs([0.5, 0.62], false).map((e, i) => ({ ...e, epoch: 3 + i }))];
    expect(elapsedSeconds(mixed)).toEqual([130, 230, 330, 430]);
    expect(timeToAccuracy(mixed)).toEqual([
      { threshold: 0.5, epoch: 3, seconds: 330, images: null },
      { threshold: 0.6, epoch: 4, seconds: 430, images: null },
    ]);
  });
});

describe('estimateNext', () => {
  it('says it is too early with fewer than three validated epochs', () => {
    expect(estimateNext(epochs([0.3, null, 0.4]), 10)).toEqual({
      kind: 'unknown',
      threshold: 0.5,
      reason: 'too early to tell: an estimate needs 3 validated epochs',
    });
  });

  it('extends the curve in log(epoch) to the next threshold and times the epochs to go at the recent pace', () => {
    // 0.4, 0.5, 0.56 over epochs 1–3 lies close to 0.4 + 0.146·ln(epoch): 0.6 at e^(1.37) ≈ epoch 4.
    const next = estimateNext(epochs([0.4, 0.5, 0.56]), 20);
    expect(next).toEqual({ kind: 'estimate', threshold: 0.6, epoch: 4, seconds: 330 + 100 });
  });

  it('refuses a guess past the planned epochs or on a curve that does not rise', () => {
    expect(estimateNext(epochs([0.4, 0.5, 0.56]), 3)).toEqual({
      kind: 'unknown',
      threshold: 0.6,
      reason: "not within this run's 3 epochs at the current rate",
    });
    expect(estimateNext(epochs([0.55, 0.55, 0.54]), 50)).toMatchObject({ kind: 'unknown', threshold: 0.6 });
  });

  it('has nothing left once every threshold is reached', () => {
    expect(estimateNext(epochs([0.95]), 10)).toEqual({ kind: 'all-reached' });
  });
});
