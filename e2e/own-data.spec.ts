import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { unzipSync, zipSync } from 'fflate';
import type { Page } from '@playwright/test';
import { DATA_DIR } from '../scripts/convert';
import { buildDataSet } from '../src/data/ownDataSet';
import type { Manifest } from '../src/data/format';
import { expect, SAMPLE_LOADED, test } from './fixtures';
import { dropFiles } from './drop';
import { bmp, png } from './images';

/**
 * Your own classes, as a user brings them: class folders and zips made here
 * from CIFAR-10's real test pictures (PNG and BMP written in Node, JPEG
 * encoded by the browser), with broken and stray files among them; dropped or
 * picked, trained on, kept across a reload, used to classify.
 */

const CIFAR = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
const RECORD = 1 + 32 * 32 * 3;
/** A short run: every picture trains, one epoch, the tiny network, on WASM. */
const SHORT = 'preset=tiny&epochs=1&batchSize=32&backend=wasm';

/** The first `perClass` test pictures (at most 1,000) of each asked CIFAR-10 class, as 32 × 32 × 3 bytes, in the shards' order. */
function cifarPictures(classes: readonly number[], perClass: number): Map<number, Buffer[]> {
  const records = Buffer.concat(['test-000.bin', 'test-001.bin'].map((file) => readFileSync(path.join(DATA_DIR, file))));
  const out = new Map<number, Buffer[]>(classes.map((c) => [c, []]));
  for (let i = 0; i * RECORD < records.length; i++) {
    const record = records.subarray(i * RECORD, (i + 1) * RECORD);
    const list = out.get(record[0] as number);
    if (list && list.length < perClass) list.push(Buffer.from(record.subarray(1)));
    if ([...out.values()].every((l) => l.length === perClass)) break;
  }
  return out;
}

const pixelOf = (rgb: Buffer) => (x: number, y: number) => {
  const i = (y * 32 + x) * 3;
  return [rgb[i] as number, rgb[i + 1] as number, rgb[i + 2] as number, 255] as [number, number, number, number];
};

/** JPEGs of the pictures, encoded by the page's browser as a user's camera or editor would have. */
async function jpegs(page: Page, pictures: readonly Buffer[]): Promise<Buffer[]> {
  const encoded = await page.evaluate(
    async (all) => {
      const out: string[] = [];
      for (const base64 of all) {
        const rgb = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
        const rgba = new Uint8ClampedArray(32 * 32 * 4);
        for (let p = 0; p < 32 * 32; p++) rgba.set([rgb[p * 3] as number, rgb[p * 3 + 1] as number, rgb[p * 3 + 2] as number, 255], p * 4);
        const canvas = new OffscreenCanvas(32, 32);
        (canvas.getContext('2d') as OffscreenCanvasRenderingContext2D).putImageData(new ImageData(rgba, 32, 32), 0, 0);
        const bytes = new Uint8Array(await (await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.95 })).arrayBuffer());
        out.push(btoa(String.fromCharCode(...bytes)));
      }
      return out;
    },
    pictures.map((p) => p.toString('base64')),
  );
  return encoded.map((e) => Buffer.from(e, 'base64'));
}

const name3 = (i: number) => `${String(i).padStart(4, '0')}`;

async function train(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await expect(page.getByTestId('status')).toHaveText('done', { timeout: 240_000 });
  await expect(page.getByTestId('test-accuracy')).toHaveText(/^\d+\.\d\d%$/);
}

/** The per-class table's class names, in its order. */
const perClassNames = (page: Page) => page.getByTestId('per-class-accuracy').locator('tbody tr td:first-child').allTextContents();

