import type { EpochRecord, RunRecord } from '../run/records';
import type { Settings } from '../run/settings';

/**
 * A finished run's history for the library. Every epoch ran in this tab; a
 * run continued elsewhere (PyTorch) would add its own segment.
 */
export function runRecord(settings: Settings, epochs: EpochRecord[], backend: string, imagesPerEpoch: number): RunRecord {
  const seconds = epochs.reduce((sum, e) => sum + e.seconds, 0);
  // Each epoch's training time is its images over its throughput (validation excluded).
  const trainingSeconds = epochs.reduce((sum, e) => sum + (e.imagesPerSecond > 0 ? imagesPerEpoch / e.imagesPerSecond : 0), 0);
  const last = epochs.at(-1)?.epoch ?? 0;
  return {
    settings,
    epochs,
    backend,
    imagesPerSecond: trainingSeconds > 0 ? (imagesPerEpoch * epochs.length) / trainingSeconds : 0,
    seconds,
    segments: last > 0 ? [{ fromEpoch: 1, toEpoch: last, where: 'browser', detail: backend }] : [],
  };
}
