/**
 * The test report: accuracy, the confusion matrix (click a cell for its
 * images), accuracy per class (sortable, and as tfjs-vis bars), and sample
 * predictions and mistakes.
 */
import { useMemo, useState } from 'react';
import type { EpochRecord, Evaluation } from '../run/records';
import type { SampleImages, TestPredictions } from '../worker/protocol';
import { ImageCanvas } from './ImageCanvas';
import { VisChart } from './VisChart';
import { useColorScheme } from './charts/useColorScheme';
import { CellImages } from './results/CellImages';
import { ConfusionMatrix, type Cell } from './results/ConfusionMatrix';
import { matrixCells } from './results/confusion';
import { classRows, type ClassRow } from './results/perClass';
import { PerClassTable } from './results/PerClassTable';
import { TimeToAccuracyTable } from './results/TimeToAccuracy';

type Vis = typeof import('@tensorflow/tfjs-vis');

// tfjs-vis types a bar's `index` as a number, but draws it as an ordinal label: class names read better than 0–9.
type Bars = Parameters<Vis['render']['barchart']>[1];
const drawPerClassBars = (vis: Vis, el: HTMLElement, rows: readonly ClassRow[]) =>
  vis.render.barchart(
    el,
    rows.map((r) => ({ index: r.name, value: Number.isNaN(r.accuracy) ? 0 : Math.round(r.accuracy * 1000) / 10 })) as unknown as Bars,
    { xLabel: 'class', yLabel: 'accuracy (%)', height: 200, width: Math.max(240, el.clientWidth) },
  );

export interface TestReport {
  result: Evaluation;
  /** The pixels of `result.samples` followed by those of `result.misclassified`, in that order. */
  images: SampleImages;
  predictions: TestPredictions;
}

export function ResultsPanel({
  test,
  epochs,
  classes,
  runOver,
  loadImages,
}: {
  test: TestReport;
  /** The run's epochs, for its time to accuracy. */
  epochs: readonly EpochRecord[];
  classes: string[];
  /** False while the run still finishes (saving its model): the tfjs-vis bars wait until then. */
  runOver: boolean;
  loadImages(indices: readonly number[]): Promise<Uint8Array>;
}) {
  const { result } = test;
  const [picked, setPicked] = useState<Cell | null>(null);
  const cells = useMemo(() => matrixCells(result.confusion, classes), [result, classes]);
  const rows = useMemo(() => classRows(result.perClass, result.confusion, classes), [result, classes]);
  const scheme = useColorScheme();
  return (
    <section className="panel" aria-label="Results">
      <h2>Test set results</h2>
      <p className="headline">
        Accuracy <strong data-testid="test-accuracy">{(result.accuracy * 100).toFixed(2)}%</strong> and loss{' '}
        <strong data-testid="test-loss">{result.loss.toFixed(4)}</strong> on {result.count.toLocaleString('en-US')} test images never seen
        in training (chance: 10%).
      </p>
      <TimeToAccuracyTable epochs={epochs} />
      <div className="results-grid">
        <div>
          <h3>Confusion matrix</h3>
          <p className="hint">Click a cell, or use its button in the table, to see its test images.</p>
          <ConfusionMatrix cells={cells} classes={classes} picked={picked} onPick={setPicked} />
        </div>
        <div>
          <h3>Per class</h3>
          <PerClassTable rows={rows} />
          <VisChart
            key={scheme}
            // tfjs-vis compiles and draws a chart in one task (~100 ms here): not while a run still needs the page.
            ready={runOver}
            data={rows}
            draw={drawPerClassBars}
            testId="per-class-chart"
            label={`Bar chart of accuracy per class: ${rows.map((r) => `${r.name} ${(r.accuracy * 100).toFixed(1)}%`).join(', ')}.`}
          />
        </div>
      </div>
      {picked && (
        <CellImages
          key={`${picked.t},${picked.p}`}
          cell={picked}
          predictions={test.predictions}
          classes={classes}
          loadImages={loadImages}
        />
      )}
      <Samples test={test} classes={classes} />
    </section>
  );
}

function Samples({ test: { result, images }, classes }: { test: TestReport; classes: string[] }) {
  const name = (c: number) => classes[c] ?? String(c);
  return (
    <>
      <h3>Predictions on 16 test images</h3>
      <div className="gallery" data-testid="test-samples">
        {result.samples.map((s, k) => (
          <figure key={s.index} className={s.predicted === s.label ? 'right' : 'wrong'}>
            <ImageCanvas pixels={images.pixels} index={k} title={`test image ${s.index}, a ${name(s.label)}`} size={64} />
            <figcaption>
              {name(s.predicted)} <small>({((s.probs[s.predicted] ?? 0) * 100).toFixed(0)}%)</small>
              <br />
              <small>true: {name(s.label)}</small>
            </figcaption>
          </figure>
        ))}
      </div>
      <h3>Misclassified test images</h3>
      <div className="gallery" data-testid="misclassified">
        {result.misclassified.map((m, k) => (
          <figure key={m.index} className="wrong">
            <ImageCanvas
              pixels={images.pixels}
              index={result.samples.length + k}
              title={`test image ${m.index}, a ${name(m.label)}`}
              size={48}
            />
            <figcaption>
              <small>
                {name(m.predicted)}, truly {name(m.label)}
              </small>
            </figcaption>
          </figure>
        ))}
      </div>
    </>
  );
}
