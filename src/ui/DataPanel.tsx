import type { LoadProgress } from '../data/loader';
import type { FromWorker } from '../worker/protocol';
import { ImageCanvas } from './ImageCanvas';
import { OWN_SPLIT } from '../data/ownDataSet';

/** The data set in use, as the worker's 'data-ready' describes it. */
export type DataReady = Omit<Extract<FromWorker, { type: 'data-ready' }>, 'type'>;

const MB = 1024 * 1024;

/** The anchor of the panel for the user's own classes (OwnDataPanel), which this one links to. */
export const OWN_DATA_ID = 'own-data';

export interface DataControls {
  /** Loading stopped on an error or a cancel: offer Retry. */
  failed: boolean;
  onCancel(): void;
  onRetry(): void;
  /** After a failed load of the user's own data set: load CIFAR-10 instead; null otherwise. */
  onUseCifar: (() => void) | null;
}

export function DataPanel({
  progress,
  ready,
  compact = false,
  controls,
}: {
  progress?: LoadProgress;
  ready?: DataReady;
  /** Below a run: the sample images fold away behind a summary line. */
  compact?: boolean;
  controls: DataControls;
}) {
  if (!ready) {
    const fraction = progress && progress.totalBytes > 0 ? progress.loadedBytes / progress.totalBytes : 0;
    return (
      <section className="panel" aria-label="Data set">
        <h2>Data set</h2>
        <p data-testid="data-status">
          {progress
            ? `Loading ${progress.file}: ${(progress.loadedBytes / MB).toFixed(1)} of ${(progress.totalBytes / MB).toFixed(1)} MB, ${progress.loadedImages.toLocaleString('en-US')} of ${progress.totalImages.toLocaleString('en-US')} images`
            : 'Fetching the data set index…'}
        </p>
        <progress data-testid="data-progress" max={1} value={fraction} aria-label="Data loading progress" />
        {progress?.stalled && !controls.failed && (
          <p className="warning" data-testid="data-stalled" role="status">
            The download of {progress.file} has stalled: the server has sent nothing for a while. Wait, or cancel and retry.
          </p>
        )}
        <div className="controls">
          {controls.failed ? (
            <>
              <button type="button" data-testid="retry-load" onClick={controls.onRetry}>
                Retry
              </button>
              {controls.onUseCifar && (
                <button type="button" data-testid="retry-cifar10" onClick={controls.onUseCifar}>
                  Load CIFAR-10 instead
                </button>
              )}
            </>
          ) : (
            <button type="button" data-testid="cancel-load" onClick={controls.onCancel}>
              Cancel
            </button>
          )}
        </div>
      </section>
    );
  }
  const byClass = ready.classes.map((_, c) => [...ready.samples.labels.keys()].filter((i) => ready.samples.labels[i] === c));
  return (
    <section className={compact ? 'panel data compact' : 'panel data'} aria-label="Data set">
      <div className="panel-head">
        <h2 data-testid="data-name">{ready.name}</h2>
        <p data-testid="data-status">
          Loaded {ready.counts.train.toLocaleString('en-US')} training images and {ready.counts.test.toLocaleString('en-US')} test images
          {ready.cachedShards > 0 ? ` (${ready.cachedShards} shards from this browser's cache)` : ''}
          {ready.source === 'own'
            ? `, ${Math.round(OWN_SPLIT.testShare * 100)} % of each class held out for the test report, all kept in this browser`
            : ''}
          . {ready.source === 'cifar10' && !compact && <a href={`#${OWN_DATA_ID}`}>Train on your own classes instead…</a>}
        </p>
      </div>
      <details className="samples" open={!compact}>
        <summary>Sample images of each class (pictures per class in brackets)</summary>
        <table className="sample-grid" data-testid="sample-grid" aria-label="Sample images of each class">
          <tbody>
            {ready.classes.map((name, c) => (
              <tr key={name}>
                <th scope="row">
                  {name} <span className="count">({(ready.classCounts[c] ?? 0).toLocaleString('en-US')})</span>
                </th>
                <td>
                  {byClass[c]?.map((index) => (
                    <ImageCanvas key={index} pixels={ready.samples.pixels} index={index} title={name} size={40} />
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </section>
  );
}
