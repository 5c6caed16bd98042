import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { DATA_ERROR_CODES, toErrorData, type ErrorData } from '../errors';
import type { TrainerClient } from '../worker/client';
import type { CheckpointSummary } from '../worker/protocol';
import { BackendPanel, ModelSummaryTable } from './BackendPanel';
import { CheckpointBanner } from './CheckpointBanner';
import { ClassifyPanel } from './ClassifyPanel';
import { LibraryPanel } from './LibraryPanel';
import { useModels } from './useModels';
import { OwnDataPanel } from './OwnDataPanel';
import { savedDataSource } from './dataSource';
import type { DataSourceKind } from '../worker/protocol';
import { DataPanel } from './DataPanel';
import { ErrorBanner } from './ErrorBanner';
import { ResultsPanel } from './ResultsPanel';
import { SettingsPanel, type Folding } from './SettingsPanel';
import { StatusLine } from './StatusLine';
import { chartGridWidth, prepareChart, warmUpCharts } from './charts/embed';
import { preparedKey } from './charts/useLiveView';
import { curveSpec } from './charts/curveSpec';
import { useColorScheme } from './charts/useColorScheme';
import { matrixSpec } from './results/confusion';
import { TRAINING_PANEL_ID, TrainPanel } from './TrainPanel';
import type { AppState } from './state';
import { useTrainer } from './useTrainer';
import type { Isolation } from '../isolation/isolate';
import { readUrlOptions } from './urlOptions';
import { useSettingsForm } from './useSettingsForm';
import { PresetCostTable } from './PresetCostTable';
import { estimateInputs, useCpuDefault, usePresetCosts } from './usePresetCosts';

/** `isolation`: how the page came to be cross-origin isolated, or why not (src/isolation/), for the backend line. */
export function App({ isolation }: { isolation: Isolation }) {
  const url = useMemo(() => readUrlOptions(location.search, `${import.meta.env.BASE_URL}data/cifar10/`), []);
  const dataUrl = useMemo(() => new URL(url.dataPath, location.href).href, [url]);
  const form = useSettingsForm(url);
  const { client, state, dispatch, restart, refusedElsewhere } = useTrainer(url, dataUrl, form.follow, isolation);
  // Checkpoints, classification and the model library.
  const models = useModels(client);
  const { check: checkSettings } = form;

  const start = useCallback(async () => {
    const settings = checkSettings();
    if (!settings || url.backendError) return;
    if (await refusedElsewhere()) return;
    dispatch({ type: 'run-requested', at: Date.now(), epochs: settings.epochs });
    models.actions.settleCheckpoint();
    client.train(settings);
  }, [client, dispatch, checkSettings, url, models.actions, refusedElsewhere]);

  const resumeCheckpoint = useCallback(async () => {
    if (await refusedElsewhere()) return;
    dispatch({ type: 'run-requested', at: Date.now() });
    models.actions.resumeCheckpoint();
  }, [dispatch, models.actions, refusedElsewhere]);

  useAutostart(url.autostart && state.status === 'ready', models.state.checkpoint, start);
  usePresetCosts(client, state, dispatch, !url.autostart);
  useCpuDefault(state, form.values, form.suggestPreset);
  const running = state.status === 'training' || state.status === 'paused';
  const now = useNow(running);
  const pageError =
    state.error ??
    (url.backendError ? { name: 'SettingsError', code: 'invalid-settings' as const, message: url.backendError } : undefined) ??
    (form.error ? toErrorData(form.error) : undefined);
  // Not while a drop of the user's classes is read: the run would train on the data set it is about to replace.
  const canStart = state.data !== undefined && !running && state.status !== 'loading' && state.ownImport?.status !== 'reading';
  // Once a run is on screen, the page is its dashboard: the run first, the settings folded into one line.
  const hasRun = running || state.steps.length > 0 || state.epochs.length > 0 || state.test !== undefined;
  const folding = useFolding(Object.keys(form.fieldErrors).length > 0);
  useChartWarmUp(state.status === 'ready' ? state.data?.classes : undefined);

  const onStart = () => {
    if (hasRun) folding.fold();
    void start();
    showRun();
  };
  // One order of panels before and during a run (a panel that moved would be drawn anew, its images and charts too).
  return (
    <main>
      <Header state={state} />
      <Messages
        notice={state.notice}
        error={pageError}
        onRestart={restart}
        urlWarning={[url.dataError, url.tuneError, url.workersError].filter(Boolean).join(' ') || undefined}
        unknownErrors={form.unknownErrors}
        onIgnoreUnknown={form.ignoreUnknown}
      />
      <DataSection state={state} client={client} dataUrl={dataUrl} dispatch={dispatch} compact={hasRun} />
      <CheckpointBanner
        models={models.state}
        actions={{ ...models.actions, resumeCheckpoint: () => void resumeCheckpoint() }}
        canResume={canStart}
        running={running}
      />
      <SettingsSection
        form={form}
        state={state}
        canStart={canStart}
        showCosts={!url.autostart}
        folding={hasRun ? folding : null}
        onStart={onStart}
      />
      {hasRun && <RunSection state={state} client={client} now={now} />}
      {/* Below the run, so that a run's dashboard keeps the first screen. */}
      <OwnDataPanel
        client={client}
        data={state.data}
        ownImport={state.ownImport}
        busy={running || state.status === 'loading'}
        onImport={(drop) => {
          dispatch({ type: 'import-requested' });
          client.importData(drop.name, drop.files);
        }}
        onUse={(source) => {
          dispatch({ type: 'dismiss-error' });
          client.loadData(dataUrl, source);
        }}
      />
      {state.backend && <BackendPanel backend={state.backend} />}
      {state.model && <ModelSummaryTable summary={state.model} plan={state.kernelPlan} />}
      <ClassifyPanel models={models.state} actions={models.actions} classes={state.data?.classes} />
      <LibraryPanel models={models.state} actions={models.actions} />
    </main>
  );
}

