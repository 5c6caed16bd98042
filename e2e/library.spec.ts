import { readFile, writeFile } from 'node:fs/promises';
import type { Download, Page, TestInfo } from '@playwright/test';
import { collectPageErrors, expect, test } from './fixtures';
import { dropFiles } from './drop';
import { bmp, gif, png } from './images';

/**
 * Never lose a trained model: export it as TensorFlow.js Layers files, import
 * them into a fresh browser profile, and the same pictures get the same
 * predictions; the library keeps models across reloads.
 */

const QUICK = 'preset=tiny&epochs=1&batchSize=64&trainLimit=512&testLimit=200&backend=wasm';

/** Pictures made byte for byte in Node, so both browser contexts drop identical files. */
const PICTURES = [
  { name: 'stripes.png', type: 'image/png', bytes: png(80, 60, (x, y) => [(x * 7) % 256, (y * 11) % 256, ((x + y) * 3) % 256, 255]) },
  {
    name: 'rings.png',
    type: 'image/png',
    bytes: png(64, 64, (x, y) => (Math.hypot(x - 32, y - 32) % 12 < 6 ? [250, 240, 30, 255] : [20, 40, 160, 255])),
  },
  { name: 'sky.bmp', type: 'image/bmp', bytes: bmp(120, 90, (x, y) => [100 + y, 150 + y / 2, 255 - x, 255]) },
  {
    name: 'frog.gif',
    type: 'image/gif',
    bytes: gif(
      48,
      48,
      [
        [30, 140, 40],
        [200, 200, 60],
      ],
      [(x, y) => ((x >> 3) + (y >> 3)) % 2],
    ),
  },
];

const drop = (page: Page) => dropFiles(page, PICTURES);

/** name → [top-1 label, the 10 probabilities]. */
async function predictions(page: Page): Promise<Map<string, [string, number[]]>> {
  await expect(page.getByTestId('prediction')).toHaveCount(PICTURES.length, { timeout: 60_000 });
  const rows = await page
    .getByTestId('prediction')
    .evaluateAll((cards) =>
      cards.map((c) => [c.getAttribute('data-name'), c.getAttribute('data-label'), c.getAttribute('data-probs')] as const),
    );
  return new Map(rows.map(([name, label, probs]) => [name ?? '', [label ?? '', (probs ?? '').split(',').map(Number)]]));
}

function expectSamePredictions(actual: Map<string, [string, number[]]>, expected: Map<string, [string, number[]]>): void {
  expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [name, [label, probs]] of expected) {
    const [otherLabel, otherProbs] = actual.get(name) as [string, number[]];
    expect(otherLabel, name).toBe(label);
    probs.forEach((p, i) => expect(Math.abs((otherProbs[i] as number) - p), `${name} class ${i}`).toBeLessThanOrEqual(1e-5));
  }
}

const library = (page: Page) => page.getByRole('region', { name: 'Model library' });
/** The library's error message: the only alert in its panel. */
const modelError = (page: Page) => library(page).getByRole('alert');

/** Export: two downloads, model.json and its weights, saved under the test's output folder and checked against each other. */
async function exportBothFiles(page: Page, testInfo: TestInfo) {
  const downloads: Download[] = [];
  page.on('download', (d) => downloads.push(d));
  await page.getByRole('button', { name: 'Export model' }).click();
  await expect.poll(() => downloads.length, { timeout: 30_000 }).toBe(2);
  const jsonDownload = downloads.find((d) => d.suggestedFilename().endsWith('.json')) as Download;
  const binDownload = downloads.find((d) => d.suggestedFilename().endsWith('.weights.bin')) as Download;
  expect(jsonDownload.suggestedFilename()).toMatch(/^cifar10-tiny-rgb-\d{4}-\d\d-\d\d\.json$/);
  const jsonPath = testInfo.outputPath(jsonDownload.suggestedFilename());
  const binPath = testInfo.outputPath(binDownload.suggestedFilename());
  await jsonDownload.saveAs(jsonPath);
  await binDownload.saveAs(binPath);
  const modelJson = JSON.parse(await readFile(jsonPath, 'utf8'));
  expect(modelJson.format).toBe('layers-model');
  expect(modelJson.modelTopology.class_name).toBe('Sequential');
  expect(modelJson.weightsManifest[0].paths).toEqual([`./${binDownload.suggestedFilename()}`]);
  const weightBytes = (await readFile(binPath)).length;
  const described = modelJson.weightsManifest[0].weights.reduce(
    (s: number, w: { shape: number[] }) => s + 4 * w.shape.reduce((a, b) => a * b, 1),
    0,
  );
  expect(weightBytes).toBe(described);
  expect(modelJson.userDefinedMetadata.cifar10InATab).toMatchObject({ preset: 'tiny', color: 'rgb', epochs: 1 });
  return { jsonPath, binPath, modelJson };
}

