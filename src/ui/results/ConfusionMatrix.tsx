/**
 * The confusion matrix: a heat map to click (mouse, touch), and the same
 * counts as a table of buttons for the keyboard and screen readers. Either
 * picks a cell, whose images the results panel then shows.
 */
import { useEffect, useRef } from 'react';
import { nextTask } from '../charts/embed';
import { useColorScheme } from '../charts/useColorScheme';
import { useLiveView } from '../charts/useLiveView';
import { describeMatrix, MATRIX_DATA, matrixSpec, PICKED, type MatrixCell } from './confusion';

export interface Cell {
  t: number;
  p: number;
}

interface Props {
  cells: readonly MatrixCell[];
  classes: readonly string[];
  picked: Cell | null;
  onPick(cell: Cell): void;
}

export function ConfusionMatrix(props: Props) {
  return (
    <div className="matrix">
      <MatrixChart {...props} />
      <details className="matrix-table">
        <summary>The matrix as a table</summary>
        <MatrixTable {...props} />
      </details>
    </div>
  );
}

function MatrixChart({ cells, classes, picked, onPick }: Props) {
  const ref = useRef<HTMLDivElement>(null);
  const scheme = useColorScheme();
  const view = useLiveView(ref, 'matrix', () => matrixSpec(classes, scheme), scheme);
  const pick = useRef(onPick);
  useEffect(() => {
    pick.current = onPick;
  });

  useEffect(() => {
    if (!view) return;
    const onClick = (_event: unknown, item: unknown) => {
      const datum = (item as { datum?: Partial<MatrixCell> } | null | undefined)?.datum;
      if (datum && typeof datum.t === 'number' && typeof datum.p === 'number') pick.current({ t: datum.t, p: datum.p });
    };
    view.addEventListener('click', onClick);
    return () => {
      view.removeEventListener('click', onClick);
    };
  }, [view]);

  // The counts, in a task of their own after the chart is made.
  useEffect(() => {
    if (!view) return;
    let current = true;
    void nextTask().then(() => {
      if (current)
        view
          .data(
            MATRIX_DATA,
            cells.map((c) => ({ ...c })),
          )
          .runAsync()
          .catch((error: unknown) => console.error('Drawing the confusion matrix failed', error));
    });
    return () => {
      current = false;
    };
  }, [view, cells]);

  // The picked cell is outlined; a signal change redraws nothing else.
  useEffect(() => {
    if (!view) return;
    view.signal(PICKED.t, picked?.t ?? -1).signal(PICKED.p, picked?.p ?? -1);
    view.runAsync().catch((error: unknown) => console.error('Marking the picked cell failed', error));
  }, [view, picked]);

  return <div ref={ref} className="chart" data-testid="confusion-matrix" role="img" aria-label={describeMatrix(cells)} />;
}

function MatrixTable({ cells, classes, picked, onPick }: Props) {
  return (
    <table className="confusion-table" data-testid="confusion-table">
      <caption>Test images by true class (rows) and predicted class (columns); each count shows its images</caption>
      <thead>
        <tr>
          <td />
          {classes.map((name) => (
            <th key={name} scope="col">
              <span>{name}</span>
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {classes.map((trueName, t) => (
          <tr key={trueName}>
            <th scope="row">{trueName}</th>
            {classes.map((predictedName, p) => {
              const cell = cells[t * classes.length + p];
              const isPicked = picked?.t === t && picked.p === p;
              return (
                <td key={predictedName} className={t === p ? 'diagonal' : undefined}>
                  <button
                    type="button"
                    aria-pressed={isPicked}
                    aria-label={`${cell?.count ?? 0} ${trueName} images predicted as ${predictedName}`}
                    onClick={() => onPick({ t, p })}
                  >
                    {cell?.count ?? 0}
                  </button>
                </td>
              );
            })}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