/**
 * Train was pressed far down the form: the page goes back to its top, where
 * the run's dashboard is, and keyboard focus to the run (the button pressed is
 * folded away). A first run's panel takes focus itself when it appears.
 */
function showRun(): void {
  window.scrollTo({ top: 0 });
  document.getElementById(TRAINING_PANEL_ID)?.focus({ preventScroll: true });
}

/** The data set: loading (with Cancel and Retry), then samples of each class, folded away below a run. */
function DataSection({
  state,
  client,
  dataUrl,
  dispatch,
  compact,
}: {
  state: AppState;
  client: TrainerClient;
  dataUrl: string;
  dispatch: ReturnType<typeof useTrainer>['dispatch'];
  compact: boolean;
}) {
  const failed = !state.data && (DATA_ERROR_CODES as readonly string[]).includes(state.error?.code ?? '');
  const load = (source: DataSourceKind) => {
    dispatch({ type: 'dismiss-error' });
    client.loadData(dataUrl, source);
  };
  return (
    <DataPanel
      progress={state.dataProgress}
      ready={state.data}
      compact={compact}
      controls={{
        failed,
        onCancel: () => client.cancelLoad(),
        onRetry: () => load(savedDataSource()),
        // A data set of one's own that no longer loads must not lock the page out of CIFAR-10.
        onUseCifar: savedDataSource() === 'own' ? () => load('cifar10') : null,
      }}
    />
  );
}

/**
 * Whether the settings are folded into their one-line summary (they are when a
 * run first appears, and again at each Train); a field with an error keeps them open.
 */
function useFolding(hasErrors: boolean) {
  const [collapsed, setCollapsed] = useState(true);
  return useMemo(
    () => ({ collapsed: collapsed && !hasErrors, onToggle: () => setCollapsed((c) => !c), fold: () => setCollapsed(true) }),
    [collapsed, hasErrors],
  );
}

/**
 * While the user reads the settings: loads the charting code, compiles the
 * run's charts and makes its two curve charts, so that starting a run only
 * puts them in place.
 */
function useChartWarmUp(classes: string[] | undefined): void {
  const scheme = useColorScheme();
  useEffect(() => {
    if (!classes) return;
    const curves = (['loss', 'accuracy'] as const).map((metric) => ({ metric, spec: curveSpec(metric, scheme) }));
    // Said on <main> for automation (e2e/dashboard.ts): a run started before this compiles its charts as it opens,
    // in tasks of ~40-60 ms on a slow CPU.
    document.querySelector('main')?.removeAttribute('data-charts-prepared');
    return warmUpCharts([...curves.map((c) => c.spec), matrixSpec(classes, scheme)], scheme, () => {
      const main = document.querySelector('main');
      if (!main) return;
      const width = chartGridWidth(main);
      const views = curves.map(({ metric, spec }) => prepareChart(preparedKey(metric, scheme), spec, scheme, width));
      Promise.all(views).then(
        () => main.setAttribute('data-charts-prepared', 'true'),
        () => undefined, // a chart that failed is made again when a run opens it
      );
    });
  }, [classes, scheme]);
}

