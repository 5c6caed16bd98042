/**
 * The confusion matrix as data for its chart, its table and its cells' images.
 * Pure, no vega: unit-tested in Node.
 */
import type { VisualizationSpec } from 'vega-embed';
import type { TestPredictions } from '../../worker/protocol';
import { CHART_WIDTH } from '../charts/embed';
import { PALETTES, type Scheme } from '../vis/theme';

export interface MatrixCell {
  /** True class, predicted class. */
  t: number;
  p: number;
  trueName: string;
  predictedName: string;
  count: number;
  /** Share of the true class's images that fall in this cell, 0–1 (what the colour shows). */
  share: number;
}

export function matrixCells(confusion: readonly (readonly number[])[], classes: readonly string[]): MatrixCell[] {
  return confusion.flatMap((row, t) => {
    const total = row.reduce((a, b) => a + b, 0);
    return row.map((count, p) => ({
      t,
      p,
      trueName: classes[t] ?? String(t),
      predictedName: classes[p] ?? String(p),
      count,
      share: total > 0 ? count / total : 0,
    }));
  });
}

/** Positions (in the test subset) of the images of one cell: true class `t`, predicted `p`, in test-set order. */
export function cellMembers(predictions: Pick<TestPredictions, 'labels' | 'predicted'>, t: number, p: number): number[] {
  const members: number[] = [];
  predictions.labels.forEach((label, i) => {
    if (label === t && predictions.predicted[i] === p) members.push(i);
  });
  return members;
}

/** The matrix in words: its size, the accuracy on the diagonal, and the most frequent confusions. */
export function describeMatrix(cells: readonly MatrixCell[], top = 3): string {
  const total = cells.reduce((sum, c) => sum + c.count, 0);
  const right = cells.filter((c) => c.t === c.p).reduce((sum, c) => sum + c.count, 0);
  const confusions = cells
    .filter((c) => c.t !== c.p && c.count > 0)
    .sort((a, b) => b.count - a.count)
    .slice(0, top)
    .map((c) => `${c.trueName} taken for ${c.predictedName} ${c.count === 1 ? 'once' : `${c.count} times`}`);
  const worst = confusions.length > 0 ? ` Most frequent mistakes: ${confusions.join('; ')}.` : '';
  return `Confusion matrix of ${total.toLocaleString('en-US')} test images, true class by row, predicted class by column: ${right.toLocaleString('en-US')} on the diagonal.${worst}`;
}

/** The data set of the matrix chart: the spec depends on the classes only, so it can be compiled before the run ends. */
export const MATRIX_DATA = 'cells';

/** Signals that mark the picked cell; -1: none. */
export const PICKED = { t: 'pickedTrue', p: 'pickedPredicted' } as const;

/**
 * A heat map in the spirit of tfjs-vis's confusionMatrix, drawn with the
 * vega-lite stack it brings because tfjs-vis gives no access to its view, so
 * a click on a cell could not be heard.
 */
export function matrixSpec(classes: readonly string[], scheme: Scheme): VisualizationSpec {
  const palette = PALETTES[scheme];
  const picked = `datum.t === ${PICKED.t} && datum.p === ${PICKED.p}`;
  const axis = (title: string) => ({ field: '', type: 'ordinal', sort: [...classes], title, axis: { labelAngle: 0, labelLimit: 80 } });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: CHART_WIDTH,
    height: 300,
    // `resize`: the layout follows the data (longer axis labels), not just the first draw.
    autosize: { type: 'fit', contains: 'padding', resize: true },
    params: [
      { name: PICKED.t, value: -1 },
      { name: PICKED.p, value: -1 },
    ],
    data: { name: MATRIX_DATA },
    encoding: {
      x: { ...axis('predicted'), field: 'predictedName', axis: { labelAngle: -45, labelLimit: 80, orient: 'top' } },
      y: { ...axis('true class'), field: 'trueName' },
    },
    layer: [
      {
        mark: { type: 'rect', cursor: 'pointer', tooltip: false },
        encoding: {
          color: { field: 'share', type: 'quantitative', scale: { scheme: palette.heat, domain: [0, 1] }, legend: null },
          stroke: { condition: { test: picked, value: palette.validation }, value: null },
          strokeWidth: { condition: { test: picked, value: 3 }, value: 0 },
        },
      },
      {
        mark: { type: 'text', fontSize: 10, cursor: 'pointer' },
        encoding: {
          text: { field: 'count', type: 'quantitative' },
          color: { condition: { test: 'datum.share > 0.5', value: '#ffffff' }, value: scheme === 'dark' ? '#ffffff' : palette.text },
        },
      },
    ],
  } as VisualizationSpec;
}
