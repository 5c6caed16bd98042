/**
 * Finished runs side by side: the rows of the comparison table and the points
 * of the overlaid validation curves, from the run histories kept in the
 * library. Pure: unit-tested in Node.
 */
import type { VisualizationSpec } from 'vega-embed';
import type { LibraryEntry } from '../../store/library';
import type { RunRecord } from '../../run/records';
import { moveMarkers } from '../../handover/history';
import { elapsedSeconds, timeToAccuracy, type ThresholdReached } from '../../run/timeToAccuracy';
import { CHART_WIDTH } from '../charts/embed';
import { PALETTES, type Scheme } from '../vis/theme';

export type ComparableEntry = LibraryEntry & { run: RunRecord };

export const comparable = (entry: LibraryEntry): entry is ComparableEntry => entry.run !== undefined && entry.run.epochs.length > 0;

export interface CompareRow {
  id: string;
  /** Names the run in the legend and the table: "1 · tiny · rgb · 3 epochs". */
  label: string;
  preset: string;
  color: 'RGB' | 'grayscale';
  epochs: number;
  /** Fraction 0–1; null when the run was not tested. */
  testAccuracy: number | null;
  /** Unit: images/s. */
  imagesPerSecond: number;
  backend: string;
  /** Unit: s. */
  seconds: number;
  /** When its validation accuracy first reached each level. */
  timeToAccuracy: ThresholdReached[];
}

export function compareRows(entries: readonly ComparableEntry[]): CompareRow[] {
  return entries.map((entry, i) => ({
    id: entry.id,
    label: `${i + 1} · ${entry.name}`,
    preset: entry.run.settings.preset,
    color: entry.run.settings.color === 'gray' ? 'grayscale' : 'RGB',
    epochs: entry.run.epochs.length,
    testAccuracy: entry.metadata.testAccuracy,
    imagesPerSecond: entry.run.imagesPerSecond,
    backend: entry.run.backend,
    seconds: entry.run.seconds,
    timeToAccuracy: timeToAccuracy(entry.run.epochs),
  }));
}

export type CompareMetric = 'valAccuracy' | 'valLoss';
/** What the curves run against: epochs, or minutes from Train (time to accuracy). */
export type CompareAxis = 'epoch' | 'minutes';

export interface ComparePoint {
  run: string;
  epoch: number;
  /** From Train to the end of this epoch's validation, pauses excluded. */
  minutes: number;
  value: number;
}

/** Each run's validation curve: one point per epoch that was validated. */
export function comparePoints(entries: readonly ComparableEntry[], metric: CompareMetric): ComparePoint[] {
  const rows = compareRows(entries);
  return entries.flatMap((entry, i) => {
    const elapsed = elapsedSeconds(entry.run.epochs);
    return entry.run.epochs.flatMap((e, j) => {
      const value = e[metric];
      return value === null ? [] : [{ run: (rows[i] as CompareRow).label, epoch: e.epoch, minutes: (elapsed[j] as number) / 60, value }];
    });
  });
}

/** Where a run moved between engines: a rule between two epochs, e.g. "→ PyTorch, 2 processes (gloo)". */
export interface CompareMove {
  run: string;
  /** Between the last epoch before the move and the first after it (x in epochs). */
  epoch: number;
  /** The first epoch trained after the move. */
  fromEpoch: number;
  /** When the last epoch before the move ended (x in minutes from Train). */
  minutes: number;
  label: string;
}

export function compareMoves(entries: readonly ComparableEntry[]): CompareMove[] {
  const rows = compareRows(entries);
  return entries.flatMap((entry, i) => {
    const elapsed = elapsedSeconds(entry.run.epochs);
    return moveMarkers(entry.run).map((m) => ({
      run: (rows[i] as CompareRow).label,
      ...m,
      minutes: (elapsed[m.fromEpoch - 2] ?? 0) / 60,
    }));
  });
}

/** The moves in words, for the text alternative and the caption: "1 · tiny … moved → PyTorch, 2 processes (gloo) before epoch 2". */
export function describeMoves(moves: readonly CompareMove[]): string {
  return moves.map((m) => `${m.run} moved ${m.label} before epoch ${m.fromEpoch}`).join('; ');
}

/**
 * Validation curves of several runs on one chart. tfjs-vis's linechart cannot
 * draw runs of different lengths against their epochs (it plots series by
 * point index and needs them of equal length), so this is vega-lite through
 * the stack tfjs-vis brings (src/ui/charts/embed.ts).
 */
export const COMPARE_DATA = 'points';
/** The second data set: CompareMove rows. */
export const MOVES_DATA = 'moves';

export function compareSpec(
  runs: readonly string[],
  metric: CompareMetric,
  scheme: Scheme,
  axis: CompareAxis = 'epoch',
): VisualizationSpec {
  const palette = PALETTES[scheme];
  const accuracy = metric === 'valAccuracy';
  const x =
    axis === 'epoch'
      ? { field: 'epoch', type: 'quantitative', title: 'epoch', scale: { padding: 6 }, axis: { tickMinStep: 1, format: 'd' } }
      : { field: 'minutes', type: 'quantitative', title: 'minutes from Train', scale: { padding: 6, zero: true } };
  const y = {
    field: 'value',
    type: 'quantitative',
    title: accuracy ? 'validation accuracy' : 'validation loss',
    scale: accuracy ? { domain: [0, 1], padding: 6 } : { zero: false, nice: true, padding: 6 },
    axis: accuracy ? { format: '.0%' } : {},
  };
  const color = {
    field: 'run',
    type: 'nominal',
    title: null,
    scale: { domain: [...runs], range: runs.map((_, i) => palette.runs[i % palette.runs.length]) },
    legend: { orient: 'bottom', direction: 'vertical', labelLimit: 320 },
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: CHART_WIDTH,
    height: 200,
    // `resize`: the layout follows the data (longer axis labels), not just the first draw.
    autosize: { type: 'fit', contains: 'padding', resize: true },
    data: { name: COMPARE_DATA },
    layer: [
      { mark: { type: 'line', clip: false, strokeWidth: 2 }, encoding: { x, y, color } },
      // Where a run moved (tab → PyTorch): a dashed rule between the two epochs, labelled at the top.
      {
        data: { name: MOVES_DATA },
        mark: { type: 'rule', strokeDash: [4, 3], strokeWidth: 1.5 },
        encoding: { x: { field: axis, type: 'quantitative' }, color, tooltip: [{ field: 'run' }, { field: 'label', title: 'moved' }] },
      },
      {
        data: { name: MOVES_DATA },
        mark: { type: 'text', align: 'left', baseline: 'top', dx: 3, y: 2, fontSize: 10, aria: false },
        encoding: { x: { field: axis, type: 'quantitative' }, text: { field: 'label' }, color },
      },
      {
        mark: { type: 'point', filled: true, size: 45, clip: false, aria: false },
        encoding: {
          x,
          y,
          color,
          tooltip: [
            { field: 'run' },
            { field: 'epoch' },
            { field: 'minutes', format: '.1f' },
            { field: 'value', title: accuracy ? 'accuracy' : 'loss', format: accuracy ? '.1%' : '.4f' },
          ],
        },
      },
    ],
  } as VisualizationSpec;
}
