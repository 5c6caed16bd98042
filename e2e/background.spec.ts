import { expect, test } from '@playwright/test';

/**
 * Headless Chromium keeps every page "visible", so the hidden state is
 * emulated in the page: `document.visibilityState` reports 'hidden' and a
 * `visibilitychange` event fires, as when the user switches tabs.
 */
test('with the page hidden, training keeps at least 80% of its visible speed', async ({ page }) => {
  test.setTimeout(240_000);
  await page.addInitScript(() => {
    let hidden = false;
    Object.defineProperty(Document.prototype, 'visibilityState', { get: () => (hidden ? 'hidden' : 'visible'), configurable: true });
    Object.defineProperty(Document.prototype, 'hidden', { get: () => hidden, configurable: true });
    (window as unknown as { __setHidden: (h: boolean) => void }).__setHidden = (h) => {
      hidden = h;
      document.dispatchEvent(new Event('visibilitychange'));
    };
  });
  // Epoch 1 warms up; epoch 2 runs visible, epoch 3 hidden.
  await page.goto('/?preset=tiny&epochs=3&batchSize=32&trainLimit=2048&testLimit=50&patience=0&augment=false&backend=wasm&autostart=1');
  const rows = page.locator('table.epochs tbody tr');
  await expect(rows).toHaveCount(2, { timeout: 200_000 });
  await page.evaluate(() => (window as unknown as { __setHidden: (h: boolean) => void }).__setHidden(true));
  expect(await page.evaluate(() => document.visibilityState)).toBe('hidden');
  await expect(page.getByTestId('status')).toHaveText('done', { timeout: 200_000 });
  const speeds = await rows.evaluateAll((trs) => trs.map((tr) => Number(tr.querySelectorAll('td')[6]?.textContent)));
  const [, visible, hidden] = speeds as [number, number, number];
  const ratio = hidden / visible;
  test.info().annotations.push({
    type: 'background speed',
    description: `visible ${visible.toFixed(1)} img/s, hidden ${hidden.toFixed(1)} img/s, ratio ${ratio.toFixed(2)}`,
  });
  console.log(`background speed ratio: ${ratio.toFixed(2)} (visible ${visible.toFixed(1)} img/s, hidden ${hidden.toFixed(1)} img/s)`);
  expect(ratio).toBeGreaterThanOrEqual(0.8);
});
