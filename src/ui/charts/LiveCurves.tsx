/**
 * One live chart of a run's loss or accuracy. The vega view is made before the
 * run (or once, on mount) and then fed changesets, so a metric report costs a
 * small redraw, never a new chart. Hovering shows the values at that epoch.
 */
import { useEffect, useRef, useState } from 'react';
import type { View } from 'vega';
import type { BatchMetrics, EpochRecord } from '../../run/records';
import { PALETTES } from '../vis/theme';
import { CurveFeed, stepX, type CurvePoint, type Metric } from './curveFeed';
import { CURVE_DATA, curveSpec } from './curveSpec';
import { useColorScheme } from './useColorScheme';
import { useLiveView } from './useLiveView';

/** Metric reports arrive every few steps (at least 10); a chart redraws at most this often. Unit: ms. */
const UPDATE_MS = 250;

interface Props {
  metric: Metric;
  steps: readonly BatchMetrics[];
  epochs: readonly EpochRecord[];
  testId: string;
}

export function LiveCurves({ metric, steps, epochs, testId }: Props) {
  const ref = useRef<HTMLDivElement>(null);
  const scheme = useColorScheme();
  const view = useLiveView(ref, metric, () => curveSpec(metric, scheme), scheme);
  const drawn = useFeed(view, metric, steps, epochs);
  const [hover, setHover] = useState<Readout | null>(null);
  const palette = PALETTES[scheme];
  return (
    <figure className="chart-figure">
      <figcaption className="legend">
        <span>
          <span className="swatch" style={{ background: palette.training }} aria-hidden="true" />
          training, smoothed (raw values faint)
        </span>{' '}
        <span>
          <span className="swatch" style={{ background: palette.validation }} aria-hidden="true" />
          validation, per epoch
        </span>
      </figcaption>
      <div
        className="chart-frame"
        onPointerMove={(event) => view && setHover(readout(view, drawn.current, event, metric))}
        onPointerLeave={() => setHover(null)}
      >
        <div ref={ref} className="chart" data-testid={testId} role="img" aria-label={describeCurves(metric, steps, epochs)} />
        {hover && (
          <>
            <span className="hover-rule" style={{ left: hover.left }} aria-hidden="true" />
            <span
              className="readout"
              data-testid={`${metric}-readout`}
              style={hover.left > hover.width / 2 ? { right: hover.width - hover.left + 8 } : { left: hover.left + 8 }}
            >
              {hover.lines.map((line) => (
                <span key={line}>{line}</span>
              ))}
            </span>
          </>
        )}
      </div>
    </figure>
  );
}

/** Feeds the view what it has not seen, at most every UPDATE_MS, each chart in a task of its own; returns the points drawn. */
function useFeed(view: View | null, metric: Metric, steps: readonly BatchMetrics[], epochs: readonly EpochRecord[]) {
  const latest = useRef({ steps, epochs });
  const drawn = useRef<CurvePoint[]>([]);
  const timer = useRef(0);
  /** Called when new metrics arrive; set while there is a view to feed. */
  const changed = useRef<() => void>(() => {});
  useEffect(() => {
    if (!view) return;
    const feed = new CurveFeed(metric);
    const flush = () => {
      timer.current = 0;
      const update = feed.update(latest.current.steps, latest.current.epochs);
      if (!update) return;
      drawn.current = update.reset ? update.points : drawn.current.concat(update.points);
      if (update.reset) view.data(CURVE_DATA, update.points);
      else view.insert(CURVE_DATA, update.points);
      view.runAsync().catch((error: unknown) => console.error(`Updating the ${metric} chart failed`, error));
    };
    flush();
    const onChange = () => {
      if (timer.current === 0) timer.current = window.setTimeout(flush, UPDATE_MS);
    };
    changed.current = onChange;
    return () => {
      clearTimeout(timer.current);
      timer.current = 0;
      changed.current = () => {};
    };
  }, [view, metric]);
  useEffect(() => {
    latest.current = { steps, epochs };
    changed.current();
  }, [steps, epochs]);
  return drawn;
}

interface Readout {
  /** Unit: px from the chart's left edge. */
  left: number;
  width: number;
  lines: string[];
}

/** What the chart shows at the pointer's epoch: the nearest smoothed training value and the nearest validation point. */
function readout(view: View, points: readonly CurvePoint[], event: React.PointerEvent<HTMLElement>, metric: Metric): Readout | null {
  const box = event.currentTarget.getBoundingClientRect();
  const [originX] = view.origin();
  const scale = view.scale('x') as ((x: number) => number) & { invert(px: number): number };
  const x = scale.invert(event.clientX - box.left - originX);
  const nearest = (kind: CurvePoint['kind']) =>
    points
      .filter((p) => p.kind === kind)
      .reduce<CurvePoint | null>((best, p) => (!best || Math.abs(p.x - x) < Math.abs(best.x - x) ? p : best), null);
  const training = nearest('smoothed');
  const validation = nearest('epoch');
  if (!training && !validation) return null;
  const format = (v: number) => (metric === 'accuracy' ? `${(v * 100).toFixed(1)}%` : v.toFixed(4));
  const at = training ?? (validation as CurvePoint);
  const raw = points.find((p) => p.kind === 'raw' && p.x === training?.x);
  const lines = [`epoch ${at.x.toFixed(2)}`];
  if (training) lines.push(`training ${format(training.y)}${raw ? ` (raw ${format(raw.y)})` : ''}`);
  if (validation) lines.push(`validation ${format(validation.y)} after epoch ${validation.x}`);
  return { left: originX + scale(at.x), width: box.width, lines };
}

/** The chart in words, for screen readers: where training and validation stand now. */
export function describeCurves(metric: Metric, steps: readonly BatchMetrics[], epochs: readonly EpochRecord[]): string {
  const format = (v: number) => (metric === 'accuracy' ? `${(v * 100).toFixed(1)}%` : v.toFixed(4));
  const name = metric === 'accuracy' ? 'Accuracy' : 'Loss';
  const last = steps.at(-1);
  if (!last) return `${name} curves: no training step reported yet.`;
  const parts = [`${name} curves over ${stepX(last).toFixed(2)} epochs: training ${format(last[metric])} at the latest report`];
  const key = metric === 'accuracy' ? 'valAccuracy' : 'valLoss';
  const validated = epochs.filter((e) => e[key] !== null);
  if (validated.length > 0) {
    const first = validated[0] as EpochRecord;
    const latestEpoch = validated.at(-1) as EpochRecord;
    parts.push(
      validated.length === 1
        ? `validation ${format(first[key] as number)} after epoch ${first.epoch}`
        : `validation from ${format(first[key] as number)} after epoch ${first.epoch} to ${format(latestEpoch[key] as number)} after epoch ${latestEpoch.epoch}`,
    );
  }
  return `${parts.join('; ')}.`;
}
