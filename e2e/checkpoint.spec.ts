import type { Page } from '@playwright/test';
import { expect, SAMPLE_LOADED, test } from './fixtures';

/**
 * Checkpoints after every epoch: a reloaded page offers to resume, and the
 * resumed run continues the same curves, step counter and optimizer state.
 */

/** 2048 images at 32 per batch: 64 steps an epoch, long enough to pause in before it ends. */
const RUN = 'preset=tiny&epochs=3&batchSize=32&trainLimit=2048&testLimit=200&backend=wasm';
const STEPS_PER_EPOCH = 64;

const epochRows = (page: Page) =>
  page
    .locator('table.epochs tbody tr')
    .evaluateAll((rows) => rows.map((r) => Array.from(r.querySelectorAll('td'), (td) => td.textContent)));
const step = async (page: Page) => Number(await page.getByTestId('step').textContent());
/** What a reloaded page offers for an interrupted run. */
const offer = (page: Page) => page.getByRole('region', { name: 'Unfinished run' });
const resumeOffer = (page: Page) => offer(page).getByRole('button', { name: /^Resume from epoch/ });

/** Starts the run, waits for the checkpoint after epoch `epochs`, then pauses so no later one can replace it. */
async function trainThenPause(page: Page, epochs: number): Promise<void> {
  await page.goto(`/?${RUN}`);
  await expect(page.getByTestId('data-status')).toContainText(SAMPLE_LOADED, { timeout: 120_000 });
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await expect(page.getByTestId('checkpoint-status')).toHaveAttribute('data-epoch', String(epochs), { timeout: 120_000 });
  await page.getByRole('button', { name: 'Pause' }).click();
  await expect(page.getByTestId('status')).toHaveText('paused');
}

test('train two epochs, reload, resume: epoch 3 continues the same curves, step counter and optimizer state', async ({
  page,
  pageErrors: errors,
}) => {
  await trainThenPause(page, 2);
  const before = (await epochRows(page)).slice(0, 2);
  expect(before).toHaveLength(2);
  await expect(page.getByTestId('checkpoint-status')).toHaveAttribute('data-optimizer-step', String(2 * STEPS_PER_EPOCH));

  await page.reload();
  await expect(offer(page)).toBeVisible({ timeout: 30_000 });
  await expect(offer(page)).toHaveAttribute('data-epoch', '2');
  await expect(resumeOffer(page)).toHaveText('Resume from epoch 3');
  await expect(page.getByRole('button', { name: 'Start over' })).toBeVisible();
  // Nothing runs until the user chooses.
  await expect(page.getByTestId('status')).not.toHaveText('training');
  await expect(resumeOffer(page)).toBeEnabled({ timeout: 120_000 });
  await resumeOffer(page).click();

  // The earlier epochs and step curve are back at once; the counter goes on from step 128.
  await expect(offer(page)).toHaveCount(0);
  await expect.poll(() => epochRows(page).then((rows) => rows.slice(0, 2)), { timeout: 60_000 }).toEqual(before);
  const restoredStep = await step(page);
  expect(restoredStep).toBeGreaterThanOrEqual(2 * STEPS_PER_EPOCH);
  await expect(page.getByLabel('Epochs', { exact: true })).toHaveValue('3');
  await expect(page.getByTestId('epoch')).toHaveText(/^(2|3) \/ 3$/);

  await expect(page.getByTestId('status')).toHaveText('done', { timeout: 120_000 });
  const after = await epochRows(page);
  expect(after).toHaveLength(3);
  expect(after.slice(0, 2)).toEqual(before);
  expect(after[2]?.[0]).toMatch(/^3/);
  expect(await step(page)).toBe(3 * STEPS_PER_EPOCH);
  // Epoch 3's checkpoint: the optimizer counted all 192 steps, not just the 64 since the reload.
  await expect(page.getByTestId('checkpoint-status')).toHaveAttribute('data-epoch', '3');
  await expect(page.getByTestId('checkpoint-status')).toHaveAttribute('data-optimizer-step', String(3 * STEPS_PER_EPOCH));
  await expect(page.getByTestId('loss-chart')).toHaveAttribute('data-drawn', 'true');
  await expect(page.getByTestId('test-accuracy')).toHaveText(/^\d+\.\d\d%$/);
  await expect(page.getByTestId('error')).toHaveCount(0);

  // A finished run leaves nothing to resume; it is in the model library instead.
  await expect(page.getByTestId('library-entry')).toHaveCount(1);
  await page.reload();
  await expect(page.getByTestId('library-entry')).toHaveCount(1, { timeout: 30_000 });
  await expect(offer(page)).toHaveCount(0);
  expect(errors).toEqual([]);
});

