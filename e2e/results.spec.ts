import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Locator, Page } from '@playwright/test';
import { DATA_DIR } from '../scripts/convert';
import { expect, test } from './fixtures';
import { dropPicture } from './dashboard';

/**
 * Results to explore: a confusion-matrix cell shows exactly its test images,
 * the per-class table sorts, a dropped picture shows which pixels drove its
 * prediction — with the mouse and from the keyboard.
 */

const QUICK = 'preset=tiny&epochs=1&batchSize=64&trainLimit=512&testLimit=200&backend=wasm';
const RECORD = 1 + 32 * 32 * 3;
const SHARD = 5000;

/** A test image's label and pixels (32 × 32 × 3, HWC) straight from the shards, as the data CLI wrote them. */
function testImage(index: number): { label: number; pixels: Buffer } {
  const file = path.join(DATA_DIR, `test-${String(Math.floor(index / SHARD)).padStart(3, '0')}.bin`);
  const record = readFileSync(file).subarray((index % SHARD) * RECORD, ((index % SHARD) + 1) * RECORD);
  return { label: record[0] as number, pixels: record.subarray(1) };
}

/** The counts of the matrix as its table of buttons says them: "12 cat images predicted as dog". */
async function matrixCounts(page: Page): Promise<{ t: string; p: string; count: number }[]> {
  const labels = await page
    .getByTestId('confusion-table')
    .locator('button')
    .evaluateAll((buttons) => buttons.map((b) => b.getAttribute('aria-label') ?? ''));
  return labels.map((label) => {
    const [, count, t, p] = /^(\d+) (\w+) images predicted as (\w+)$/.exec(label) ?? [];
    return { t: t ?? '', p: p ?? '', count: Number(count) };
  });
}

const CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

/** The cell's images: exactly its count, each of its true class (read from the shards) and predicted class, drawn from the right pixels. */
async function expectCellImages(page: Page, t: string, p: string, count: number): Promise<void> {
  const cell = page.getByTestId('cell-images');
  await expect(cell).toHaveAttribute('data-true', String(CLASSES.indexOf(t)));
  await expect(cell).toHaveAttribute('data-predicted', String(CLASSES.indexOf(p)));
  await expect(cell).toHaveAttribute('data-count', String(count));
  const figures = cell.getByTestId('cell-image');
  await expect(figures).toHaveCount(Math.min(count, 40));
  const shown = await figures.evaluateAll((all) =>
    all.map((f) => {
      const canvas = f.querySelector('canvas') as HTMLCanvasElement;
      const rgba = (canvas.getContext('2d') as CanvasRenderingContext2D).getImageData(0, 0, 32, 32).data;
      return {
        index: Number(f.getAttribute('data-index')),
        label: Number(f.getAttribute('data-label')),
        predicted: Number(f.getAttribute('data-predicted')),
        rgb: Array.from(rgba).filter((_, i) => i % 4 !== 3),
        caption: f.querySelector('figcaption')?.textContent ?? '',
      };
    }),
  );
  expect(new Set(shown.map((s) => s.index)).size).toBe(shown.length);
  for (const s of shown) {
    const truth = testImage(s.index);
    expect(truth.label, `test image ${s.index}`).toBe(CLASSES.indexOf(t));
    expect(s.label).toBe(CLASSES.indexOf(t));
    expect(s.predicted).toBe(CLASSES.indexOf(p));
    expect(s.rgb).toEqual(Array.from(truth.pixels));
    // Its probabilities: the predicted class's, and the true class's when they differ.
    expect(s.caption).toMatch(t === p ? new RegExp(`^${p} \\d+%$`) : new RegExp(`^${p} \\d+%${t} \\d+%$`));
  }
}

const accuracies = (table: Locator) =>
  table
    .locator('tbody tr td:nth-child(2)')
    .allTextContents()
    .then((all) => all.map((a) => Number.parseFloat(a)));

