import { readFile, writeFile } from 'node:fs/promises';
import type { BrowserContext, Download, TestInfo } from '@playwright/test';
import * as tf from '@tensorflow/tfjs';
import { buildModel } from '../src/model/model';
import type { EpochRecord } from '../src/run/records';
import { parseSettings, settingsToQuery, toModelConfig } from '../src/run/settings';
import type { AutomationEvent } from '../src/ui/automation';
import { expect, test } from './fixtures';
import { wasmLine } from './wasm';

/**
 * Two workers, one model: the same batches trained on WASM by one worker and
 * by two (each on half of every batch, the gradients averaged every step, the
 * BatchNorm running statistics averaged at the epoch's end) give the same
 * losses and the same weights, statistics included, within what ghost
 * BatchNorm accounts for.
 *
 * The seed preset, the blog's network: BatchNorm, Dropout, Adam, flips and
 * shifts. Dropout's masks are a pure function of (seed, step, layer,
 * element) on WASM too, and each worker takes its rows of the whole batch's
 * mask, so one worker and two drop the same elements. (Before, tfjs-layers
 * drew the masks from Math.random: after 8 steps one worker against two
 * differed by 1.1–1.3 times how far each conv kernel had moved, and the test
 * used the tiny preset, which has no Dropout.)
 */

/** 8 steps of 64; 57 validation images. */
const SETTINGS = parseSettings({
  preset: 'seed',
  epochs: 1,
  batchSize: 64,
  trainLimit: 512,
  testLimit: 100,
  optimizer: 'adam',
  augment: true,
  seed: 7,
});

/**
 * Bounds, from one worker against two (6 December 2026, 2 cores, seed 7, the settings above;
 * two runs of the pair gave the same figures to the bit: on WASM both are deterministic):
 *   training loss 3.61746 / 3.58578, validation loss 2.01056 / 1.98439: 0.032 and 0.026 apart;
 *   ‖w₂ − w₁‖ / ‖w₁ − w₀‖ per weight (w₀ the initial weights): kernels 0.15–0.46, BatchNorm
 *   γ and β 0.04–0.56, dense bias 0.04, running means 0.03–0.55, running variances 0.008–0.20.
 * Ghost BatchNorm is the difference: each half is normalised with its own statistics, in six
 * BatchNorm layers, and Adam's first steps at a loss of ~3.6 magnify it.
 * The bounds are 1.4–1.7× what was measured. The breakage they are set against: every worker
 * takes the first rows' dropout masks instead of its own rows' (as when the masks were not
 * shared, or came from Math.random): kernels 0.92–1.11, bn1b's γ 1.24, running variances up
 * to 0.66, validation loss 0.075 apart — each of the three bounds fails.
 */
const LOSS_BOUND = 0.05;
const WEIGHT_BOUND = 0.8;
/** Running variances follow the whole batch's closely once averaged (≤ 0.21 measured). */
const VARIANCE_BOUND = 0.35;
/**
 * A convolution's bias just before BatchNorm: its gradient is zero but for rounding
 * (BatchNorm subtracts the batch mean), and Adam scales that rounding to full steps of
 * ±learning rate, so its value is noise in any run (1.2–1.5 times its movement apart, measured) and the
 * function does not depend on it in training. Not compared. The running mean after
 * it carries some of that noise: the likely reason bn1a's is among the farthest apart.
 */
const NOISE_ONLY = /^conv\d+[a-z]?\/bias$/;

interface Weight {
  name: string;
  shape: number[];
  values: Float32Array;
}

interface Run {
  record: EpochRecord;
  weights: Weight[];
}

