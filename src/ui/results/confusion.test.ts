import { describe, expect, it } from 'vitest';
import { cellMembers, describeMatrix, matrixCells } from './confusion';

const CLASSES = ['cat', 'dog', 'frog'];
const CONFUSION = [
  [5, 3, 0],
  [1, 6, 1],
  [0, 0, 0],
];

describe('confusion matrix', () => {
  it('turns the counts into cells with their share of the true class', () => {
    const cells = matrixCells(CONFUSION, CLASSES);
    expect(cells).toHaveLength(9);
    expect(cells[1]).toEqual({ t: 0, p: 1, trueName: 'cat', predictedName: 'dog', count: 3, share: 3 / 8 });
    // A class with no image has no share rather than NaN.
    expect(cells[8]).toMatchObject({ count: 0, share: 0 });
  });

  it('lists exactly the images of one cell, in test-set order', () => {
    const predictions = { labels: Uint8Array.from([0, 1, 0, 0, 1, 2]), predicted: Uint8Array.from([1, 1, 0, 1, 0, 2]) };
    expect(cellMembers(predictions, 0, 1)).toEqual([0, 3]);
    expect(cellMembers(predictions, 1, 0)).toEqual([4]);
    expect(cellMembers(predictions, 2, 0)).toEqual([]);
  });

  it('says in words what the chart shows', () => {
    expect(describeMatrix(matrixCells(CONFUSION, CLASSES), 2)).toBe(
      'Confusion matrix of 16 test images, true class by row, predicted class by column: 11 on the diagonal. Most frequent mistakes: cat taken for dog 3 times; dog taken for cat once.',
    );
  });
});
