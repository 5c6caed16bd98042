import { useEffect, useRef } from 'react';
import type { AppState } from './state';
import { LiveCurves } from './charts/LiveCurves';
import { formatSeconds, runProgress, type RunProgress } from './progress';
import { NextThresholdLine } from './results/TimeToAccuracy';

const percent = (fraction: number | null | undefined) =>
  fraction === null || fraction === undefined ? '–' : `${(fraction * 100).toFixed(1)}%`;

export const TRAINING_PANEL_ID = 'training';

export interface TrainControls {
  onPause(): void;
  onResume(): void;
  onStop(): void;
}

/**
 * The run as a dashboard: controls, the figures that move, progress and the
 * live curves fit one screen (1366×768); the table of epochs follows.
 */
export function TrainPanel({ state, now, controls }: { state: AppState; now: number; controls: TrainControls }) {
  const { steps, epochs, status } = state;
  const progress = runProgress(state, now);
  const running = status === 'training' || status === 'paused';
  const ref = useRef<HTMLElement>(null);
  // Appearing after Train, whose button is now folded away: keyboard focus continues here, not at the top of the page.
  useEffect(() => {
    const focused = document.activeElement;
    if (!focused || focused === document.body || !focused.checkVisibility()) ref.current?.focus({ preventScroll: true });
  }, []);

  return (
    <section className="panel dashboard" aria-label="Training" id={TRAINING_PANEL_ID} tabIndex={-1} ref={ref}>
      <div className="panel-head">
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
      </div>
      <RunStats state={state} progress={progress} />
      <NextThresholdLine epochs={epochs} plannedEpochs={state.totalEpochs} />
      <div className="bars">
        <label className="bar">
          Epoch <progress data-testid="epoch-progress" max={1} value={progress.epochFraction} />
        </label>
        <label className="bar">
          Run <progress data-testid="run-progress" max={1} value={progress.runFraction} />
        </label>
      </div>
      <div className="charts curves">
        <LiveCurves metric="loss" steps={steps} epochs={epochs} testId="loss-chart" />
        <LiveCurves metric="accuracy" steps={steps} epochs={epochs} testId="accuracy-chart" />
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
      <caption>Every epoch, the numbers behind the curves</caption>
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
