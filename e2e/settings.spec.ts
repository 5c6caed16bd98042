import { expect, test } from './fixtures';

test('settings the worker refuses are highlighted beside their field, like the page’s own checks', async ({ page, pageErrors }) => {
  // Valid on their own, so the page lets them through; but 10 training images cannot fill a batch of 64.
  await page.goto('/?preset=tiny&epochs=1&trainLimit=10&batchSize=64&backend=wasm&autostart=1');
  await expect(page.getByTestId('error')).toContainText('Batch size 64 is larger than the 10 training images', { timeout: 120_000 });
  await expect(page.getByTestId('setting-batchSize-error')).toHaveText('Batch size must be at most the number of training images (10)');
  await expect(page.getByLabel('Batch size')).toHaveAttribute('aria-invalid', 'true');
  // Fixing the field clears its message.
  await page.getByLabel('Batch size').fill('8');
  await expect(page.getByTestId('setting-batchSize-error')).toHaveCount(0);
  expect(pageErrors).toEqual([]);
});
