import { expect, test } from './fixtures';
import { SHORT_RUN, dropPicture, overflow } from './dashboard';

/** The page on a phone, in the dark, and from the keyboard. */

test('on a 390 px phone nothing is wider than the screen; the dark scheme applies to the page and its charts', async ({
  page,
  pageErrors,
}) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`/?${SHORT_RUN}&autostart=1`);
  const fits = async (when: string) => expect(await overflow(page), when).toEqual({ scrollWidth: 390, viewport: 390, wide: [] });
  await fits('loading');
  await expect.poll(async () => Number(await page.getByTestId('step').textContent()), { timeout: 120_000 }).toBeGreaterThan(0);
  await fits('training');
  await expect(page.getByTestId('status')).toHaveText('done', { timeout: 180_000 });
  await dropPicture(page);
  await expect(page.getByTestId('prediction')).toHaveCount(1, { timeout: 60_000 });
  await expect(page.getByTestId('library-entry')).toHaveCount(1);
  // Everything folded open: the settings form, the samples, the model's layers, the matrix as a table.
  await page.getByRole('button', { name: 'Edit settings' }).click();
  for (const summary of ['Sample images of each class', 'The matrix as a table', /^Model: /])
    await page.locator('summary', { hasText: summary }).click();
  await expect(page.getByTestId('confusion-table')).toBeVisible();
  await page.getByTestId('confusion-table').getByRole('button').first().click();
  await expect(page.getByTestId('cell-images')).toBeVisible();
  await fits('results');

  await page.emulateMedia({ colorScheme: 'dark' });
  expect(await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor)).toBe('rgb(18, 21, 27)');
  expect(await page.getByRole('region', { name: 'Training' }).evaluate((el) => getComputedStyle(el).backgroundColor)).toBe(
    'rgb(27, 32, 41)',
  );
  // Every chart drawn again in the dark scheme's colours: light axis labels on the dark panel.
  for (const id of ['loss-chart', 'accuracy-chart', 'confusion-matrix', 'per-class-chart']) {
    await expect(page.getByTestId(id).locator('.role-axis-label text').first(), id).toHaveAttribute('fill', '#c3c9d3');
  }
  await fits('results, dark');
  expect(pageErrors).toEqual([]);
});
