import type { Page } from '@playwright/test';
import { expect, SAMPLE_LOADED, test } from './fixtures';

/**
 * A short run on each GPU backend, on real data: 96 training images (10 for
 * validation), 50 test images, two epochs of three steps. Software GPUs take
 * seconds a step here, so the run is as short as its checks allow.
 */
const GPU_RUN = 'preset=tiny&epochs=2&batchSize=32&trainLimit=96&testLimit=50&patience=0';

async function expectFinishedRun(page: Page, epochs: number) {
  await expect(page.getByTestId('status')).toHaveText('done', { timeout: 240_000 });
  await expect(page.getByTestId('error')).toHaveCount(0);
  await expect(page.getByTestId('loss-chart')).toHaveAttribute('data-drawn', 'true');
  await expect(page.getByTestId('accuracy-chart')).toHaveAttribute('data-drawn', 'true');
  await expect(page.getByTestId('loss-chart').locator('canvas, svg').first()).toBeVisible();
  await expect(page.getByTestId('test-accuracy')).toHaveText(/^\d+\.\d\d%$/);
  await expect(page.getByTestId('test-samples').locator('figure')).toHaveCount(16);
  await expect(page.getByTestId('confusion-matrix')).toHaveAttribute('data-drawn', 'true');
  // One row per class: its name, its accuracy in percent, and how many test images it had.
  const perClass = page.getByTestId('per-class-accuracy').locator('tbody tr');
  await expect(perClass).toHaveCount(10);
  await expect(perClass.first().locator('td')).toHaveText(['airplane', /^\d{1,3}\.\d%$/, /^\d+$/]);
  await expect(page.getByTestId('epoch')).toHaveText(`${epochs} / ${epochs}`);
  // Time to accuracy: the levels the best validation reached in rows, the others named as not reached with the best.
  const valAccuracies = await page
    .locator('table.epochs tbody tr')
    .evaluateAll((rows) => rows.map((row) => Number.parseFloat(row.querySelectorAll('td')[4]?.textContent ?? '')));
  expect(valAccuracies).toHaveLength(epochs);
  const best = Math.max(...valAccuracies);
  const timed = page.getByTestId('time-to-accuracy');
  const reached = [50, 60, 70, 80].filter((t) => best >= t);
  await expect(timed.locator('tbody tr')).toHaveCount(reached.length);
  await expect(page.getByTestId('time-to-accuracy-missed')).toContainText(`(best ${best.toFixed(1)} %)`);
  await expect(page.getByTestId('next-threshold')).toContainText('too early to tell');
}

/** Each finished epoch's memory, from the epoch table's attributes. */
async function epochMemory(page: Page) {
  return page.locator('table.epochs tbody tr').evaluateAll((rows) =>
    rows.map((row) => ({
      tensors: row.getAttribute('data-tensors'),
      bytes: row.getAttribute('data-bytes'),
      gpu: row.getAttribute('data-gpu-bytes'),
    })),
  );
}

// One run per GPU backend proves two things: it trains to its results, and nothing accumulates, neither
// tensors nor GPU memory (on WebGPU the step keeps its batch buffers and optimizer pipelines between steps on
// purpose). Every epoch runs whole steps, validation and a checkpoint, so a leak in any of them makes the
// second epoch end with more than the first.
for (const backend of ['webgpu', 'webgl'] as const) {
  test(`trains the tiny preset on ${backend} to its results, the second epoch ending with the first's tensor count and GPU bytes`, async ({
    page,
    pageErrors: errors,
  }) => {
    await page.goto(`/?${GPU_RUN}&backend=${backend}&autostart=1`);
    await expect(page.getByTestId('backend')).toHaveAttribute('data-backend', backend, { timeout: 60_000 });
    await expectFinishedRun(page, 2);
    expect(Number(await page.getByTestId('step').textContent())).toBe(6); // 96 images / 32 per batch, twice

    const memory = await epochMemory(page);
    expect(memory).toHaveLength(2);
    const [first, second] = memory as [{ tensors: string; bytes: string; gpu: string }, unknown];
    expect(first.tensors).toMatch(/^\d+$/);
    expect(first.gpu).toMatch(/^\d+$/);
    expect(second).toEqual(first);
    const summary = `${backend}, after epoch 1 and epoch 2: ${first.tensors} tensors, ${first.bytes} bytes, ${first.gpu} GPU bytes`;
    test.info().annotations.push({ type: 'memory', description: summary });
    console.log(`memory ${summary}`);

    // SwiftShader's timings would say nothing about a GPU: the static plan, and the page says why (e2e/tuning.spec.ts times).
    await page.getByText(/^Model: \d+ layers/).click();
    const plan = page.getByRole('region', { name: 'Convolution kernels on this device' });
    await expect(plan).toHaveAttribute('data-status', 'static');
    await expect(plan).toContainText('the adapter is a software renderer');
    await expect(plan.locator('tbody tr[data-source="static"]').first()).toBeVisible();
    expect(errors).toEqual([]);
  });
}

/** The training worker as in a browser without WebGPU. */
const NO_WEBGPU = 'delete WorkerNavigator.prototype.gpu;\n';

