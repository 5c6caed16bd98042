import type { Page } from '@playwright/test';
import { formatSeconds } from '../src/ui/progress';
import { expect, FULL_LOADED, test } from './fixtures';

// What a full run on the whole data set costs here is what the table states, measured as on a first visit.
test.use({ data: 'full', presetCosts: 'first-visit' });

/** Images/s of each preset as the cost table shows them, once all four are measured. */
async function measuredCosts(page: Page): Promise<Record<string, number>> {
  await expect(page.getByTestId('data-status')).toContainText(FULL_LOADED, { timeout: 120_000 });
  const rows = page.getByTestId('preset-costs').locator('tbody tr');
  await expect(rows).toHaveCount(4);
  await expect
    .poll(() => rows.evaluateAll((trs) => trs.filter((tr) => tr.getAttribute('data-images-per-second')).length), { timeout: 120_000 })
    .toBe(4);
  const entries = await rows.evaluateAll((trs) => trs.map((tr) => [tr.dataset.preset, Number(tr.dataset.imagesPerSecond)] as const));
  return Object.fromEntries(entries);
}

test('before Train the page shows what each preset costs here, offers the one that fits a CPU, estimates a run from the first step, and never overrides a preset named in the URL', async ({
  page,
  pageErrors,
}) => {
  test.setTimeout(300_000);
  await page.goto('/?backend=wasm');
  const costs = await measuredCosts(page);
  for (const preset of ['tiny', 'seed', 'quick', 'fast']) expect(costs[preset]).toBeGreaterThan(0);

  // What the table says for a full run, and the preset it offers: the most capable one whose run of its own
  // length (fast 10 epochs of batch 512, quick 9 of 256, seed and tiny 10 of 64) over 45,000 images fits in 15 minutes here.
  const table = page.getByTestId('preset-costs');
  await expect(table).toContainText('45,000 training images');
  const fits = (preset: string, epochs: number, batch: number) =>
    (epochs * Math.floor(45_000 / batch) * batch) / (costs[preset] as number) <= 15 * 60;
  const expected = fits('fast', 10, 512) ? 'fast' : fits('quick', 9, 256) ? 'quick' : fits('seed', 10, 64) ? 'seed' : 'tiny';
  await expect(page.getByLabel('Model', { exact: true })).toHaveValue(expected);
  const runEpochs = (preset: string) => table.locator(`tr[data-preset="${preset}"] td[data-epochs]`);
  await expect(runEpochs('quick')).toHaveAttribute('data-epochs', '9');
  await expect(runEpochs('tiny')).toHaveAttribute('data-epochs', '10');
  // The seed network's measured run (README, "How good, how soon"), turned into minutes here by this device's speed.
  const seedRow = table.locator('tr[data-preset="seed"]');
  await expect(seedRow).toContainText('81.6 %');
  const toGood = (1_034_816 / (costs.seed as number) / 60) * 60;
  await expect(seedRow.getByTestId('minutes-to-good')).toHaveText(formatSeconds(toGood));
  await expect(table.locator('tr[data-preset="tiny"]').getByTestId('minutes-to-good')).toHaveText('does not reach 80 %');
  // fast's run, too long for this machine's tab, was the tab's steps trained by PyTorch (README, "The fast preset"), and says so.
  await expect(table.locator('tr[data-preset="fast"]')).toContainText('88.3 % (its steps trained by PyTorch)');

  // A short run of the tiny preset.
  await page.getByLabel('Model', { exact: true }).selectOption('tiny');
  await page.getByLabel('Epochs').fill('2');
  // The chosen model's run takes the form's epochs; the others keep their own.
  await expect(runEpochs('tiny')).toHaveAttribute('data-epochs', '2');
  await expect(runEpochs('quick')).toHaveAttribute('data-epochs', '9');
  await page.getByLabel('Training images').fill('2048');
  await page.getByLabel('Test images').fill('200');
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  // The estimate is there from the start, from the measured speed.
  await expect(page.getByTestId('eta')).toHaveText(/\d/);
  await expect(page.getByTestId('status')).toHaveText('done', { timeout: 180_000 });
  const speeds = await page.locator('table.epochs tbody tr td:nth-child(7)').allTextContents();
  const measured = Number(speeds.at(-1));
  expect(measured).toBeGreaterThan(0);
  // How well the few timed steps predicted the run is a measurement of this machine's load, not a property
  // of the code, so it is printed, not asserted (a busy CI machine moves it by more than any fixed bound).
  console.log(
    `cost estimate vs run: estimated ${costs.tiny} img/s, ran at ${measured} img/s (${((costs.tiny as number) / measured).toFixed(2)}x)`,
  );

  // The measurement is kept for this device: the next visit shows the same figures without measuring again,
  // and a preset named in its URL, one the suggestion is not, stays chosen.
  const named = expected === 'tiny' ? 'seed' : 'tiny';
  await page.goto(`/?backend=wasm&preset=${named}`);
  expect(await measuredCosts(page)).toEqual(costs);
  await expect(page.getByLabel('Model', { exact: true })).toHaveValue(named);
  expect(pageErrors).toEqual([]);
});
