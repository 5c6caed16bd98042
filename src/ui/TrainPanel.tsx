import { useMemo } from 'react';
import type { AppState } from './state';
import { curves } from './curves';
import { VisChart } from './VisChart';
import { formatSeconds, runProgress, type RunProgress } from './progress';
import type { Point } from './curves';

type Vis = typeof import('@tensorflow/tfjs-vis');

/**
 * Drawn with tfjs-vis's scatterplot: its linechart plots every series against
 * the point's index (x is ignored) and needs equal-length series, so per-step
 * training curves and per-epoch validation points cannot share its axis.
 * Empty series are left out: tfjs-vis reads the first point of each.
 */
function lineData(series: Record<string, Point[]>) {
  const named = Object.entries(series).filter(([, points]) => points.length > 0);
  return { values: named.map(([, points]) => points), series: named.map(([name]) => name) };
}

type Curves = ReturnType<typeof curves>;

/** One chart of training (smoothed, per step) against validation (per epoch) for one metric. */
const drawCurves =
  (
    yLabel: string,
    pick: (c: Curves) => [training: Point[], validation: Point[]],
    axis: { zoomToFit: true } | { yAxisDomain: [number, number] },
  ) =>
  (vis: Vis, el: HTMLElement, c: Curves) => {
    const [training, validation] = pick(c);
    return vis.render.scatterplot(el, lineData({ 'training (smoothed)': training, validation }), {
      xLabel: 'epoch',
      yLabel,
      width: 480,
      height: 260,
      ...axis,
    });
  };

const drawLoss = drawCurves('loss', (c) => [c.trainLoss, c.valLoss], { zoomToFit: true });
const drawAccuracy = drawCurves('accuracy', (c) => [c.trainAccuracy, c.valAccuracy], { yAxisDomain: [0, 1] });

const percent = (fraction: number | null | undefined) =>
  fraction === null || fraction === undefined ? '–' : `${(fraction * 100).toFixed(1)}%`;

export interface TrainControls {
  onPause(): void;
  onResume(): void;
  onStop(): void;
}

export function TrainPanel({ state, now, controls }: { state: AppState; now: number; controls: TrainControls }) {
  const { steps, epochs, status } = state;
  const chartData = useMemo(() => curves(steps, epochs), [steps, epochs]);
  const hasPoints = (points: Point[]) => points.length > 0;
  const progress = runProgress(state, now);
  const running = status === 'training' || status === 'paused';

  return (
    <section className="panel" aria-label="Training">
      <h2>Training</h2>
      <div className="controls">
        {status === 'paused' ? (
          <button type="button" data-testid="resume" onClick={controls.onResume}>
            Resume
          </button>
        ) : (
          <button type="button" data-testid="pause" onClick={controls.onPause} disabled={status !== 'training'}>
            Pause
          </button>
        )}
        <button type="button" data-testid="stop" onClick={controls.onStop} disabled={!running}>
          Stop
        </button>
      </div>
      <RunStats state={state} progress={progress} />
      <label className="bar">
        Epoch <progress data-testid="epoch-progress" max={1} value={progress.epochFraction} />
      </label>
      <label className="bar">
        Run <progress data-testid="run-progress" max={1} value={progress.runFraction} />
      </label>
      <div className="charts">
        {hasPoints(chartData.trainLoss) && <VisChart data={chartData} draw={drawLoss} testId="loss-chart" label="Loss curves" />}
        {hasPoints(chartData.trainAccuracy) && (
          <VisChart data={chartData} draw={drawAccuracy} testId="accuracy-chart" label="Accuracy curves" />
        )}
      </div>
      {epochs.length > 0 && <EpochTable state={state} />}
    </section>
  );
}

function RunStats({ state, progress }: { state: AppState; progress: RunProgress }) {
  const last = state.steps.at(-1);
  const { memory } = state;
  const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
  return (
    <dl className="stats">
      <div>
        <dt>Epoch</dt>
        <dd data-testid="epoch">
          {progress.currentEpoch} / {state.totalEpochs}
        </dd>
      </div>
      <div>
        <dt>Step</dt>
        <dd data-testid="step">{last ? last.step : 0}</dd>
      </div>
      <div>
        <dt>Training loss</dt>
        <dd data-testid="train-loss">{last ? last.loss.toFixed(4) : '–'}</dd>
      </div>
      <div>
        <dt>Validation accuracy</dt>
        <dd data-testid="val-accuracy">{percent(state.epochs.at(-1)?.valAccuracy)}</dd>
      </div>
      <div>
        <dt>Images / s</dt>
        <dd data-testid="images-per-sec">{last ? last.imagesPerSecond.toFixed(1) : '–'}</dd>
      </div>
      <div>
        <dt>Elapsed</dt>
        <dd>{formatSeconds(progress.elapsedSeconds)}</dd>
      </div>
      <div>
        <dt>Remaining (estimate)</dt>
        <dd data-testid="eta">{formatSeconds(progress.etaSeconds)}</dd>
      </div>
      <div>
        <dt>Tensors / memory</dt>
        <dd data-testid="memory">
          {memory
            ? `${memory.numTensors} / ${mb(memory.numBytes)} MB${memory.gpuBytes === undefined ? '' : ` (GPU ${mb(memory.gpuBytes)} MB)`}`
            : '–'}
        </dd>
      </div>
    </dl>
  );
}

function EpochTable({ state }: { state: AppState }) {
  return (
    <table className="epochs">
      <thead>
        <tr>
          <th>epoch</th>
          <th>train loss</th>
          <th>train acc.</th>
          <th>val. loss</th>
          <th>val. acc.</th>
          <th>seconds</th>
          <th>images/s</th>
        </tr>
      </thead>
      <tbody>
        {state.epochs.map((e, i) => (
          <tr
            key={e.epoch}
            className={e.best ? 'best' : undefined}
            title={e.best ? 'best epoch so far' : undefined}
            data-tensors={state.epochMemory[i]?.numTensors}
            data-bytes={state.epochMemory[i]?.numBytes}
            data-gpu-bytes={state.epochMemory[i]?.gpuBytes}
          >
            <td>
              {e.epoch}
              {e.best ? ' ★' : ''}
            </td>
            <td>{e.trainLoss.toFixed(4)}</td>
            <td>{(e.trainAccuracy * 100).toFixed(1)}%</td>
            <td>{e.valLoss?.toFixed(4) ?? '–'}</td>
            <td>{percent(e.valAccuracy)}</td>
            <td>{e.seconds.toFixed(1)}</td>
            <td>{e.imagesPerSecond.toFixed(1)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
