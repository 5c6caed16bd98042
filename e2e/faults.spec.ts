import type { Route } from '@playwright/test';
import { expect, SAMPLE_LOADED, test } from './fixtures';

const SHARD = /\/data\/cifar10\/test-000\.bin(\?.*)?$/;

test('a stalled shard is reported; Cancel stops the download and Retry resumes it from the cache', async ({ page }) => {
  const held: Route[] = [];
  // The server accepts the request for one shard and then sends nothing.
  await page.route(SHARD, (route) => void held.push(route));
  await page.goto('/');
  await expect(page.getByRole('region', { name: 'Data set' }).getByRole('status')).toContainText('test-000.bin', { timeout: 60_000 });
  await expect(page.getByRole('button', { name: 'Train', exact: true })).toBeDisabled();

  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByTestId('error')).toContainText('cancelled during test-000.bin');
  await expect(page.getByRole('button', { name: 'Train', exact: true })).toBeDisabled();

  // The server recovers; Retry downloads only what is missing.
  await page.unroute(SHARD);
  const refetched: string[] = [];
  page.context().on('request', (r) => {
    if (/\/data\/cifar10\/[\w-]+\.bin/.test(r.url())) refetched.push(new URL(r.url()).pathname);
  });
  await page.getByRole('button', { name: 'Retry' }).click();
  await expect(page.getByTestId('data-status')).toContainText(SAMPLE_LOADED, { timeout: 120_000 });
  await expect(page.getByTestId('error')).toHaveCount(0);
  expect(refetched).not.toContain('/data/cifar10/train-000.bin');
  expect(refetched).toContain('/data/cifar10/test-000.bin');
  await expect(page.getByRole('button', { name: 'Train', exact: true })).toBeEnabled();
  for (const route of held) await route.abort().catch(() => undefined);
});

test('after a missing shard, Retry succeeds once the shard is back', async ({ page }) => {
  let missing = true;
  await page.route(SHARD, (route) => (missing ? route.fulfill({ status: 404, body: 'not found' }) : route.fallback()));
  await page.goto('/');
  await expect(page.getByTestId('error')).toContainText('test-000.bin', { timeout: 120_000 });
  await expect(page.getByRole('button', { name: 'Train', exact: true })).toBeDisabled();
  missing = false;
  await page.getByRole('button', { name: 'Retry' }).click();
  await expect(page.getByTestId('data-status')).toContainText(SAMPLE_LOADED, { timeout: 120_000 });
  await expect(page.getByTestId('error')).toHaveCount(0);
});

test('a worker that throws is reported, and Restart brings up a fresh one', async ({ page, patchWorker }) => {
  // Only the first worker crashes; no-store so the restarted one is fetched again, unmodified.
  const worker = await patchWorker((served) => (served === 1 ? "setTimeout(() => { throw new Error('simulated crash'); }, 3000);\n" : ''), {
    noStore: true,
  });
  await page.goto('/');
  const error = page.getByTestId('error');
  await expect(error).toContainText('The trainer stopped unexpectedly', { timeout: 60_000 });
  await expect(error).toContainText('simulated crash');
  await expect(page.getByTestId('status')).toHaveText('error');

  await page.getByRole('button', { name: 'Restart the trainer' }).click();
  await expect(page.getByTestId('data-status')).toContainText(SAMPLE_LOADED, { timeout: 120_000 });
  await expect(page.getByTestId('error')).toHaveCount(0);
  await expect(page.getByTestId('status')).toHaveText('ready');
  expect(worker.served).toBe(2);
});

test('a worker that crashes mid-run leaves its checkpoint intact: after Restart the run resumes', async ({ page, patchWorker }) => {
  test.setTimeout(240_000);
  // The first worker dies right after saving its first checkpoint: an
  // uncaught exception, then the worker closes, as a crashed one would.
  await patchWorker(
    (served) =>
      served === 1
        ? `(() => { const post = self.postMessage.bind(self); self.postMessage = (m, ...r) => { post(m, ...r);
             if (m && m.type === 'checkpoint-saved') setTimeout(() => { setTimeout(() => self.close(), 0); throw new Error('simulated crash'); }, 0); }; })();\n`
        : '',
    { noStore: true },
  );
  await page.goto('/?preset=tiny&epochs=3&batchSize=32&trainLimit=512&testLimit=100&patience=0&backend=wasm&autostart=1');
  await expect(page.getByTestId('error')).toContainText('simulated crash', { timeout: 120_000 });
  await page.getByRole('button', { name: 'Restart the trainer' }).click();
  const resume = page.getByRole('region', { name: 'Unfinished run' }).getByRole('button', { name: /^Resume from epoch/ });
  await expect(resume).toContainText('epoch 2', { timeout: 120_000 });
  await resume.click();
  await expect(page.getByTestId('status')).toHaveText('done', { timeout: 120_000 });
  await expect(page.locator('table.epochs tbody tr')).toHaveCount(3);
  await expect(page.getByTestId('error')).toHaveCount(0);
});
