import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from 'react';
import { DATA_ERROR_CODES, SettingsError, toErrorData, trainingElsewhere } from '../errors';
import { parseSettings, type Settings } from '../train/settings';
import { TrainerClient } from '../worker/client';
import { forwardToAutomation } from './automation';
import { BackendPanel, ModelSummaryTable } from './BackendPanel';
import { CheckpointBanner } from './CheckpointBanner';
import { ClassifyPanel } from './ClassifyPanel';
import { LibraryPanel } from './LibraryPanel';
import { useModels } from './useModels';
import { DataPanel } from './DataPanel';
import { ErrorBanner } from './ErrorBanner';
import { ResultsPanel } from './ResultsPanel';
import { SettingsPanel } from './SettingsPanel';
import { choosePreset, type FieldValues } from './fields';
import { TrainPanel } from './TrainPanel';
import { initialState, reduce } from './state';
import { readUrlOptions } from './urlOptions';

/** The data folder: `public/data/cifar10/` unless `?data=/some/path/` names another folder on this origin. */
function dataBaseUrl(): string {
  const custom = new URLSearchParams(location.search).get('data');
  // Same-origin paths only: the page must never be pointed at another site's files.
  const path = custom && /^\/(?!\/)[\w\-./]*$/.test(custom) ? custom.replace(/\/?$/, '/') : `${import.meta.env.BASE_URL}data/cifar10/`;
  return new URL(path, location.href).href;
}

/** Validates the form's text; returns the settings or the per-field messages. */
function validate(values: FieldValues, unknown: string[]): { settings: Settings } | { error: SettingsError } {
  const input: Record<string, string> = { ...values };
  for (const key of unknown) input[key] = '';
  try {
    return { settings: parseSettings(input) };
  } catch (error) {
    if (error instanceof SettingsError) return { error };
    throw error;
  }
}

