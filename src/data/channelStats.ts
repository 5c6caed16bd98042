/**
 * Per-channel statistics of 8-bit pixels, from a histogram: what a manifest's
 * `mean` and `std` hold, for CIFAR-10 (`npm run data`) and for a data set of
 * the user's own classes (ownDataSet.ts) alike. Pure.
 */
import { IMAGE } from './format';

/** Possible values of an 8-bit pixel; histogram bins per channel. */
export const LEVELS = 256;

/** Pixel-value counts per channel, `counts[c * 256 + v]`, from which mean and std are exact. */
export type ChannelHistogram = Float64Array;

/** Population mean and standard deviation per channel, on the 0–255 scale. */
export function channelStats(histogram: ChannelHistogram): { mean: [number, number, number]; std: [number, number, number] } {
  const mean: [number, number, number] = [0, 0, 0];
  const std: [number, number, number] = [0, 0, 0];
  for (let c = 0; c < IMAGE.channels; c++) {
    let n = 0;
    let sum = 0;
    for (let v = 0; v < LEVELS; v++) {
      const k = histogram[c * LEVELS + v] ?? 0;
      n += k;
      sum += k * v;
    }
    if (n === 0) continue;
    const m = sum / n;
    // Two passes over 256 bins: exact enough, and no cancellation from Σx² − n·m².
    let squares = 0;
    for (let v = 0; v < LEVELS; v++) squares += (histogram[c * LEVELS + v] ?? 0) * (v - m) ** 2;
    mean[c] = m;
    std[c] = Math.sqrt(squares / n);
  }
  return { mean, std };
}
