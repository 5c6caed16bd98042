import { expect, test } from './fixtures';
import { wasmLine } from './wasm';

/**
 * `npm run dev` is how the next engineer works on the app. React runs every
 * effect twice there (StrictMode), so the page asks the worker for a backend
 * and the data twice; both must settle into one backend and one data set.
 */

// As a first visit: neither test lingers on a page long enough for the preset costs to matter, and measuring them
// once for this project (its own worker) would cost more than it saves.
test.use({ presetCosts: 'first-visit' });
test('the development server trains the tiny preset to the end, with no error on the way', async ({ page, pageErrors: errors }) => {
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto('/?preset=tiny&epochs=1&trainLimit=512&testLimit=200&autostart=1');
  await expect(page.getByTestId('status')).toHaveText('done', { timeout: 150_000 });
  await expect(page.getByTestId('error')).toHaveCount(0);
  await expect(page.getByTestId('test-accuracy')).toHaveText(/^\d+\.\d\d%$/);
  expect(errors).toEqual([]);
});

test('the development server is cross-origin isolated, so WASM trains on every core there too', async ({ page }) => {
  const response = await page.goto('/?backend=wasm');
  expect(response?.headers()['cross-origin-opener-policy']).toBe('same-origin');
  expect(response?.headers()['cross-origin-embedder-policy']).toBe('require-corp');
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  await expect(page.getByTestId('backend')).toHaveAttribute('data-backend', 'wasm', { timeout: 60_000 });
  await expect(page.getByTestId('backend-panel')).toContainText(wasmLine(cores));
});
