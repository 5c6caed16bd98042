/**
 * The test images behind one cell of the confusion matrix, with the model's
 * probabilities. The page holds every test image's prediction; the pixels
 * come from the worker on request, a page at a time.
 */
import { useEffect, useMemo, useState } from 'react';
import type { TestPredictions } from '../../worker/protocol';
import { ImageCanvas } from '../ImageCanvas';
import { cellMembers } from './confusion';
import type { Cell } from './ConfusionMatrix';

/** Images shown at first, and added by each "Show more". */
export const CELL_PAGE = 40;

const percent = (p: number) => `${(p * 100).toFixed(0)}%`;

export function CellImages({
  cell,
  predictions,
  classes,
  loadImages,
}: {
  cell: Cell;
  predictions: TestPredictions;
  classes: readonly string[];
  loadImages(indices: readonly number[]): Promise<Uint8Array>;
}) {
  const members = useMemo(() => cellMembers(predictions, cell.t, cell.p), [predictions, cell]);
  // Probabilities per image: one per class of the run's data set.
  const classCount = predictions.probs.length / Math.max(1, predictions.indices.length);
  const [shown, setShown] = useState(CELL_PAGE);
  const [pixels, setPixels] = useState<{ members: number[]; count: number; pixels: Uint8Array } | null>(null);
  const count = Math.min(shown, members.length);

  useEffect(() => {
    let current = true;
    const indices = members.slice(0, count).map((position) => predictions.indices[position] as number);
    loadImages(indices).then(
      (loaded) => current && setPixels({ members, count, pixels: loaded }),
      (error: unknown) => console.error('Loading the test images failed', error),
    );
    return () => {
      current = false;
    };
  }, [members, count, predictions, loadImages]);

  const name = (c: number) => classes[c] ?? String(c);
  const title = cell.t === cell.p ? `${name(cell.t)} images recognised` : `${name(cell.t)} images taken for ${name(cell.p)}`;
  const ready = pixels?.members === members ? pixels : null;
  return (
    <section
      className="cell-images"
      aria-label="Images of the picked cell"
      data-testid="cell-images"
      data-true={cell.t}
      data-predicted={cell.p}
      data-count={members.length}
    >
      <h3>
        {title}: {members.length.toLocaleString('en-US')}
      </h3>
      {members.length === 0 && <p className="hint">No test image falls in this cell.</p>}
      <div className="gallery" aria-busy={ready === null}>
        {ready &&
          members.slice(0, ready.count).map((position, k) => {
            const probs = predictions.probs.subarray(position * classCount, (position + 1) * classCount);
            const index = predictions.indices[position] as number;
            return (
              <figure
                key={position}
                data-testid="cell-image"
                data-index={index}
                data-label={predictions.labels[position]}
                data-predicted={predictions.predicted[position]}
              >
                <ImageCanvas pixels={ready.pixels} index={k} title={`test image ${index}, a ${name(cell.t)}`} size={48} />
                <figcaption>
                  {name(cell.p)} {percent(probs[cell.p] as number)}
                  {cell.t !== cell.p && (
                    <small>
                      <br />
                      {name(cell.t)} {percent(probs[cell.t] as number)}
                    </small>
                  )}
                </figcaption>
              </figure>
            );
          })}
      </div>
      {count < members.length && (
        <button type="button" onClick={() => setShown((n) => n + CELL_PAGE)}>
          Show {Math.min(CELL_PAGE, members.length - count)} more
        </button>
      )}
    </section>
  );
}
