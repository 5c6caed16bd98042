/**
 * The model library: every finished run and imported model, with open,
 * delete and export; import of TensorFlow.js Layers files (model.json + .bin);
 * export of the model that classifies now.
 */
import { describeError } from './errorText';
import type { ModelsState } from './modelsState';
import type { ModelsActions } from './useModels';

const ACTION_WORDS: Record<string, string> = {
  open: 'Opening the model failed',
  delete: 'Deleting the model failed',
  export: 'Exporting the model failed',
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
        <LibraryTable models={models} actions={actions} />
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
            accept=".json,.bin,application/json,application/octet-stream"
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
        a Keras model. To import, choose both files at once.
      </p>
    </>
  );
}

function LibraryTable({ models, actions }: { models: ModelsState; actions: ModelsActions }) {
  const { classifier, library } = models;
  return (
    <table className="library-list">
      <thead>
        <tr>
          <th>saved</th>
          <th>model</th>
          <th>colour</th>
          <th>test accuracy</th>
          <th>epochs</th>
          <th />
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
            <td>{formatDate(entry.savedAt)}</td>
            <td title={entry.name}>
              {entry.metadata.preset}
              {entry.source === 'imported' ? ' (imported)' : ''}
            </td>
            <td>{entry.metadata.color === 'gray' ? 'grayscale' : 'RGB'}</td>
            <td>{entry.metadata.testAccuracy === null ? '–' : `${(entry.metadata.testAccuracy * 100).toFixed(2)}%`}</td>
            <td>{entry.metadata.epochs || '–'}</td>
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