test('a confusion-matrix cell shows exactly its test images; the per-class table sorts; a dropped picture shows its saliency map', async ({
  page,
  pageErrors,
}) => {
  await page.goto(`/?${QUICK}&autostart=1`);
  await expect(page.getByTestId('status')).toHaveText('done', { timeout: 180_000 });
  await expect(page.getByTestId('confusion-matrix')).toHaveAttribute('data-drawn', 'true');

  // With the mouse: the largest mistake, clicked on the heat map.
  const counts = await matrixCounts(page);
  expect(counts).toHaveLength(100);
  expect(counts.reduce((a, c) => a + c.count, 0)).toBe(200);
  const mistake = counts.filter((c) => c.t !== c.p).sort((a, b) => b.count - a.count)[0] as { t: string; p: string; count: number };
  expect(mistake.count).toBeGreaterThan(0);
  await page
    .getByTestId('confusion-matrix')
    .locator(`g.mark-rect path[aria-label^="predicted: ${mistake.p}; true class: ${mistake.t};"]`)
    // Near its corner: the count printed in its middle is a mark of its own (a click there picks the cell too).
    .click({ position: { x: 3, y: 3 } });
  await expectCellImages(page, mistake.t, mistake.p, mistake.count);

  // From the keyboard: the matrix as a table, a diagonal cell's button.
  const summary = page.locator('summary', { hasText: 'The matrix as a table' });
  await summary.focus();
  await page.keyboard.press('Enter');
  const right = counts.find((c) => c.t === c.p && c.count > 0) as { t: string; p: string; count: number };
  const button = page.getByRole('button', { name: `${right.count} ${right.t} images predicted as ${right.p}` });
  await button.focus();
  await page.keyboard.press('Enter');
  await expect(button).toHaveAttribute('aria-pressed', 'true');
  await expectCellImages(page, right.t, right.p, right.count);

  // The per-class table sorts by accuracy, highest first, then lowest first (Enter on the focused heading).
  const table = page.getByTestId('per-class-accuracy');
  await expect(table.locator('tbody tr').first().locator('td').first()).toHaveText('airplane');
  await table.getByRole('button', { name: 'Accuracy' }).click();
  await expect(table.getByRole('columnheader', { name: 'Accuracy' })).toHaveAttribute('aria-sort', 'descending');
  const down = await accuracies(table);
  expect(down).toEqual([...down].sort((a, b) => b - a));
  await page.keyboard.press('Enter');
  await expect(table.getByRole('columnheader', { name: 'Accuracy' })).toHaveAttribute('aria-sort', 'ascending');
  const up = await accuracies(table);
  expect(up).toEqual([...up].sort((a, b) => a - b));
  await expect(table.locator('tbody tr')).toHaveCount(10);

  // A dropped picture: its saliency map, computed in the worker, over the 32 × 32 input and the thumbnail.
  await dropPicture(page);
  const card = page.getByTestId('prediction');
  await expect(card).toHaveCount(1, { timeout: 60_000 });
  const map = card.getByTestId('saliency');
  await expect(map).toBeVisible();
  await expect(card.getByTestId('saliency-thumb')).toBeVisible();
  await expect(map).toHaveAttribute('role', 'img');
  await expect(map).toHaveAttribute(
    'aria-label',
    new RegExp(`^Saliency map of rings.png for “${await card.getAttribute('data-label')}”: strongest in the `),
  );
  const alpha = await map.evaluate((canvas: HTMLCanvasElement) =>
    Array.from((canvas.getContext('2d') as CanvasRenderingContext2D).getImageData(0, 0, 32, 32).data).filter((_, i) => i % 4 === 3),
  );
  // Some pixels hot, others cold: a map, not a flat wash.
  expect(Math.max(...alpha)).toBeGreaterThan(150);
  expect(alpha.filter((a) => a < 20).length).toBeGreaterThan(100);
  await page.getByLabel('Show which pixels drove each prediction').uncheck();
  await expect(map).toHaveCount(0);
  expect(pageErrors).toEqual([]);
});
