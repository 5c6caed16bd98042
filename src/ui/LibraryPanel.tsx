/**
 * The model library: every finished run and imported model, with open,
 * delete and export; import of TensorFlow.js Layers files (model.json + .bin);
 * export of the model that classifies now.
 */
import { useMemo, useState } from 'react';
import { describeError } from './errorText';
import type { LibraryEntry } from '../store/library';
import type { ModelsState } from './modelsState';
import type { ModelsActions } from './useModels';
import { ComparePanel } from './compare/ComparePanel';
import { comparable, type ComparableEntry } from './compare/compare';
import { continuationMissing } from '../handover/history';

const ACTION_WORDS: Record<string, string> = {
  open: 'Opening the model failed',
  delete: 'Deleting the model failed',
  export: 'Exporting the model failed',
  continue: 'The run could not be packed to continue elsewhere',
  import: 'The model was not imported',
  save: 'The model could not be saved to the library',
  checkpoint: 'The interrupted run could not be resumed and was discarded',
};

function formatDate(ms: number): string {
  return new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function LibraryPanel({ models, actions }: { models: ModelsState; actions: ModelsActions }) {
  const { library, modelError, storage } = models;
  return (
    <section
      className="panel library"
      aria-label="Model library"
      data-testid="library"
      data-storage={storage ? (storage.checkpoints ? 'ready' : 'off') : 'unknown'}
      onDragOver={(event) => {
        if (event.dataTransfer.types.includes('Files')) event.preventDefault();
      }}
      onDrop={(event) => {
        // Model files dropped on the library are imported (pictures go to the classifier's drop zone).
        const files = [...event.dataTransfer.files];
        if (files.length === 0) return;
        event.preventDefault();
        event.stopPropagation();
        actions.importModel(files);
      }}
    >
      <h2>Models</h2>
      <CurrentModel models={models} actions={actions} />
      {modelError && (
        <div className="error" role="alert" data-testid="model-error" data-action={modelError.action} data-code={modelError.error.code}>
          <strong>{ACTION_WORDS[modelError.action] ?? 'That did not work'}:</strong> {describeError(modelError.error).message}{' '}
          <span>{describeError(modelError.error).nextStep}</span>{' '}
          <button type="button" onClick={actions.dismissModelError}>
            Dismiss
          </button>
        </div>
      )}
      {storage && !storage.checkpoints && library.length === 0 ? (
        <p className="hint" data-testid="library-off">
          The library needs the browser's site storage, which is not available here; export models to keep them.
        </p>
      ) : library.length === 0 ? (
        <p className="hint">Finished runs and imported models are kept here, in this browser.</p>
      ) : (
        <Runs models={models} actions={actions} />
      )}
    </section>
  );
}

/** The model that classifies now, its export, and the import of Layers files. */
function CurrentModel({ models, actions }: { models: ModelsState; actions: ModelsActions }) {
  const { classifier } = models;
  return (
    <>
      <p data-testid="current-model" data-source={classifier?.source ?? 'none'}>
        {classifier ? (
          <>
            Current model: <strong>{classifier.name}</strong> ({classifier.color === 'gray' ? 'grayscale' : 'colour'}
            {classifier.libraryId ? ', saved in the library' : ''}).
          </>
        ) : (
          'No model yet.'
        )}{' '}
        <button type="button" data-testid="export" disabled={!classifier} onClick={() => actions.exportModel(null)}>
          Export model
        </button>{' '}
        <label className="file-button">
          Import model…
          <input
            type="file"
            multiple
            accept=".json,.bin,.zip,application/json,application/octet-stream,application/zip"
            data-testid="import"
            onChange={(event) => {
              const files = [...(event.target.files ?? [])];
              event.target.value = '';
              if (files.length > 0) actions.importModel(files);
            }}
          />
        </label>
      </p>
      <p className="hint">
        Export writes the TensorFlow.js Layers format: a <code>.json</code> file and a <code>.weights.bin</code> file; keep them side by
        side. <code>tensorflowjs_converter --input_format tfjs_layers_model --output_format keras model.json model.h5</code> turns them into
        a Keras model (unverified here: Debian, and so this project's tests, has no TensorFlow). To import, choose both files at once, or
        drop them on this panel. <em>Continue elsewhere</em> packs a run into one <code>.zip</code> for PyTorch (see{' '}
        <code>python/README.md</code>); import the <code>export.zip</code> it writes, or the files of its <code>export/</code> folder, to
        bring the run back.
      </p>
    </>
  );
}

/** The library's entries, with a checkbox each to compare finished runs. */
function Runs({ models, actions }: { models: ModelsState; actions: ModelsActions }) {
  const [picked, setPicked] = useState<ReadonlySet<string>>(new Set());
  const compared = useMemo(
    () => models.library.filter((e): e is ComparableEntry => picked.has(e.id) && comparable(e)),
    [models.library, picked],
  );
  const toggle = (id: string) =>
    setPicked((current) => {
      const next = new Set(current);
      if (!next.delete(id)) next.add(id);
      return next;
    });
  return (
    <>
      <LibraryTable models={models} actions={actions} picked={picked} onToggle={toggle} />
      {compared.length >= 1 ? (
        <ComparePanel entries={compared} />
      ) : (
        <p className="hint">Tick a finished run to see its validation curves, or two or more to compare them.</p>
      )}
    </>
  );
}

function LibraryTable({
  models,
  actions,
  picked,
  onToggle,
}: {
  models: ModelsState;
  actions: ModelsActions;
  picked: ReadonlySet<string>;
  onToggle(id: string): void;
}) {
  const { classifier, library } = models;
  return (
    <table className="library-list">
      <caption className="sr-only">Models in this browser</caption>
      <thead>
        <tr>
          <th scope="col">compare</th>
          <th scope="col">saved</th>
          <th scope="col">model</th>
          <th scope="col">data set</th>
          <th scope="col">colour</th>
          <th scope="col">test accuracy</th>
          <th scope="col">epochs</th>
          <th scope="col">
            <span className="sr-only">actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {library.map((entry) => (
          <tr
            key={entry.id}
            data-testid="library-entry"
            data-id={entry.id}
            className={classifier?.libraryId === entry.id ? 'current' : undefined}
          >
            <td data-label="compare">
              <input
                type="checkbox"
                aria-label={`Compare ${entry.name}, saved ${formatDate(entry.savedAt)}`}
                title={comparable(entry) ? 'Compare this run' : 'No run history: imported, or kept before histories were saved'}
                disabled={!comparable(entry)}
                checked={picked.has(entry.id)}
                onChange={() => onToggle(entry.id)}
              />
            </td>
            <td data-label="saved">{formatDate(entry.savedAt)}</td>
            <td data-label="model" title={entry.name}>
              {entry.metadata.preset}
              {entry.source === 'imported' ? ' (imported)' : ''}
            </td>
            <td data-label="data set" data-testid="library-data-set" title={entry.metadata.classes.join(', ')}>
              {entry.metadata.dataSet ?? (entry.metadata.classes.length === 10 ? 'CIFAR-10' : `${entry.metadata.classes.length} classes`)}
            </td>
            <td data-label="colour">{entry.metadata.color === 'gray' ? 'grayscale' : 'RGB'}</td>
            <td data-label="test accuracy">
              {entry.metadata.testAccuracy === null ? '–' : `${(entry.metadata.testAccuracy * 100).toFixed(2)}%`}
            </td>
            <td data-label="epochs">{entry.metadata.epochs || '–'}</td>
            <td className="actions">
              <button
                type="button"
                data-testid="library-open"
                onClick={() => actions.openModel(entry.id)}
                disabled={classifier?.libraryId === entry.id}
              >
                Open
              </button>
              <button type="button" data-testid="library-export" onClick={() => actions.exportModel(entry.id)}>
                Export
              </button>
              <ContinueElsewhere entry={entry} actions={actions} />
              <button type="button" data-testid="library-delete" onClick={() => actions.deleteModel(entry.id)}>
                Delete
              </button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** "Continue elsewhere", or in words why this entry cannot. */
function ContinueElsewhere({ entry, actions }: { entry: LibraryEntry; actions: ModelsActions }) {
  const missing = continuationMissing(entry);
  if (missing) {
    return (
      <span className="hint" data-testid="continue-unavailable">
        Cannot continue elsewhere: {missing}.
      </span>
    );
  }
  const fresh = entry.continuation?.optimizer === null ? ' (with a fresh optimizer: this run carries no optimizer state)' : '';
  return (
    <button
      type="button"
      data-testid="library-continue"
      title={`Download this run as one .zip to continue it in PyTorch${fresh}`}
      onClick={() => actions.continueElsewhere(entry.id)}
    >
      Continue elsewhere
    </button>
  );
}
