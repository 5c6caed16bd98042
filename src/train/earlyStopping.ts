/**
 * Early stopping on validation LOSS (lower is better). Loss rather than
 * accuracy because it keeps improving in small steps after accuracy has
 * plateaued at a whole number of images, so it detects overfitting earlier and
 * ties are rare.
 */
export interface EarlyStoppingDecision {
  /** 1-based epoch with the lowest validation loss so far; null while no loss has been finite. */
  bestEpoch: number | null;
  /** The latest epoch is a new best (strictly lower: a tie keeps the earlier, cheaper epoch). */
  improved: boolean;
  /** `patience` epochs have passed since the best one; always false when patience is 0. */
  stop: boolean;
}

/** `valLosses[k]` is epoch k + 1's validation loss. Pure: the caller keeps the list. */
export function earlyStopping(valLosses: readonly number[], patience: number): EarlyStoppingDecision {
  if (valLosses.length === 0) throw new RangeError('earlyStopping needs at least one epoch');
  if (!Number.isInteger(patience) || patience < 0) throw new RangeError(`patience must be a whole number ≥ 0, got ${patience}`);
  let bestEpoch: number | null = null;
  let bestLoss = Number.POSITIVE_INFINITY;
  for (let k = 0; k < valLosses.length; k++) {
    const loss = valLosses[k] as number;
    // NaN compares false, so a diverged epoch never becomes the best.
    if (loss < bestLoss) {
      bestLoss = loss;
      bestEpoch = k + 1;
    }
  }
  const last = valLosses.length;
  return {
    bestEpoch,
    improved: bestEpoch === last,
    stop: patience > 0 && last - (bestEpoch ?? 0) >= patience,
  };
}