test('a dropped folder of 3 classes: broken files named, trained to results in its own names, kept across a reload, classifies into its classes', async ({
  page,
  pageErrors,
}, testInfo) => {
  test.setTimeout(300_000);
  await page.goto(`/?${SHORT}`);
  await expect(page.getByTestId('data-status')).toContainText(SAMPLE_LOADED, { timeout: 60_000 });

  // 40 pictures a class: PNG, BMP and browser-made JPEG; Unicode and upper case in the names.
  const [planes, cats, ships] = [...cifarPictures([0, 3, 8], 40).values()] as [Buffer[], Buffer[], Buffer[]];
  const root = testInfo.outputPath('Mes images');
  const write = (rel: string, bytes: Buffer | string) => {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), bytes);
  };
  planes.forEach((p, i) => write(`Avion/${name3(i)}.png`, png(32, 32, pixelOf(p))));
  cats.forEach((p, i) => write(`chat noir/${name3(i)}.bmp`, bmp(32, 32, pixelOf(p))));
  (await jpegs(page, ships)).forEach((j, i) => write(`bâteau/${name3(i)}.JPG`, j));
  write('chat noir/broken.png', Buffer.from('not a picture at all'));
  write('Avion/notes.txt', 'taken at the airport');
  write('.DS_Store', Buffer.alloc(16));
  write('README.md', 'my classes');
  write('rare/0000.png', png(32, 32, pixelOf(cats[0] as Buffer)));
  write('rare/0001.png', png(32, 32, pixelOf(cats[1] as Buffer)));

  await page.getByTestId('own-folder-input').setInputFiles(root);
  const report = page.getByTestId('own-report');
  await expect(report).toContainText('Stored “Mes images”: 3 classes, 120 pictures', { timeout: 60_000 });
  const leftOut = page.getByTestId('own-left-out');
  await expect(leftOut).toContainText('Mes images/chat noir/broken.png');
  await expect(leftOut).toContainText('Mes images/Avion/notes.txt');
  await expect(leftOut).toContainText('Mes images/README.md: not inside a class folder');
  await expect(leftOut).toContainText('class “rare”: fewer than 3 pictures');
  await expect(leftOut).toContainText('Mes images/.DS_Store: hidden or system file');
  // The data set in use: its name, its classes in code-point order as ImageFolder sorts them, pictures per class.
  await expect(page.getByTestId('data-name')).toHaveText('Mes images');
  await expect(page.getByTestId('data-status')).toContainText('Loaded 96 training images and 24 test images');
  await expect(page.getByTestId('sample-grid').locator('th')).toHaveText(['Avion (40)', 'bâteau (40)', 'chat noir (40)']);

  await train(page);
  expect(await perClassNames(page)).toEqual(['Avion', 'bâteau', 'chat noir']);
  await expect(page.getByTestId('confusion-matrix')).toHaveAttribute('data-drawn', 'true');
  await expect(page.getByTestId('test-samples').locator('figure')).toHaveCount(16);

  // A dropped picture goes to the model just trained, which knows these three classes only.
  await dropFiles(page, [{ name: 'plane.png', type: 'image/png', bytes: png(32, 32, pixelOf(planes[0] as Buffer)) }]);
  const card = page.getByTestId('prediction');
  await expect(card).toHaveCount(1, { timeout: 60_000 });
  expect(['Avion', 'bâteau', 'chat noir']).toContain(await card.getAttribute('data-label'));
  expect((await card.getAttribute('data-probs'))?.split(',')).toHaveLength(3);
  await expect(page.getByTestId('library-data-set').first()).toHaveText('Mes images');

  // A reload opens on the same data set, from this browser's storage.
  await page.reload();
  await expect(page.getByTestId('data-name')).toHaveText('Mes images', { timeout: 60_000 });
  await expect(page.getByTestId('sample-grid').locator('th')).toHaveText(['Avion (40)', 'bâteau (40)', 'chat noir (40)']);
  // And back to CIFAR-10 in one press, the own data set still offered.
  await page.getByTestId('use-cifar10').click();
  await expect(page.getByTestId('data-name')).toHaveText('CIFAR-10', { timeout: 60_000 });
  await expect(page.getByTestId('use-own')).toHaveText('Train on “Mes images” instead');
  expect(pageErrors).toEqual([]);
});

