/**
 * One run's history across engines: a hand-over's run.json (tab epochs, then
 * PyTorch's) as the library's RunRecord, matched with the library's earlier
 * copy of the same run, and the labels the charts put where the run moved.
 * Pure: unit-tested in Node.
 */
import type { OptimizerState, RunFile, RunSegment as HandoverSegment } from './runFile';
import type { EpochRecord, RunRecord, RunSegment } from '../run/records';

/**
 * What a library entry keeps, beyond its model, settings and epochs, to hand
 * its run over again ("Continue elsewhere"): run.json's remaining fields. The
 * optimizer's bytes and the step metrics live with the weights (LibraryData).
 */
export interface Continuation {
  /** Stays the same wherever the run goes. */
  runId: string;
  /** Optimizer steps done. */
  step: number;
  /** Early stopping had ended the run. */
  stopped: boolean;
  /** null: the run's optimizer state is not available (the hand-over had none). */
  optimizer: OptimizerState | null;
  /** Where each range of epochs ran, covering every epoch once. */
  segments: HandoverSegment[];
}

/** A library entry as far as matching runs goes. */
export interface KnownRun {
  id: string;
  run?: Pick<RunRecord, 'epochs' | 'segments'>;
  continuation?: Pick<Continuation, 'runId'>;
}

/** The library's words for a segment: "wasm" in a tab, "2 processes (gloo)" in PyTorch. */
export function segmentDetail(segment: HandoverSegment): string {
  if (segment.engine === 'tfjs') {
    const workers = segment.worldSize > 1 ? `, ${segment.worldSize} workers` : '';
    return `${segment.backend}${workers}${segment.device === 'node' ? ', Node.js' : ''}`;
  }
  const where = segment.device === 'cpu' ? '' : ` on ${segment.device}`;
  if (segment.worldSize === 1 && segment.backend === 'none') return `1 process${where || ' (cpu)'}`;
  return `${segment.worldSize} process${segment.worldSize === 1 ? '' : 'es'} (${segment.backend})${where}`;
}

/** What a chart writes at the boundary where a segment begins, e.g. "→ PyTorch, 2 processes (gloo)". */
export function moveLabel(segment: Pick<RunSegment, 'where' | 'detail'>): string {
  return segment.where === 'torch' ? `→ PyTorch, ${segment.detail}` : `→ the tab, ${segment.detail}`;
}

/**
 * Where each range of epochs ran, in words: "epochs 1–1 in the tab (wasm), epochs 2–3 → PyTorch, 2 processes
 * (gloo)". A run trained by PyTorch from its first step starts "in PyTorch"; one with no epoch yet says so.
 */
export function historyText(record: Pick<RunRecord, 'segments'>): string {
  if (record.segments.length === 0) return 'no epoch trained yet';
  return record.segments
    .map((s, i) => {
      const where = i > 0 ? moveLabel(s) : s.where === 'torch' ? `in PyTorch (${s.detail})` : `in the tab (${s.detail})`;
      return `epochs ${s.fromEpoch}–${s.toEpoch} ${where}`;
    })
    .join(', ');
}

/** The library name's tail for where a run trained: " · tab → PyTorch", " · PyTorch" alone; none for the tab alone. */
export function placesSuffix(record: Pick<RunRecord, 'segments'>): string {
  const places = record.segments.map((s) => (s.where === 'torch' ? 'PyTorch' : 'tab'));
  return places.length > 1 || places[0] === 'PyTorch' ? ` · ${places.join(' → ')}` : '';
}

/**
 * A run's name in the library: "seed · rgb · 12 epochs", with where it trained when that was not the tab alone,
 * and the data set when it was the user's own ("· on leaves").
 */
export function libraryName(
  run: { preset: string; color: string },
  epochs: number,
  record: Pick<RunRecord, 'segments'>,
  dataSet?: string,
): string {
  const on = dataSet === undefined ? '' : ` · on ${dataSet}`;
  return `${run.preset} · ${run.color} · ${epochs} epoch${epochs === 1 ? '' : 's'}${placesSuffix(record)}${on}`;
}

/** Where a run moved: one marker per segment after the first, between its first epoch and the one before. */
export function moveMarkers(record: Pick<RunRecord, 'segments'>): { epoch: number; fromEpoch: number; label: string }[] {
  return record.segments.slice(1).map((s) => ({ epoch: s.fromEpoch - 0.5, fromEpoch: s.fromEpoch, label: moveLabel(s) }));
}

/** The library's record of a run that came back: every epoch, wherever it ran, in one history. */
export function recordFromRunFile(run: RunFile, earlier?: Pick<RunRecord, 'segments'>): RunRecord {
  const epochs = run.curves.epochs;
  const last = run.segments.at(-1);
  // Each epoch's training images over its throughput; the runs' epochs have equal images (one settings.trainLimit).
  const perImage = epochs.reduce((sum, e) => sum + (e.imagesPerSecond > 0 ? 1 / e.imagesPerSecond : 0), 0);
  return {
    settings: run.settings,
    epochs,
    backend: !last ? '' : last.engine === 'torch' ? `PyTorch ${last.backend} ×${last.worldSize}` : last.backend,
    imagesPerSecond: perImage > 0 ? epochs.filter((e) => e.imagesPerSecond > 0).length / perImage : 0,
    seconds: epochs.reduce((sum, e) => sum + e.seconds, 0),
    segments: run.segments.map((s): RunSegment => {
      // The tab's own words for its segment (its adapter) where the library still has them.
      const same = earlier?.segments.find((e) => e.fromEpoch === s.fromEpoch && e.toEpoch === s.toEpoch && e.where === 'browser');
      const where = s.engine === 'torch' ? 'torch' : 'browser';
      return { fromEpoch: s.fromEpoch, toEpoch: s.toEpoch, where, detail: where === 'browser' && same ? same.detail : segmentDetail(s) };
    }),
  };
}

/**
 * The library's earlier copy of this run, which the returning run replaces:
 * the entry with the same runId whose epochs are the first epochs of the run
 * file, number for number (the longest such). An entry whose history
 * disagrees is a different run and stays.
 */
export function earlierCopy<T extends KnownRun>(library: readonly T[], run: RunFile): T | null {
  let found: T | null = null;
  for (const entry of library) {
    if (entry.continuation?.runId !== run.runId || !entry.run) continue;
    if (!isPrefix(entry.run.epochs, run.curves.epochs)) continue;
    if (!found || (found.run?.epochs.length ?? 0) < entry.run.epochs.length) found = entry;
  }
  return found;
}

function isPrefix(head: readonly EpochRecord[], all: readonly EpochRecord[]): boolean {
  if (head.length > all.length) return false;
  return head.every((e, i) => {
    const o = all[i] as EpochRecord;
    return e.epoch === o.epoch && e.trainLoss === o.trainLoss && e.valLoss === o.valLoss && e.trainAccuracy === o.trainAccuracy;
  });
}

/** Why an entry cannot be handed over ("Continue elsewhere"), in words; null when it can. */
export function continuationMissing(entry: { source: string; run?: unknown; continuation?: unknown }): string | null {
  if (entry.continuation && entry.run) return null;
  if (!entry.run) {
    return entry.source === 'imported'
      ? 'imported as plain model files: there are no run settings or optimizer state to continue from'
      : 'no run history was kept with this model';
  }
  return 'kept before runs could move: its optimizer state was not saved';
}
