/** Two or more finished runs from the library: their validation curves on one chart, and their figures side by side. */
import { useEffect, useMemo, useRef, useState } from 'react';
import { useColorScheme } from '../charts/useColorScheme';
import { useLiveView } from '../charts/useLiveView';
import { formatSeconds } from '../progress';
import { PALETTES } from '../vis/theme';
import {
  COMPARE_DATA,
  MOVES_DATA,
  compareMoves,
  comparePoints,
  describeMoves,
  compareRows,
  compareSpec,
  type ComparableEntry,
  type CompareAxis,
  type CompareMetric,
  type CompareMove,
  type CompareRow,
} from './compare';

export function ComparePanel({ entries }: { entries: readonly ComparableEntry[] }) {
  const rows = useMemo(() => compareRows(entries), [entries]);
  const moves = useMemo(() => compareMoves(entries), [entries]);
  const [axis, setAxis] = useState<CompareAxis>('epoch');
  return (
    <section className="compare" aria-label="Compare runs" data-testid="compare">
      <h3>{entries.length === 1 ? 'One run' : `${entries.length} runs compared`}</h3>
      <fieldset className="axis-choice" data-testid="compare-axis">
        <legend>Curves against</legend>
        {(['epoch', 'minutes'] as const).map((a) => (
          <label key={a}>
            <input type="radio" name="compare-axis" value={a} checked={axis === a} onChange={() => setAxis(a)} />
            {a === 'epoch' ? 'epochs' : 'minutes from Train'}
          </label>
        ))}
      </fieldset>
      <div className="charts">
        <CompareChart entries={entries} rows={rows} moves={moves} metric="valAccuracy" axis={axis} testId="compare-accuracy" />
        <CompareChart entries={entries} rows={rows} moves={moves} metric="valLoss" axis={axis} testId="compare-loss" />
      </div>
      {moves.length > 0 && (
        <p className="hint" data-testid="compare-moves">
          Where the run{entries.length === 1 ? '' : 's'} moved (dashed lines): {describeMoves(moves)}.
        </p>
      )}
      <CompareTable rows={rows} />
    </section>
  );
}

function CompareChart({
  entries,
  rows,
  moves,
  metric,
  axis,
  testId,
}: {
  entries: readonly ComparableEntry[];
  rows: CompareRow[];
  moves: readonly CompareMove[];
  metric: CompareMetric;
  axis: CompareAxis;
  testId: string;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const scheme = useColorScheme();
  const points = useMemo(() => comparePoints(entries, metric), [entries, metric]);
  const labels = useMemo(() => rows.map((r) => r.label), [rows]);
  // The runs are the spec's colour domain; when they change, so does the chart: a new view.
  const name = `compare-${metric}-${axis}-${labels.join('|')}`;
  const view = useLiveView(ref, name, () => compareSpec(labels, metric, scheme, axis), scheme);
  useEffect(() => {
    if (view)
      view
        .data(
          COMPARE_DATA,
          points.map((p) => ({ ...p })),
        )
        .data(
          MOVES_DATA,
          moves.map((m) => ({ ...m })),
        )
        .runAsync()
        .catch((error: unknown) => console.error('Drawing the comparison failed', error));
  }, [view, points, moves]);
  const what = metric === 'valAccuracy' ? 'validation accuracy' : 'validation loss';
  const format = (v: number) => (metric === 'valAccuracy' ? `${(v * 100).toFixed(1)}%` : v.toFixed(4));
  const label = `${what} per ${axis === 'epoch' ? 'epoch' : 'minute from Train'} of ${rows.length} runs: ${rows
    .map((r) => {
      const last = points.filter((p) => p.run === r.label).at(-1);
      const when = last && (axis === 'epoch' ? `epoch ${last.epoch}` : `${last.minutes.toFixed(1)} minutes`);
      return `${r.label}${last ? ` ends at ${format(last.value)} after ${when}` : ' has no validation'}`;
    })
    .join('; ')}.${moves.length > 0 ? ` ${describeMoves(moves)}.` : ''}`;
  return (
    // The text alternative sits on the figure: vega writes its own role and "Vega visualization" label onto the
    // element it draws in whenever a view is made (here on every change of axis), over any of ours.
    <figure className="chart-figure" role="img" aria-label={label} data-testid={`${testId}-figure`}>
      <div ref={ref} className="chart" data-testid={testId} data-runs={rows.length} data-axis={axis} aria-hidden="true" />
    </figure>
  );
}

function CompareTable({ rows }: { rows: CompareRow[] }) {
  const scheme = useColorScheme();
  const colors = PALETTES[scheme].runs;
  const percent = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(2)}%`);
  return (
    <table className="compare-table" data-testid="compare-table">
      <caption>The runs side by side</caption>
      <thead>
        <tr>
          <th scope="col">run</th>
          <th scope="col">preset</th>
          <th scope="col">colour</th>
          <th scope="col">epochs</th>
          <th scope="col">test accuracy</th>
          <th scope="col">images/s</th>
          <th scope="col">backend</th>
          <th scope="col">time</th>
          <th scope="col">time to validation accuracy</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row, i) => (
          <tr key={row.id} data-testid="compare-row" data-id={row.id}>
            <th scope="row">
              <span className="swatch" style={{ background: colors[i % colors.length] }} aria-hidden="true" />
              {row.label}
            </th>
            <td data-label="preset">{row.preset}</td>
            <td data-label="colour">{row.color}</td>
            <td data-label="epochs">{row.epochs}</td>
            <td data-label="test accuracy">{percent(row.testAccuracy)}</td>
            <td data-label="images/s">{row.imagesPerSecond.toFixed(1)}</td>
            <td data-label="backend">{row.backend}</td>
            <td data-label="time">{formatSeconds(row.seconds)}</td>
            <td data-label="time to validation accuracy" data-testid="compare-time-to-accuracy">
              {row.timeToAccuracy.length === 0
                ? 'none reached'
                : row.timeToAccuracy.map((r) => `${Math.round(r.threshold * 100)} %: ${formatSeconds(r.seconds)}`).join(' · ')}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
