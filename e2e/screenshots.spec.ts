import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, test } from './fixtures';
import { readyToTrain } from './dashboard';
import { png, type Rgba } from './images';

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

/** Three classes of drawn shapes, 24 pictures each at 64 × 64, in random colours and places: nothing from CIFAR-10. */
function writeShapes(root: string): void {
  let state = 7;
  const random = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const shapes: Record<string, (dx: number, dy: number, r: number) => boolean> = {
    circles: (dx, dy, r) => dx * dx + dy * dy < r * r,
    squares: (dx, dy, r) => Math.abs(dx) < r * 0.8 && Math.abs(dy) < r * 0.8,
    stripes: (dx, dy, r) => Math.abs(dx + dy) < r && Math.floor((dx - dy) / 6) % 2 === 0,
  };
  for (const [name, inside] of Object.entries(shapes)) {
    mkdirSync(path.join(root, name), { recursive: true });
    for (let i = 0; i < 24; i++) {
      const [cx, cy, r] = [20 + random() * 24, 20 + random() * 24, 10 + random() * 10];
      const fg: Rgba = [random() * 255, random() * 255, random() * 255, 255].map(Math.round) as Rgba;
      const bg: Rgba = [230 - random() * 60, 230 - random() * 60, 230 - random() * 60, 255].map(Math.round) as Rgba;
      writeFileSync(
        path.join(root, name, `${String(i).padStart(2, '0')}.png`),
        png(64, 64, (x, y) => (inside(x - cx, y - cy, r) ? fg : bg)),
      );
    }
  }
  writeFileSync(path.join(root, 'circles', 'broken.png'), 'not a picture');
}

test('screenshot for the README: a folder of your own classes, read', async ({ page, pageErrors }, testInfo) => {
  mkdirSync(OUT, { recursive: true });
  await page.setViewportSize({ width: 1366, height: 900 });
  await page.goto(`/?${RUN}`);
  await readyToTrain(page);
  const root = testInfo.outputPath('shapes');
  writeShapes(root);
  await page.getByTestId('own-folder-input').setInputFiles(root);
  await expect(page.getByTestId('own-report')).toContainText('Stored “shapes”: 3 classes, 72 pictures; 1 left out', { timeout: 60_000 });
  await expect(page.getByTestId('data-name')).toHaveText('shapes');
  await page.mouse.move(0, 0);
  // Two pictures: the panels sit apart (the settings between), and a clip of both would be mostly settings.
  await page.getByRole('region', { name: 'Data set' }).screenshot({ path: `${OUT}/own-classes-data.png` });
  await page.getByRole('region', { name: 'Your own classes' }).screenshot({ path: `${OUT}/own-classes.png` });
  expect(pageErrors).toEqual([]);
});
