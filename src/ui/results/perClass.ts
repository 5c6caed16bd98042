/** The per-class table's rows and their order. Pure. */

export interface ClassRow {
  index: number;
  name: string;
  /** Recall, 0–1; NaN for a class with no test image. */
  accuracy: number;
  count: number;
}

export type SortKey = 'name' | 'accuracy' | 'count';
export interface Sort {
  key: SortKey;
  direction: 'ascending' | 'descending';
}

/** The order before the user sorts: the classes' own (airplane first). */
export const CLASS_ORDER: Sort = { key: 'name', direction: 'ascending' };

export function classRows(perClass: readonly number[], confusion: readonly (readonly number[])[], classes: readonly string[]): ClassRow[] {
  return perClass.map((accuracy, index) => ({
    index,
    name: classes[index] ?? String(index),
    accuracy,
    count: confusion[index]?.reduce((a, b) => a + b, 0) ?? 0,
  }));
}

/**
 * Rows in the asked order; ties keep the classes' order. "name" means the
 * classes' own order (as the dataset lists them), and a class without images
 * (NaN accuracy) always comes last.
 */
export function sortRows(rows: readonly ClassRow[], sort: Sort): ClassRow[] {
  const sign = sort.direction === 'ascending' ? 1 : -1;
  const value = (row: ClassRow) => (sort.key === 'name' ? row.index : row[sort.key]);
  return [...rows].sort((a, b) => {
    const [va, vb] = [value(a), value(b)];
    if (Number.isNaN(va) !== Number.isNaN(vb)) return Number.isNaN(va) ? 1 : -1;
    return (va === vb || (Number.isNaN(va) && Number.isNaN(vb)) ? 0 : sign * (va - vb)) || a.index - b.index;
  });
}

/** A click on a column: a new column sorts its natural way first (numbers highest first), the same column flips. */
export function nextSort(current: Sort, key: SortKey): Sort {
  if (current.key === key) return { key, direction: current.direction === 'ascending' ? 'descending' : 'ascending' };
  return { key, direction: key === 'name' ? 'ascending' : 'descending' };
}
