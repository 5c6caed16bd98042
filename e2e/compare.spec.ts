import { expect, test } from './fixtures';
import { lineVertices } from './dashboard';

/**
 * Compare runs: an RGB run, then — from the keyboard — the same run in
 * grayscale; both kept in the library with their history, and overlaid.
 */

const TWO_EPOCHS = 'preset=tiny&epochs=2&batchSize=64&trainLimit=512&testLimit=200&backend=wasm';

test('two finished runs from the library overlay their validation curves and sit side by side', async ({ page, pageErrors }) => {
  await page.goto(`/?${TWO_EPOCHS}&autostart=1`);
  await expect(page.getByTestId('status')).toHaveText('done', { timeout: 180_000 });
  await expect(page.getByTestId('library-entry')).toHaveCount(1);
  const rgbEpochs = await page.locator('table.epochs tbody tr td:nth-child(5)').allTextContents();

  // The second run from the keyboard alone: open the settings, choose grayscale, press Train.
  await page.getByRole('button', { name: 'Edit settings' }).focus();
  await page.keyboard.press('Enter');
  const colour = page.getByLabel('Colour', { exact: true });
  await expect(colour).toBeVisible();
  await colour.focus();
  await page.keyboard.press('ArrowDown');
  await expect(colour).toHaveValue('gray');
  await page.getByRole('button', { name: 'Train', exact: true }).focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('settings-summary')).toContainText('tiny · Grayscale · 2 epochs');
  await expect(page.getByTestId('status')).toHaveText('done', { timeout: 180_000 });
  await expect(page.getByTestId('library-entry')).toHaveCount(2);
  const grayEpochs = await page.locator('table.epochs tbody tr td:nth-child(5)').allTextContents();

  // Tick both (Space on each checkbox): the comparison appears.
  const boxes = page.getByRole('checkbox', { name: /^Compare tiny/ });
  await expect(boxes).toHaveCount(2);
  for (const box of await boxes.all()) {
    await box.focus();
    await page.keyboard.press('Space');
  }
  const compare = page.getByRole('region', { name: 'Compare runs' });
  await expect(compare).toBeVisible();
  const rows = compare.getByTestId('compare-row');
  await expect(rows).toHaveCount(2);
  // Newest first in the library: the grayscale run, then the RGB run.
  await expect(rows.nth(0).locator('th, td')).toHaveText([
    /^1 · tiny · gray · 2 epochs$/,
    'tiny',
    'grayscale',
    '2',
    /^\d+\.\d\d%$/,
    /^\d+\.\d$/,
    'wasm',
    /\d s$/,
    /^(none reached|50 %: .+)$/,
  ]);
  await expect(rows.nth(1).locator('th, td')).toHaveText([
    /^2 · tiny · rgb · 2 epochs$/,
    'tiny',
    'RGB',
    '2',
    /^\d+\.\d\d%$/,
    /^\d+\.\d$/,
    'wasm',
    /\d s$/,
    /^(none reached|50 %: .+)$/,
  ]);

  // One validation curve per run on one chart, two epochs each, at the same x positions, in the order of their accuracies.
  const chart = page.getByTestId('compare-accuracy');
  await expect(chart).toHaveAttribute('data-drawn', 'true');
  const line = (run: string) => chart.locator(`g.mark-line path[aria-label*="run: ${run}"]`);
  await expect(chart.locator('g.mark-line path')).toHaveCount(2);
  const gray = await lineVertices(line('1 · tiny · gray · 2 epochs'));
  const rgb = await lineVertices(line('2 · tiny · rgb · 2 epochs'));
  expect(gray.map(([x]) => x)).toEqual(rgb.map(([x]) => x));
  const percent = (texts: string[]) => texts.map((t) => Number.parseFloat(t));
  const [g, r] = [percent(grayEpochs), percent(rgbEpochs)];
  for (const epoch of [0, 1]) {
    const higherOnScreen = Math.sign((rgb[epoch] as [number, number])[1] - (gray[epoch] as [number, number])[1]);
    expect(higherOnScreen, `epoch ${epoch + 1}: gray ${g[epoch]}%, RGB ${r[epoch]}%`).toBe(
      Math.sign((g[epoch] as number) - (r[epoch] as number)),
    );
  }
  await expect(page.getByTestId('compare-loss')).toHaveAttribute('data-drawn', 'true');

  // Time to accuracy: each run's cell names exactly the levels its validation accuracy reached.
  const levels = (texts: string[]) => [50, 60, 70, 80].filter((t) => Math.max(...percent(texts)) >= t).map((t) => `${t} %:`);
  for (const [row, texts] of [
    [rows.nth(0), grayEpochs],
    [rows.nth(1), rgbEpochs],
  ] as const) {
    const cell = (await row.getByTestId('compare-time-to-accuracy').textContent()) ?? '';
    const expected = levels(texts);
    if (expected.length === 0) expect(cell).toBe('none reached');
    for (const level of expected) expect(cell).toContain(level);
  }

  // The same curves against minutes from Train: each run's points move right with its own time.
  await compare.getByRole('radio', { name: 'minutes from Train' }).check();
  await expect(chart).toHaveAttribute('data-axis', 'minutes');
  await expect(chart).toHaveAttribute('data-drawn', 'true');
  await expect(chart.locator('g.mark-line path')).toHaveCount(2);
  for (const run of ['1 · tiny · gray · 2 epochs', '2 · tiny · rgb · 2 epochs']) {
    const [first, second] = (await lineVertices(line(run))) as [[number, number], [number, number]];
    expect(second[0]).toBeGreaterThan(first[0]);
  }
  await expect(page.getByTestId('compare-accuracy-figure')).toHaveAttribute('aria-label', /per minute from Train of 2 runs/);
  expect(pageErrors).toEqual([]);
});
