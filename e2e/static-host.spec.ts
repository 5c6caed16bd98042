import type { Page } from '@playwright/test';
import { ISOLATED_BY_SERVICE_WORKER } from '../src/isolation/isolate';
import { expect, test } from './fixtures';
import { serveStatic, type StaticHost } from './static-host';
import { wasmLine } from './wasm';
import { foreignRequests, watchPage } from './watch';

/**
 * The built app on a host that sends no isolation headers, under a path of
 * its own, as GitHub Pages serves a project's site: the app's service worker
 * adds the headers, so WASM still trains on every core; where service
 * workers are blocked, one thread, and the page says why.
 */

/** A short WASM run: 256 training images, 100 test images. */
const RUN = '?preset=tiny&epochs=1&batchSize=64&trainLimit=256&testLimit=100&backend=wasm&autostart=1';

let host: StaticHost;
test.beforeAll(async () => {
  host = await serveStatic('dist', '/cifar10-in-a-tab/');
});
test.afterAll(async () => {
  await host.close();
});

/** `crossOriginIsolated` of whatever document the page holds now (false while it is between two). */
const isolated = (page: Page) => page.evaluate(() => crossOriginIsolated).catch(() => false);

test('without isolation headers, the app’s service worker isolates the page after one reload, and WASM trains on every core', async ({
  page,
}) => {
  const seen = await watchPage(page);
  const response = await page.goto(`${host.url}${RUN}`);
  const headers = response?.headers() ?? {};
  expect(headers['cross-origin-opener-policy']).toBeUndefined();
  expect(headers['cross-origin-embedder-policy']).toBeUndefined();
  expect(headers['content-security-policy']).toBeUndefined();
  await expect.poll(() => isolated(page), { timeout: 60_000 }).toBe(true);
  // The page's own CSP, from its <meta>, still rules.
  await expect(page.locator('meta[http-equiv="Content-Security-Policy"]')).toHaveAttribute('content', /worker-src 'self'/);

  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  await expect(page.getByTestId('backend')).toHaveAttribute('data-backend', 'wasm', { timeout: 60_000 });
  await expect(page.getByTestId('backend-panel')).toContainText(wasmLine(cores, undefined, `; ${ISOLATED_BY_SERVICE_WORKER}`));
  await expect(page.getByTestId('status')).toHaveText('done', { timeout: 150_000 });
  await expect(page.getByTestId('test-accuracy')).toHaveText(/^\d+\.\d\d%$/);
  expect(seen.requests.some((url) => /\/assets\/replica\.worker-[\w-]+\.js$/.test(url))).toBe(cores >= 2);
  // One reload to come under the service worker: the first load and the isolated one.
  expect(seen.loads).toBe(2);

  // The next visit is isolated from its first response: no reload.
  await page.goto(`${host.url}?backend=wasm`);
  expect(await isolated(page)).toBe(true);
  await expect(page.getByTestId('backend-panel')).toContainText(ISOLATED_BY_SERVICE_WORKER, { timeout: 60_000 });
  expect(seen.loads).toBe(3);

  const origin = new URL(host.url).origin;
  expect(foreignRequests(seen, origin)).toEqual([]);
  expect(seen.errors).toEqual([]);
});

test.describe('where the browser allows no service worker', () => {
  test.use({ serviceWorkers: 'block' });

  test('WASM runs single-threaded and the page says why', async ({ page }) => {
    const seen = await watchPage(page);
    await page.goto(`${host.url}?backend=wasm`);
    await expect(page.getByTestId('backend')).toHaveAttribute('data-backend', 'wasm', { timeout: 60_000 });
    expect(await isolated(page)).toBe(false);
    const line = page.getByTestId('backend-panel');
    await expect(line).toContainText('SIMD, single-threaded: the page is not cross-origin isolated (the server sends no');
    await expect(line).toContainText('service worker');
    expect(seen.loads).toBe(1);
    expect(seen.errors).toEqual([]);
  });
});
