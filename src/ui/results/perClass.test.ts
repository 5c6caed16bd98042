import { describe, expect, it } from 'vitest';
import { CLASS_ORDER, classRows, nextSort, sortRows } from './perClass';

const rows = classRows([0.5, 0.9, Number.NaN, 0.5], [[5, 5], [1, 9], [], [2, 2]], ['cat', 'dog', 'frog', 'ship']);

describe('per-class table', () => {
  it('counts each class’s test images', () => {
    expect(rows.map((r) => r.count)).toEqual([10, 10, 0, 4]);
  });

  it('sorts by accuracy either way, ties in class order, a class without images last', () => {
    const names = (sort: Parameters<typeof sortRows>[1]) => sortRows(rows, sort).map((r) => r.name);
    expect(names(CLASS_ORDER)).toEqual(['cat', 'dog', 'frog', 'ship']);
    expect(names({ key: 'accuracy', direction: 'descending' })).toEqual(['dog', 'cat', 'ship', 'frog']);
    expect(names({ key: 'accuracy', direction: 'ascending' })).toEqual(['cat', 'ship', 'dog', 'frog']);
    expect(names({ key: 'count', direction: 'ascending' })).toEqual(['frog', 'ship', 'cat', 'dog']);
    expect(names({ key: 'name', direction: 'descending' })).toEqual(['ship', 'frog', 'dog', 'cat']);
  });

  it('a new column sorts numbers highest first; the same column flips', () => {
    expect(nextSort(CLASS_ORDER, 'accuracy')).toEqual({ key: 'accuracy', direction: 'descending' });
    expect(nextSort({ key: 'accuracy', direction: 'descending' }, 'accuracy')).toEqual({ key: 'accuracy', direction: 'ascending' });
    expect(nextSort({ key: 'accuracy', direction: 'descending' }, 'name')).toEqual(CLASS_ORDER);
  });
});