test('a dropped zip of 5 classes trains to results in its names; a bad drop is refused and loses nothing', async ({ page, pageErrors }) => {
  test.setTimeout(300_000);
  await page.goto(`/?${SHORT}`);
  await expect(page.getByTestId('data-status')).toContainText(SAMPLE_LOADED, { timeout: 60_000 });
  const chosen = [1, 2, 4, 6, 9];
  const pictures = cifarPictures(chosen, 30);
  const files: Record<string, Uint8Array> = {};
  for (const c of chosen) (pictures.get(c) ?? []).forEach((p, i) => (files[`five/${CIFAR[c]}/${name3(i)}.png`] = png(32, 32, pixelOf(p))));
  files['__MACOSX/five/._bird'] = new Uint8Array(8);
  const zip = Buffer.from(zipSync(files));
  await dropFiles(page, [{ name: 'five.zip', type: 'application/zip', bytes: zip }], 'own-drop');
  await expect(page.getByTestId('own-report')).toContainText('Stored “five”: 5 classes, 150 pictures', { timeout: 60_000 });
  await expect(page.getByTestId('data-name')).toHaveText('five');
  await train(page);
  expect(await perClassNames(page)).toEqual(['automobile', 'bird', 'deer', 'frog', 'truck']);

  // One class folder is not a data set: refused in words; the five classes stay stored and in use.
  await dropFiles(
    page,
    [{ name: 'one.zip', type: 'application/zip', bytes: Buffer.from(zipSync({ 'one/cat/a.png': png(4, 4, () => [1, 2, 3, 255]) })) }],
    'own-drop',
  );
  await expect(page.getByTestId('own-error')).toContainText('A data set needs at least 2 class folders');
  await dropFiles(page, [{ name: 'junk.zip', type: 'application/zip', bytes: Buffer.from('PK but not a zip') }], 'own-drop');
  await expect(page.getByTestId('own-error')).toContainText('"junk.zip" is not a zip this page can read');
  await expect(page.getByTestId('data-name')).toHaveText('five');
  await page.reload();
  await expect(page.getByTestId('data-name')).toHaveText('five', { timeout: 60_000 });
  expect(pageErrors).toEqual([]);
});

test('the import path loses nothing: a folder of CIFAR-10 test pictures gives the shards built straight from their records', async ({
  page,
}, testInfo) => {
  test.setTimeout(300_000);
  await page.goto(`/?${SHORT}`);
  await expect(page.getByTestId('data-status')).toContainText(SAMPLE_LOADED, { timeout: 60_000 });
  const perClass = 100;
  const pictures = cifarPictures([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], perClass);
  const root = testInfo.outputPath('cifar-pictures');
  for (const [c, list] of pictures) {
    mkdirSync(path.join(root, CIFAR[c] as string), { recursive: true });
    list.forEach((p, i) => writeFileSync(path.join(root, CIFAR[c] as string, `${name3(i)}.png`), png(32, 32, pixelOf(p))));
  }
  await page.getByTestId('own-folder-input').setInputFiles(root);
  await expect(page.getByTestId('own-report')).toContainText(
    `10 classes, ${(10 * perClass).toLocaleString('en-US')} pictures, nothing left out`,
    {
      timeout: 120_000,
    },
  );

  // The data set as the page exports it for Python…
  const download = page.waitForEvent('download');
  await page.getByTestId('export-data').click();
  const zipPath = testInfo.outputPath('exported.zip');
  await (await download).saveAs(zipPath);
  const exported = unzipSync(readFileSync(zipPath));
  const manifest = JSON.parse(new TextDecoder().decode(exported['manifest.json'])) as Manifest;
  // …is, byte for byte, the data set built in Node from the same records, without PNG, decoding or resampling between.
  const direct = await buildDataSet(
    [...pictures].map(([c, list]) => ({ name: CIFAR[c] as string, images: list.map((b) => new Uint8Array(b)) })),
  );
  expect(manifest).toEqual(direct.manifest);
  for (const shard of direct.shards)
    expect(Buffer.from(exported[shard.file] ?? []).equals(Buffer.from(shard.bytes)), shard.file).toBe(true);
});
