/** Accuracy per class as a table that sorts by any column (click or Enter on its heading). */
import { useState } from 'react';
import { CLASS_ORDER, nextSort, sortRows, type ClassRow, type Sort, type SortKey } from './perClass';

const COLUMNS: { key: SortKey; label: string }[] = [
  { key: 'name', label: 'Class' },
  { key: 'accuracy', label: 'Accuracy' },
  { key: 'count', label: 'Test images' },
];

export function PerClassTable({ rows }: { rows: readonly ClassRow[] }) {
  const [sort, setSort] = useState<Sort>(CLASS_ORDER);
  return (
    <table className="per-class" data-testid="per-class-accuracy">
      <caption>Accuracy per class (the share of each class's test images recognised)</caption>
      <thead>
        <tr>
          {COLUMNS.map(({ key, label }) => (
            <th key={key} scope="col" aria-sort={sort.key === key ? sort.direction : undefined}>
              <button type="button" onClick={() => setSort(nextSort(sort, key))}>
                {label}
                <span aria-hidden="true" className="sort-mark">
                  {sort.key === key ? (sort.direction === 'ascending' ? ' ▲' : ' ▼') : ''}
                </span>
              </button>
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {sortRows(rows, sort).map((row) => (
          <tr key={row.name}>
            <td>{row.name}</td>
            <td>{Number.isNaN(row.accuracy) ? '–' : `${(row.accuracy * 100).toFixed(1)}%`}</td>
            <td>{row.count.toLocaleString('en-US')}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
