import { expect, test } from './fixtures';
import { wasmLine } from './wasm';
import { foreignRequests, watchPage } from './watch';

// The whole data set, not the routed sample: with the sample's route in the context, the requests of the WASM
// backend's thread workers went unreported to the first spec, which checks that they were made.
test.use({ data: 'full' });

/** A short WASM run: 256 training images, 100 test images. */
const RUN = '/?preset=tiny&epochs=1&batchSize=64&trainLimit=256&testLimit=100&backend=wasm&autostart=1';

test('served with COOP and COEP, the page is cross-origin isolated and WASM trains on every core', async ({ page, baseURL }) => {
  const origin = new URL(baseURL as string).origin;
  const seen = await watchPage(page);
  const response = await page.goto(RUN);
  const headers = response?.headers() ?? {};
  expect(headers['cross-origin-opener-policy']).toBe('same-origin');
  expect(headers['cross-origin-embedder-policy']).toBe('require-corp');
  expect(headers['content-security-policy']).toContain("worker-src 'self'");
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);

  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  const backend = page.getByTestId('backend-panel');
  await expect(page.getByTestId('backend')).toHaveAttribute('data-backend', 'wasm', { timeout: 60_000 });
  await expect(backend).toContainText(wasmLine(cores));

  await expect(page.getByTestId('status')).toHaveText('done', { timeout: 150_000 });
  await expect(page.getByTestId('error')).toHaveCount(0);
  await expect(page.getByTestId('test-accuracy')).toHaveText(/^\d+\.\d\d%$/);
  // Where each worker has one thread, the convolutions run on our relaxed-SIMD kernel (Chromium ≥ 114), else on XNNPACK's pool.
  const threadsPerWorker = Math.max(1, Math.min(Math.floor(cores / Math.min(cores, 2)), 8));
  await expect(page.getByTestId('kernel-plan')).toContainText(
    threadsPerWorker === 1
      ? "convolutions on ours, with relaxed SIMD's fused multiply-add"
      : `convolutions on XNNPACK's kernels and their ${threadsPerWorker} threads`,
  );

  // The threaded build really started: its pthread workers load their script and the factory from our origin.
  expect(seen.requests.some((url) => /\/assets\/tfjs-backend-wasm-threaded-simd\.worker-[\w-]+\.js$/.test(url))).toBe(true);
  expect(seen.requests.some((url) => /\/assets\/tfjs-backend-wasm-threaded-simd-[\w-]+\.js$/.test(url))).toBe(true);
  expect(seen.requests.some((url) => /\/assets\/tfjs-backend-wasm-threaded-simd-[\w-]+\.wasm$/.test(url))).toBe(true);
  // With two cores or more, the run's second worker trained beside the first.
  expect(seen.requests.some((url) => /\/assets\/replica\.worker-[\w-]+\.js$/.test(url))).toBe(cores >= 2);
  expect(foreignRequests(seen, origin)).toEqual([]);
  // CSP violations included: watchPage reports them as errors.
  expect(seen.errors).toEqual([]);
});

test('?workers=1 trains in one worker on every core’s threads, and a wrong value is named', async ({ page }) => {
  const seen = await watchPage(page);
  await page.goto(RUN.replace('autostart=1', 'workers=1&autostart=1'));
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  await expect(page.getByTestId('backend')).toHaveAttribute('data-backend', 'wasm', { timeout: 60_000 });
  await expect(page.getByTestId('backend-panel')).toContainText(wasmLine(cores, 1));
  await expect(page.getByTestId('status')).toHaveText('done', { timeout: 150_000 });
  await expect(page.getByTestId('test-accuracy')).toHaveText(/^\d+\.\d\d%$/);
  expect(seen.requests.some((url) => /replica\.worker/.test(url))).toBe(false);
  expect(seen.errors).toEqual([]);

  await page.goto('/?backend=wasm&workers=many');
  await expect(page.getByText('The workers option "many" in the URL must be a whole number from 1 to 8; using the default.')).toBeVisible();
  await expect(page.getByTestId('backend-panel')).toContainText(wasmLine(cores), { timeout: 60_000 });
});
