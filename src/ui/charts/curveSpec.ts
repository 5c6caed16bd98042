/**
 * The live loss and accuracy charts, as vega-lite specs. tfjs-vis cannot draw
 * these: its linechart plots every series against the point's index (per-step
 * training and per-epoch validation could not share an x axis in epochs) and
 * re-embeds its view on every update. So they are drawn with the vega-lite
 * stack tfjs-vis brings (see embed.ts), fed by changesets (curveFeed.ts).
 * The view's width is set per chart (`view.width`), so the compiled spec
 * holds for any size.
 */
import type { VisualizationSpec } from 'vega-embed';
import { PALETTES, type Scheme } from '../vis/theme';
import type { Metric } from './curveFeed';
import { CHART_WIDTH } from './embed';

/** The one data set of a curve chart, fed by CurveFeed. */
export const CURVE_DATA = 'points';

/** Unit: px. Enough for a readable curve; two charts and the run's figures fit in one screen at 1366×768. */
export const CURVE_HEIGHT = 190;

export function curveSpec(metric: Metric, scheme: Scheme): VisualizationSpec {
  const palette = PALETTES[scheme];
  const isAccuracy = metric === 'accuracy';
  const x = {
    field: 'x',
    type: 'quantitative',
    title: 'epoch',
    // The domain follows the data; `padding` keeps points on the edge clear of the frame.
    scale: { zero: true, nice: false, padding: 6 },
    axis: { tickMinStep: 0.5, format: '~r' },
  } as const;
  const y = {
    field: 'y',
    type: 'quantitative',
    title: isAccuracy ? 'accuracy' : 'loss',
    scale: isAccuracy ? { domain: [0, 1], padding: 6 } : { zero: false, nice: true, padding: 6 },
    axis: isAccuracy ? { format: '.0%', values: [0, 0.2, 0.4, 0.6, 0.8, 1] } : { tickCount: 5 },
  } as const;
  const color = {
    field: 'series',
    type: 'nominal',
    title: null,
    scale: { domain: ['training', 'validation'], range: [palette.training, palette.validation] },
    // The legend is the figure's caption (LiveCurves), in HTML: it wraps on a phone where a vega legend would not.
    legend: null,
  } as const;
  const kinds = ['raw', 'smoothed', 'epoch'];
  const byKind = (range: number[]) => ({
    field: 'kind',
    type: 'nominal',
    sort: kinds,
    scale: { type: 'ordinal', domain: kinds, range },
    legend: null,
  });
  // No vega selection for the hover readout: it is HTML over the chart (LiveCurves), which keeps the view small and cheap to update.
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: CHART_WIDTH,
    height: CURVE_HEIGHT,
    // `resize`: the layout follows the data (longer axis labels), not just the first draw.
    autosize: { type: 'fit', contains: 'padding', resize: true },
    data: { name: CURVE_DATA },
    encoding: { x, y, color },
    layer: [
      {
        // Raw reports faint behind, smoothed on top, validation as a line through its epoch points.
        mark: { type: 'line', clip: false, interpolate: 'linear' },
        encoding: { detail: { field: 'kind' }, opacity: byKind([0.3, 1, 1]), strokeWidth: byKind([1, 2, 2]) },
      },
      { transform: [{ filter: "datum.kind == 'epoch'" }], mark: { type: 'point', filled: true, size: 36, clip: false, aria: false } },
    ],
  } as VisualizationSpec;
}