/** The settings form, with what each preset would cost here under it. */
function SettingsSection({
  form,
  state,
  canStart,
  showCosts,
  folding,
  onStart,
}: {
  form: ReturnType<typeof useSettingsForm>;
  state: AppState;
  canStart: boolean;
  showCosts: boolean;
  folding: Folding | null;
  onStart(): void;
}) {
  return (
    <SettingsPanel
      values={form.values}
      errors={form.fieldErrors}
      disabled={!canStart}
      folding={folding}
      onChange={form.onChange}
      onSubmit={onStart}
    >
      {showCosts && state.data && state.backend && (
        <PresetCostTable
          costs={state.presetCosts}
          measuring={state.status === 'ready'}
          selected={form.values.preset ?? ''}
          {...estimateInputs(form.values, state.data.counts.train)}
        />
      )}
    </SettingsPanel>
  );
}

function Header({ state }: { state: AppState }) {
  return (
    <header className="page-header">
      <div>
        <h1>CIFAR-10 in a tab</h1>
        <p className="subtitle">Train a convolutional network on 50,000 images, in this tab, on your own GPU.</p>
      </div>
      <StatusLine state={state} />
    </header>
  );
}

/**
 * `?autostart=1`: train once, as soon as `ready`, with the URL's settings —
 * unless an interrupted run is waiting: then the user chooses (resume or start over).
 */
function useAutostart(ready: boolean, checkpoint: CheckpointSummary | null | undefined, start: () => Promise<void>): void {
  const started = useRef(false);
  const known = checkpoint !== undefined;
  const waiting = Boolean(checkpoint);
  useEffect(() => {
    if (ready && known && !waiting && !started.current) {
      started.current = true;
      void start();
    }
  }, [ready, known, waiting, start]);
}

/** The run's dashboard and, once it has them, its results. */
function RunSection({ state, client, now }: { state: AppState; client: TrainerClient; now: number }) {
  // Stable, so the images of a picked cell are asked for once, not on every render of the page.
  const loadImages = useCallback((indices: readonly number[]) => client.testImages(indices), [client]);
  return (
    <>
      <TrainPanel
        state={state}
        now={now}
        controls={{ onPause: () => client.pause(), onResume: () => client.resume(), onStop: () => client.stop() }}
      />
      {state.test && state.data && (
        <ResultsPanel
          test={state.test}
          epochs={state.epochs}
          classes={state.data.classes}
          runOver={state.status !== 'training' && state.status !== 'paused'}
          loadImages={loadImages}
        />
      )}
    </>
  );
}

/** A clock for elapsed time and ETA, ticking once a second only while a run is going. Unit: ms since 1970. */
function useNow(running: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [running]);
  return now;
}

/** What the page has to say above everything else: a notice, an error, problems with the URL. */
function Messages({
  notice,
  error,
  onRestart,
  urlWarning,
  unknownErrors,
  onIgnoreUnknown,
}: {
  notice: string | undefined;
  error: ErrorData | undefined;
  onRestart(): void;
  urlWarning: string | undefined;
  unknownErrors: Record<string, string>;
  onIgnoreUnknown(): void;
}) {
  return (
    <>
      {notice && (
        <div className="warning" role="status" data-testid="notice">
          {notice}
        </div>
      )}
      {error && (
        <ErrorBanner error={error}>
          {error.code === 'worker-crashed' && (
            <button type="button" data-testid="restart-worker" onClick={onRestart}>
              Restart the trainer
            </button>
          )}
        </ErrorBanner>
      )}
      {urlWarning && (
        <div className="warning" role="status" data-testid="data-url-warning">
          {urlWarning}
        </div>
      )}
      {Object.keys(unknownErrors).length > 0 && (
        <div className="error" role="alert">
          {Object.values(unknownErrors).join('; ')} in the URL.{' '}
          <button type="button" onClick={onIgnoreUnknown}>
            Ignore them
          </button>
        </div>
      )}
    </>
  );
}
