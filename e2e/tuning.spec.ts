import type { Page } from '@playwright/test';
import { expect, test } from './fixtures';

/** A short WebGPU run: with ?tune=on the tiny network's convolutions are timed at batch 16 before the first step. */
const RUN = 'preset=tiny&epochs=1&batchSize=16&trainLimit=64&testLimit=50&backend=webgpu&autostart=1';

/** The run's kernel plan, from the model details (the plan arrives before the first step). */
async function kernelPlan(page: Page, url: string, { finish }: { finish: boolean }) {
  await page.goto(url);
  await page.getByText(/^Model: \d+ layers/).click({ timeout: 120_000 });
  const plan = page.getByRole('region', { name: 'Convolution kernels on this device' });
  await expect(plan).toBeVisible({ timeout: 120_000 });
  if (finish) {
    // The next visit must not find an unfinished run's checkpoint waiting.
    await expect(page.getByTestId('status')).toHaveText('done', { timeout: 240_000 });
    await expect(page.getByTestId('error')).toHaveCount(0);
  }
  return plan;
}

test('with ?tune=on a software adapter is timed and the choices come from IndexedDB on the next visit; ?tune=off keeps the static plan', async ({
  page,
  pageErrors: errors,
}) => {
  let plan = await kernelPlan(page, `/?${RUN}&tune=on`, { finish: true });
  await expect(plan).toHaveAttribute('data-status', 'tuned');
  await expect(plan).toContainText(/timed on this device in \d+\.\d s/);
  const timed = plan.locator('tbody tr[data-source="tuned"]');
  await expect(timed.first()).toBeVisible();
  // A timed row lists every candidate, fastest first, in ms per call: the chosen formulation leads.
  const cells = timed.first().locator('td');
  const chosen = await cells.nth(2).textContent();
  await expect(cells.nth(4)).toHaveText(new RegExp(`^${chosen} \\d[\\d.]* · \\w+ \\d`));
  const firstShape = await timed.first().getAttribute('title');

  plan = await kernelPlan(page, `/?${RUN}&tune=on`, { finish: true });
  await expect(plan).toHaveAttribute('data-status', 'tuned');
  await expect(plan).toContainText("from this device's earlier timing");
  // The shape timed first last time (always finished: a shape once started is timed to the end) is not timed again.
  const cached = plan.locator('tbody tr[data-source="cached"]').first();
  await expect(cached).toHaveAttribute('title', firstShape ?? '');
  await expect(cached.locator('td').nth(2)).toHaveText(chosen ?? '');

  plan = await kernelPlan(page, `/?${RUN}&tune=off`, { finish: false });
  await expect(plan).toHaveAttribute('data-status', 'static');
  await expect(plan).toContainText('tuning is off (?tune=off)');
  await expect(plan.locator('tbody tr[data-source="static"]')).not.toHaveCount(0);
  await expect(plan.locator('tbody tr:not([data-source="static"])')).toHaveCount(0);
  // Beside the plan, the registry's rows that run here: which kernels are ours on WebGPU, and why.
  const ours = page.getByRole('region', { name: 'Kernels of ours on webgpu' });
  await expect(ours.getByRole('listitem').filter({ hasText: 'Conv2DBackpropFilter (conv): the tiled matmul' })).toHaveCount(1);
  await expect(ours.getByRole('listitem').filter({ hasText: 'optimizer update (optimizer): one dispatch per variable' })).toHaveCount(1);
  expect(errors).toEqual([]);
});

test('a wrong ?tune= value is named on the page and the default is used', async ({ page }) => {
  await page.goto('/?tune=fastest');
  await expect(page.getByText('Unknown tune option "fastest" in the URL: use one of auto, on, off; using auto.')).toBeVisible();
});