test('without navigator.gpu the app falls back to WebGL and says why', async ({ page, patchWorker }) => {
  await patchWorker(NO_WEBGPU);
  // softwareGpu=1: this machine's WebGL is SwiftShader, which `auto` would otherwise pass over for WASM.
  await page.goto('/?softwareGpu=1');
  await expect(page.getByTestId('backend')).toHaveAttribute('data-backend', 'webgl', { timeout: 60_000 });
  await expect(page.getByTestId('fallback-reasons')).toContainText('WebGPU unavailable: navigator.gpu is missing');
});

test('on a machine whose GPU APIs are software renderers, auto picks WASM and says why', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByTestId('backend')).toHaveAttribute('data-backend', 'wasm', { timeout: 60_000 });
  const reasons = page.getByTestId('fallback-reasons');
  await expect(reasons).toContainText('WebGPU adapter is a software renderer');
  await expect(reasons).toContainText('WebGL renderer is a software renderer');
});

test('a forced backend that cannot run is an error, not a silent switch', async ({ page, patchWorker }) => {
  await patchWorker(NO_WEBGPU);
  await page.goto('/?backend=webgpu');
  await expect(page.getByTestId('error')).toContainText('The requested backend "webgpu" cannot run here');
  await expect(page.getByTestId('backend')).toHaveCount(0);
});

test('pause and resume; the tensor count after epoch 3 equals that after epoch 1', async ({ page, pageErrors: errors }) => {
  // WASM: the fastest backend here; the run is long enough to pause in its first epoch.
  await page.goto('/?preset=tiny&epochs=3&batchSize=16&trainLimit=960&testLimit=100&backend=wasm');
  await expect(page.getByTestId('data-status')).toContainText(SAMPLE_LOADED, { timeout: 120_000 });
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await expect(page.getByTestId('status')).toHaveText('training');
  await expect.poll(async () => Number(await page.getByTestId('step').textContent()), { timeout: 60_000 }).toBeGreaterThan(0);

  await page.getByRole('button', { name: 'Pause' }).click();
  await expect(page.getByTestId('status')).toHaveText('paused');
  const pausedAt = await page.getByTestId('step').textContent();
  await page.waitForTimeout(2_000);
  await expect(page.getByTestId('step')).toHaveText(pausedAt ?? '');
  await page.getByRole('button', { name: 'Resume', exact: true }).click();
  await expect(page.getByTestId('status')).not.toHaveText('paused');

  await expect(page.getByTestId('status')).toHaveText('done', { timeout: 180_000 });
  const rows = page.locator('table.epochs tbody tr');
  await expect(rows).toHaveCount(3);
  const tensors = await page.locator('table.epochs tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-tensors')));
  expect(tensors[0]).toMatch(/^\d+$/);
  expect(tensors[2]).toBe(tensors[0]);
  expect(errors).toEqual([]);
});

test('invalid settings are refused beside the field, and nothing starts', async ({ page }) => {
  await page.goto('/?batchSize=0&learningRate=-1&epochs=1000000000&preset=huge&trainLimit=abc');
  await expect(page.getByTestId('data-status')).toContainText(SAMPLE_LOADED, { timeout: 120_000 });
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  for (const field of ['batchSize', 'learningRate', 'epochs', 'preset', 'trainLimit']) {
    await expect(page.getByTestId(`setting-${field}-error`)).toBeVisible();
  }
  await expect(page.getByTestId('status')).toHaveText('ready');
  // Fixing the form clears the message beside the field.
  await page.getByLabel('Batch size', { exact: true }).fill('32');
  await expect(page.getByTestId('setting-batchSize-error')).toHaveCount(0);
});

test('invalid values typed into the form are refused beside the field, and nothing starts', async ({ page }) => {
  await page.goto('/?preset=tiny');
  await expect(page.getByTestId('data-status')).toContainText(SAMPLE_LOADED, { timeout: 120_000 });
  const typed = [
    { field: 'batchSize', label: 'Batch size', value: '0' },
    { field: 'learningRate', label: 'Learning rate', value: '-0.5' },
    { field: 'epochs', label: 'Epochs', value: '1000000000' },
    { field: 'trainLimit', label: 'Training images', value: 'twelve' },
  ];
  for (const { label, value } of typed) await page.getByLabel(label, { exact: true }).fill(value);
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  for (const { field } of typed) await expect(page.getByTestId(`setting-${field}-error`)).toBeVisible();
  await expect(page.getByTestId('setting-learningRate-error')).toContainText('greater than 0');
  await expect(page.getByTestId('status')).toHaveText('ready');
  await expect(page.getByTestId('step')).toHaveCount(0);
});

test('choosing fast or quick in the form brings its own batch (and quick its epochs, with no early stop); a typed batch size stays', async ({
  page,
}) => {
  await page.goto('/');
  const batchSize = page.getByLabel('Batch size', { exact: true });
  const model = page.getByLabel('Model', { exact: true });
  await expect(batchSize).toHaveValue('64');
  await model.selectOption('fast');
  await expect(batchSize).toHaveValue('512');
  await model.selectOption('quick');
  await expect(batchSize).toHaveValue('256');
  await expect(page.getByLabel('Epochs')).toHaveValue('9');
  await expect(page.getByLabel('Early-stopping patience')).toHaveValue('0');
  await model.selectOption('tiny');
  await expect(page.getByLabel('Epochs')).toHaveValue('10');
  await expect(batchSize).toHaveValue('64');
  await batchSize.fill('100');
  await model.selectOption('fast');
  await expect(batchSize).toHaveValue('100');
});
