import { mkdirSync } from 'node:fs';
import { expect, test } from './fixtures';
import { readyToTrain } from './dashboard';

/**
 * The README's pictures, taken from the real app in headless Chromium every
 * time the suite runs, so they show the app as it is. Written to
 * docs/screenshots/ (committed): a change to the page shows in the diff.
 */

const OUT = 'docs/screenshots';
/** Long enough to photograph mid-run: 64 steps an epoch, 3 epochs. */
const RUN = 'preset=tiny&epochs=3&batchSize=32&trainLimit=2048&testLimit=500&backend=wasm';

test('screenshots for the README: training in progress, results, a phone in the dark', async ({ page, pageErrors }) => {
  mkdirSync(OUT, { recursive: true });
  await page.setViewportSize({ width: 1366, height: 768 });
  await page.goto(`/?${RUN}`);
  await readyToTrain(page);
  await page.getByRole('button', { name: 'Train', exact: true }).click();

  // Training in progress: after the first epoch, so both curves and a validation point show.
  await expect(page.locator('table.epochs tbody tr')).toHaveCount(1, { timeout: 120_000 });
  await expect.poll(async () => Number(await page.getByTestId('step').textContent()), { timeout: 60_000 }).toBeGreaterThan(90);
  await page.mouse.move(0, 0);
  await page.screenshot({ path: `${OUT}/training.png` });

  // Results, with the images of the largest mistake shown.
  await expect(page.getByTestId('status')).toHaveText('done', { timeout: 180_000 });
  await expect(page.getByTestId('per-class-chart')).toHaveAttribute('data-drawn', 'true');
  const labels = await page
    .getByTestId('confusion-table')
    .locator('button')
    .evaluateAll((buttons) =>
      buttons.map((b, i) => ({ i, count: Number.parseInt(b.getAttribute('aria-label') ?? '0'), diagonal: i % 11 === 0 })),
    );
  const worst = labels.filter((l) => !l.diagonal).sort((a, b) => b.count - a.count)[0] as { i: number };
  await page
    .getByTestId('confusion-matrix')
    .locator('g.mark-rect path')
    .nth(worst.i)
    .click({ position: { x: 3, y: 3 } });
  await expect(page.getByTestId('cell-image').first()).toBeVisible();
  await page.getByRole('region', { name: 'Results' }).screenshot({ path: `${OUT}/results.png` });

  // The same page on a phone, in the dark scheme.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.emulateMedia({ colorScheme: 'dark' });
  await expect(page.getByTestId('loss-chart').locator('.role-axis-label text').first()).toHaveAttribute('fill', '#c3c9d3');
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: `${OUT}/phone-dark.png` });
  expect(pageErrors).toEqual([]);
});