export function App() {
  const url = useMemo(() => readUrlOptions(location.search), []);
  const [client] = useState(() => new TrainerClient());
  const [state, dispatch] = useReducer(reduce, initialState);
  const [values, setValues] = useState<FieldValues>(url.fields);
  const [unknown, setUnknown] = useState(url.unknown);
  // Values from the URL are checked at once, so a bad shared link says so before anyone presses Train.
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>(() => {
    const checked = validate(url.fields, url.unknown);
    return 'error' in checked ? checked.error.fields : {};
  });
  const [settingsError, setSettingsError] = useState<SettingsError | undefined>();
  const [totalEpochs, setTotalEpochs] = useState(0);
  const [now, setNow] = useState(() => Date.now());
  const autostarted = useRef(false);
  // Checkpoints, classification and the model library.
  const models = useModels(client);

  /** What a fresh worker needs: a backend and the data (from the browser's cache after the first visit). */
  const boot = useCallback(() => {
    if (!url.backendError) client.initBackend(url.backend, url.softwareGpu);
    client.loadData(dataBaseUrl());
    client.openStorage();
  }, [client, url]);

  useEffect(() => {
    const unsubscribe = client.subscribe((message) => {
      dispatch(message);
      forwardToAutomation(message);
      // A resumed run: the form and the epoch count show its settings.
      if (message.type === 'run-restored') {
        setTotalEpochs(message.settings.epochs);
        setValues(Object.fromEntries(Object.entries(message.settings).map(([k, v]) => [k, String(v)])));
      }
    });
    boot();
    return unsubscribe;
  }, [client, boot]);

  const restartWorker = useCallback(() => {
    client.restart();
    dispatch({ type: 'worker-restarted' });
    boot();
  }, [client, boot]);

  /** A run in another tab is refused before this page clears its curves and results for a new one. */
  const refusedElsewhere = useCallback(async () => {
    if (!(await client.trainingElsewhere())) return false;
    dispatch({ type: 'error', error: toErrorData(trainingElsewhere()) });
    return true;
  }, [client]);

  const start = useCallback(async () => {
    const checked = validate(values, unknown);
    if ('error' in checked) {
      setFieldErrors(checked.error.fields);
      setSettingsError(checked.error);
      return;
    }
    if (url.backendError) return;
    setFieldErrors({});
    setSettingsError(undefined);
    if (await refusedElsewhere()) return;
    setTotalEpochs(checked.settings.epochs);
    dispatch({ type: 'run-requested', at: Date.now() });
    models.actions.settleCheckpoint();
    client.train(checked.settings);
  }, [client, values, unknown, url, models.actions, refusedElsewhere]);

  const resumeCheckpoint = useCallback(async () => {
    if (await refusedElsewhere()) return;
    dispatch({ type: 'run-requested', at: Date.now() });
    models.actions.resumeCheckpoint();
  }, [models.actions, refusedElsewhere]);

  // `?autostart=1`: train as soon as the data is in, with the URL's settings —
  // unless an interrupted run is waiting: then the user chooses (resume or start over).
  const checkpointKnown = models.state.checkpoint !== undefined;
  const checkpointWaiting = Boolean(models.state.checkpoint);
  useEffect(() => {
    if (url.autostart && state.status === 'ready' && checkpointKnown && !checkpointWaiting && !autostarted.current) {
      autostarted.current = true;
      void start();
    }
  }, [url.autostart, state.status, start, checkpointKnown, checkpointWaiting]);

  // A clock for elapsed time and ETA, ticking only while a run is going.
  const running = state.status === 'training' || state.status === 'paused';
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [running]);

  const onChange = (name: string, value: string) => {
    setValues((v) => (name === 'preset' ? choosePreset(v, value) : { ...v, [name]: value }));
    setFieldErrors(({ [name]: _fixed, ...rest }) => rest);
  };

  const pageError =
    state.error ??
    (url.backendError ? { name: 'SettingsError', code: 'invalid-settings' as const, message: url.backendError } : undefined) ??
    (settingsError ? toErrorData(settingsError) : undefined);
  const unknownErrors = Object.fromEntries(unknown.filter((k) => fieldErrors[k]).map((k) => [k, fieldErrors[k] as string]));
  const canStart = state.data !== undefined && !running && state.status !== 'loading';

  return (
    <main>
      <header>
        <h1>CIFAR-10 in a tab</h1>
        <p className="subtitle">Train a convolutional network on 50,000 images, in this tab, on your own GPU.</p>
        <p className="status-line">
          Status: <span data-testid="status">{state.status}</span>
        </p>
      </header>
      {state.notice && (
        <div className="warning" role="status" data-testid="notice">
          {state.notice}
        </div>
      )}
      {pageError && (
        <ErrorBanner error={pageError}>
          {pageError.code === 'worker-crashed' && (
            <button type="button" data-testid="restart-worker" onClick={restartWorker}>
              Restart the trainer
            </button>
          )}
        </ErrorBanner>
      )}
      {Object.keys(unknownErrors).length > 0 && (
        <div className="error" role="alert">
          {Object.values(unknownErrors).join('; ')} in the URL.{' '}
          <button type="button" onClick={() => setUnknown([])}>
            Ignore them
          </button>
        </div>
      )}
      <DataPanel
        progress={state.dataProgress}
        ready={state.data}
        controls={{
          failed: !state.data && (DATA_ERROR_CODES as readonly string[]).includes(state.error?.code ?? ''),
          onCancel: () => client.cancelLoad(),
          onRetry: () => {
            dispatch({ type: 'dismiss-error' });
            client.loadData(dataBaseUrl());
          },
        }}
      />
      <CheckpointBanner
        models={models.state}
        actions={{ ...models.actions, resumeCheckpoint: () => void resumeCheckpoint() }}
        canResume={canStart}
        running={running}
      />
      <SettingsPanel values={values} errors={fieldErrors} disabled={!canStart} onChange={onChange} onSubmit={() => void start()} />
      {state.backend && <BackendPanel backend={state.backend} />}
      {state.model && <ModelSummaryTable summary={state.model} />}
      {(running || state.epochs.length > 0 || state.steps.length > 0) && (
        <TrainPanel
          state={state}
          totalEpochs={totalEpochs}
          now={now}
          controls={{ onPause: () => client.pause(), onResume: () => client.resume(), onStop: () => client.stop() }}
        />
      )}
      {state.test && state.data && <ResultsPanel result={state.test.result} images={state.test.images} classes={state.data.classes} />}
      <ClassifyPanel models={models.state} actions={models.actions} classes={state.data?.classes} />
      <LibraryPanel models={models.state} actions={models.actions} />
    </main>
  );
}