test('export, import into a fresh browser profile: the same pictures get the same predictions', async ({
  page,
  pageErrors: errors,
  browser,
}, testInfo) => {
  await page.goto(`/?${QUICK}&autostart=1`);
  await expect(page.getByTestId('status')).toHaveText('done', { timeout: 120_000 });
  await expect(page.getByTestId('current-model')).toHaveAttribute('data-source', 'trained');
  await expect(page.getByTestId('library-entry')).toHaveCount(1);
  await drop(page);
  const original = await predictions(page);

  const { jsonPath, binPath, modelJson } = await exportBothFiles(page, testInfo);
  expect(errors).toEqual([]);

  // A fresh profile: its own (empty) storage, no model.
  const context = await browser.newContext();
  const fresh = await context.newPage();
  const freshErrors = collectPageErrors(fresh);
  await fresh.goto('/?backend=wasm');
  await expect(library(fresh)).toHaveAttribute('data-storage', 'ready', { timeout: 60_000 });
  await expect(fresh.getByTestId('current-model')).toHaveAttribute('data-source', 'none');
  await expect(fresh.getByTestId('library-entry')).toHaveCount(0);

  // A damaged model.json (a 64×64 input) is refused before anything loads; nothing changes.
  const badPath = testInfo.outputPath('bad.json');
  const bad = structuredClone(modelJson);
  bad.modelTopology.config.layers[0].config.batch_input_shape = [null, 64, 64, 3];
  await writeFile(badPath, JSON.stringify(bad));
  await fresh.getByLabel('Import model').setInputFiles([badPath, binPath]);
  await expect(modelError(fresh)).toContainText('The model was not imported');
  await expect(modelError(fresh)).toContainText('input is 64×64×3; it must be 32×32×3');
  await expect(fresh.getByTestId('current-model')).toHaveAttribute('data-source', 'none');
  // A weights file that does not belong to it: refused too.
  const shortPath = testInfo.outputPath('short.weights.bin');
  await writeFile(shortPath, (await readFile(binPath)).subarray(4));
  await fresh.getByLabel('Import model').setInputFiles([jsonPath, shortPath]);
  await expect(modelError(fresh)).toContainText('do not belong together');
  await expect(fresh.getByTestId('library-entry')).toHaveCount(0);

  // The real files: imported, kept in the library, and classifying exactly like the original.
  await fresh.getByLabel('Import model').setInputFiles([jsonPath, binPath]);
  await expect(fresh.getByTestId('current-model')).toHaveAttribute('data-source', 'imported', { timeout: 30_000 });
  await expect(modelError(fresh)).toHaveCount(0);
  await expect(fresh.getByTestId('library-entry')).toHaveCount(1);
  await drop(fresh);
  expectSamePredictions(await predictions(fresh), original);

  // The library outlives the page: open it again after a reload, then delete it.
  await fresh.reload();
  await expect(fresh.getByTestId('library-entry')).toHaveCount(1, { timeout: 60_000 });
  await expect(fresh.getByTestId('current-model')).toHaveAttribute('data-source', 'none');
  await library(fresh).getByRole('button', { name: 'Open', exact: true }).click();
  await expect(fresh.getByTestId('current-model')).toHaveAttribute('data-source', 'library');
  await drop(fresh);
  expectSamePredictions(await predictions(fresh), original);
  await library(fresh).getByRole('button', { name: 'Delete' }).click();
  await expect(fresh.getByTestId('library-entry')).toHaveCount(0);
  // Still loaded, just no longer saved.
  await expect(fresh.getByTestId('current-model')).toHaveAttribute('data-source', 'library');
  expect(freshErrors).toEqual([]);
  await context.close();
});