/** One run in its own page: its epoch record and the exported model's weights. */
async function train(context: BrowserContext, testInfo: TestInfo, workers: number): Promise<Run> {
  const page = await context.newPage();
  try {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const records: EpochRecord[] = [];
    await page.exposeFunction('__cifarAutomation', (event: AutomationEvent) => {
      if (event.type === 'epoch-end') records.push(event.record);
      if (event.type === 'error') errors.push(event.error.message);
    });
    const query = settingsToQuery(SETTINGS);
    query.set('backend', 'wasm');
    query.set('workers', String(workers));
    query.set('autostart', '1');
    await page.goto(`/?${query}`);
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    await expect(page.getByTestId('backend-panel')).toContainText(wasmLine(cores, workers), { timeout: 60_000 });
    await expect(page.getByTestId('status')).toHaveText('done', { timeout: 150_000 });
    expect(errors).toEqual([]);
    expect(records).toHaveLength(1);

    const downloads: Download[] = [];
    page.on('download', (d) => downloads.push(d));
    await page.getByRole('button', { name: 'Export model' }).click();
    await expect.poll(() => downloads.length, { timeout: 30_000 }).toBe(2);
    const json = downloads.find((d) => d.suggestedFilename().endsWith('.json')) as Download;
    const bin = downloads.find((d) => d.suggestedFilename().endsWith('.weights.bin')) as Download;
    const jsonPath = testInfo.outputPath(`workers-${workers}.json`);
    const binPath = testInfo.outputPath(`workers-${workers}.weights.bin`);
    await json.saveAs(jsonPath);
    await bin.saveAs(binPath);
    const specs: { name: string; shape: number[]; dtype: string }[] = JSON.parse(await readFile(jsonPath, 'utf8')).weightsManifest[0]
      .weights;
    const bytes = await readFile(binPath);
    const floats = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    let at = 0;
    const weights = specs.map(({ name, shape, dtype }) => {
      expect(dtype).toBe('float32');
      const size = shape.reduce((a, b) => a * b, 1);
      const values = floats.slice(at, at + size);
      at += size;
      // Without the suffix tfjs adds when a model with the same layer names was built before in the tab.
      return { name: name.replace(/_\d+$/, ''), shape, values };
    });
    expect(at).toBe(floats.length);
    return { record: records[0] as EpochRecord, weights };
  } finally {
    await page.close();
  }
}

/** The model before training, built here as the page builds it: seeded initialisers, BatchNorm's 0s and 1s. */
async function initialWeights(): Promise<Weight[]> {
  await tf.setBackend('cpu');
  const model = buildModel(toModelConfig(SETTINGS));
  const weights = model.weights.map((w) => ({
    name: w.originalName,
    shape: w.shape.slice() as number[],
    values: w.read().dataSync() as Float32Array,
  }));
  model.dispose();
  return weights;
}

function distance(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += ((a[i] as number) - (b[i] as number)) ** 2;
  return Math.sqrt(sum);
}

test('one worker and two train the same batches to the same model: losses and every weight, statistics included', async ({
  browser,
}, testInfo) => {
  const initial = await initialWeights();
  // One profile for both runs: the second reads the data set from the first's cache.
  const context = await browser.newContext({ acceptDownloads: true });
  const one = await train(context, testInfo, 1);
  const two = await train(context, testInfo, 2);
  await context.close();

  // The weights pair up with the model built here: the same names and shapes, in the same order.
  expect(one.weights.map(({ name, shape }) => ({ name, shape }))).toEqual(initial.map(({ name, shape }) => ({ name, shape })));
  expect(two.weights.map(({ name, shape }) => ({ name, shape }))).toEqual(initial.map(({ name, shape }) => ({ name, shape })));
  const relative = Object.fromEntries(
    one.weights.map((w, i) => {
      const moved = distance(w.values, (initial[i] as Weight).values);
      return [w.name, distance((two.weights[i] as Weight).values, w.values) / moved];
    }),
  );
  const losses = {
    train: [one.record.trainLoss, two.record.trainLoss],
    validation: [one.record.valLoss, two.record.valLoss],
  };
  // Kept with the test's output, for the next time the bounds are set.
  await writeFile(testInfo.outputPath('comparison.json'), JSON.stringify({ losses, relative }, null, 1));

  expect(Math.abs(two.record.trainLoss - one.record.trainLoss)).toBeLessThanOrEqual(LOSS_BOUND);
  expect(Math.abs((two.record.valLoss as number) - (one.record.valLoss as number))).toBeLessThanOrEqual(LOSS_BOUND);
  for (const [name, r] of Object.entries(relative)) {
    if (NOISE_ONLY.test(name)) continue;
    expect(r, name).toBeLessThanOrEqual(name.endsWith('/moving_variance') ? VARIANCE_BOUND : WEIGHT_BOUND);
  }
});