test('start over discards the checkpoint', async ({ page }) => {
  await trainThenPause(page, 1);
  await page.reload();
  await expect(offer(page)).toBeVisible({ timeout: 30_000 });
  await page.getByRole('button', { name: 'Start over' }).click();
  await expect(offer(page)).toHaveCount(0);
  await expect(page.getByTestId('status')).not.toHaveText('training');
  await page.reload();
  // Storage has answered, and there is no offer.
  await expect(page.getByRole('region', { name: 'Model library' })).toHaveAttribute('data-storage', 'ready');
  await expect(offer(page)).toHaveCount(0);
});

test('without IndexedDB, training still runs and the page says checkpoints are off', async ({ page, patchWorker }) => {
  // The worker as in a browser with site storage disabled.
  await patchWorker(`Object.defineProperty(self, 'indexedDB', { value: undefined });\n`);
  await page.goto('/?preset=tiny&epochs=1&batchSize=64&trainLimit=512&testLimit=200&backend=wasm&autostart=1');
  await expect(page.getByTestId('checkpoints-off')).toContainText('Checkpoints are off', { timeout: 60_000 });
  await expect(page.getByTestId('status')).toHaveText('done', { timeout: 120_000 });
  await expect(page.getByTestId('error')).toHaveCount(0);
  // The trained model still classifies, though the library cannot keep it.
  await expect(page.getByTestId('current-model')).toHaveAttribute('data-source', 'trained');
});

test('with storage over its quota, training still runs and the page says checkpoints are off', async ({ page, baseURL }) => {
  // A site whose quota is (almost) used up: a few kilobytes cannot hold one checkpoint.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(baseURL as string).origin, quotaSize: 4096 });
  await page.goto('/?preset=tiny&epochs=2&batchSize=64&trainLimit=512&testLimit=200&backend=wasm&autostart=1');
  await expect(page.getByTestId('checkpoints-off')).toContainText('Checkpoints are off', { timeout: 60_000 });
  await expect(page.getByTestId('checkpoints-off')).toContainText('storage for this site is full');
  await expect(page.getByTestId('status')).toHaveText('done', { timeout: 120_000 });
  await expect(page.locator('table.epochs tbody tr')).toHaveCount(2);
  await expect(page.getByTestId('error')).toHaveCount(0);
});

test('a second tab cannot train while the first does (they share one checkpoint slot); it keeps its results, and trains once the first run ends', async ({
  page,
  context,
}) => {
  // The second tab finishes a small run of its own first: its results must survive the refusal.
  const second = await context.newPage();
  await second.goto('/?preset=tiny&epochs=1&batchSize=32&trainLimit=256&testLimit=100&backend=wasm&autostart=1');
  await expect(second.getByTestId('status')).toHaveText('done', { timeout: 120_000 });
  const secondResult = await second.getByTestId('test-accuracy').textContent();

  // 4000 images at 32 per batch: several seconds an epoch, so the pause lands before the first checkpoint.
  await page.goto('/?preset=tiny&epochs=2&batchSize=32&trainLimit=4000&testLimit=100&backend=wasm');
  await expect(page.getByTestId('data-status')).toContainText(SAMPLE_LOADED, { timeout: 120_000 });
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await expect(page.getByTestId('status')).toHaveText('training', { timeout: 60_000 });
  await page.getByRole('button', { name: 'Pause' }).click();
  await expect(page.getByTestId('status')).toHaveText('paused');

  await second.getByRole('button', { name: 'Train', exact: true }).click();
  await expect(second.getByTestId('error')).toHaveAttribute('data-code', 'training-elsewhere');
  await expect(second.getByTestId('error')).toContainText('Another tab of this app is training');
  await expect(second.getByTestId('status')).toHaveText('done'); // refused, not broken
  await expect(second.getByTestId('test-accuracy')).toHaveText(secondResult as string);
  await expect(second.getByTestId('epoch')).toHaveText('1 / 1');

  // The worker refuses too, when a Train gets past the page's check (two tabs pressing at once).
  await second.evaluate(() => {
    const real = navigator.locks.query.bind(navigator.locks);
    navigator.locks.query = async () => ({ ...(await real()), held: [] });
  });
  await second.getByRole('button', { name: 'Train', exact: true }).click();
  await expect(second.getByTestId('test-accuracy')).toHaveCount(0); // past the page's check: a new run was requested
  await expect(second.getByTestId('error')).toHaveAttribute('data-code', 'training-elsewhere');
  await expect(second.getByTestId('status')).toHaveText('done');
  await expect(second.locator('table.epochs tbody tr')).toHaveCount(0);

  // The first run goes on untouched, and its end frees the second tab.
  await expect(page.getByTestId('status')).toHaveText('paused');
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(page.getByTestId('status')).toHaveText('done', { timeout: 120_000 });
  await second.getByRole('button', { name: 'Train', exact: true }).click();
  await expect(second.getByTestId('status')).toHaveText('training', { timeout: 30_000 });
  await expect(second.getByTestId('status')).toHaveText('done', { timeout: 120_000 });
  await expect(second.getByTestId('error')).toHaveCount(0);
});
