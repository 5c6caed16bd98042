import type { Page } from '@playwright/test';
import { expect, FULL_LOADED, test } from './fixtures';

// Loading itself is what these specs check: all twelve shards, as served.
test.use({ data: 'full' });

const SHARD = /\/data\/cifar10\/train-003\.bin(\?.*)?$/;

async function expectLoaded(page: Page) {
  await expect(page.getByTestId('data-status')).toContainText(FULL_LOADED, { timeout: 120_000 });
  await expect(page.getByTestId('data-status')).toContainText('10,000 test images');
}

test('loads the real CIFAR-10 shards and shows the counts and ten images of each class', async ({ page, pageErrors: errors }) => {
  await page.goto('/');
  await expect(page.getByRole('progressbar', { name: 'Data loading progress' })).toBeVisible();
  await expectLoaded(page);
  const grid = page.getByRole('table', { name: 'Sample images of each class' });
  for (const name of ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']) {
    await expect(grid.getByRole('rowheader', { name })).toBeVisible();
    await expect(grid.locator(`canvas[title="${name}"]`)).toHaveCount(10);
  }
  // The canvases hold real pixels, not a blank grid.
  const spread = await grid
    .locator('canvas')
    .first()
    .evaluate((canvas: HTMLCanvasElement) => {
      const data = canvas.getContext('2d')?.getImageData(0, 0, 32, 32).data ?? new Uint8ClampedArray();
      let min = 255;
      let max = 0;
      for (let i = 0; i < data.length; i += 4) {
        min = Math.min(min, data[i] as number);
        max = Math.max(max, data[i] as number);
      }
      return max - min;
    });
  expect(spread).toBeGreaterThan(20);
  await expect(page.getByTestId('error')).toHaveCount(0);

  // A reload reads the verified shards from the browser's cache.
  await page.reload();
  await expectLoaded(page);
  await expect(page.getByTestId('data-status')).toContainText('12 shards from this browser');
  expect(errors).toEqual([]);
});

test('a shard with one flipped byte stops loading with a checksum error naming it', async ({ page }) => {
  await page.route(SHARD, async (route) => {
    const response = await route.fetch();
    const body = await response.body();
    body[12_345] = (body[12_345] as number) ^ 0x01;
    await route.fulfill({ response, body });
  });
  await page.goto('/');
  const error = page.getByTestId('error');
  await expect(error).toBeVisible({ timeout: 120_000 });
  await expect(error).toContainText('train-003.bin');
  await expect(error).toContainText('checksum');
  await expect(page.getByTestId('data-status')).not.toContainText('50,000');
});

test('a missing shard stops loading with a not-found error naming it', async ({ page }) => {
  await page.route(SHARD, (route) => route.fulfill({ status: 404, body: 'not found' }));
  await page.goto('/');
  const error = page.getByTestId('error');
  await expect(error).toBeVisible({ timeout: 120_000 });
  await expect(error).toContainText('train-003.bin');
  await expect(error).toContainText('not found');
});

test('a shard cut short stops loading with an error saying how much arrived', async ({ page }) => {
  await page.route(SHARD, async (route) => {
    const response = await route.fetch();
    const body = await response.body();
    await route.fulfill({ response, body: body.subarray(0, 1_000_000), headers: { ...response.headers(), 'content-length': '1000000' } });
  });
  await page.goto('/');
  const error = page.getByTestId('error');
  await expect(error).toBeVisible({ timeout: 120_000 });
  await expect(error).toContainText('train-003.bin');
  await expect(error).toContainText('cut short');
});
