import type { LoadProgress } from '../data/loader';
import type { SampleImages } from '../worker/protocol';
import { ImageCanvas } from './ImageCanvas';

export interface DataReady {
  classes: string[];
  counts: { train: number; test: number };
  samples: SampleImages;
  cachedShards: number;
}

const MB = 1024 * 1024;

export interface DataControls {
  /** Loading stopped on an error or a cancel: offer Retry. */
  failed: boolean;
  onCancel(): void;
  onRetry(): void;
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
        <h2>CIFAR-10</h2>
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
            <button type="button" data-testid="retry-load" onClick={controls.onRetry}>
              Retry
            </button>
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
        <h2>CIFAR-10</h2>
        <p data-testid="data-status">
          Loaded {ready.counts.train.toLocaleString('en-US')} training images and {ready.counts.test.toLocaleString('en-US')} test images
          {ready.cachedShards > 0 ? ` (${ready.cachedShards} shards from this browser's cache)` : ''}.
        </p>
      </div>
      <details className="samples" open={!compact}>
        <summary>Sample images of each class</summary>
        <table className="sample-grid" data-testid="sample-grid" aria-label="Sample images of each class">
          <tbody>
            {ready.classes.map((name, c) => (
              <tr key={name}>
                <th scope="row">{name}</th>
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
