/**
 * `npm run train` as a user runs it: a real headless Chromium driving the
 * built app on the real data, reporting through the page's automation feed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import { parseRunFile } from '../src/handover/runFile';
import { expect, test } from './fixtures';

function train(args: string[]) {
  // --no-build: Playwright's web server has just built dist/.
  const result = spawnSync('npx', ['tsx', 'scripts/train.ts', '--no-build', ...args], { encoding: 'utf8', timeout: 240_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('npm run train: the tiny preset on 5,000 images, stopped after one epoch of two, beats 30% on the full test set and hands the run over', async () => {
  test.setTimeout(300_000);
  const dir = mkdtempSync(path.join(tmpdir(), 'train-'));
  const [json, zip] = [path.join(dir, 'out.json'), path.join(dir, 'handover.zip')];
  const run = train(['--preset', 'tiny', '--trainLimit', '5000', '--epochs', '2', '--stop-after', '1', '--json', json, '--handover', zip]);
  expect(run.code, run.stderr).toBe(0);
  expect(run.stdout).toMatch(/^epoch 1: train loss [\d.]+ acc [\d.]+% \| val loss [\d.]+ acc [\d.]+% \| [\d.]+ s, [\d.]+ img\/s/m);
  expect(run.stdout).toContain('stopping after epoch 1 (--stop-after)');
  expect(run.stdout).not.toMatch(/^epoch 2:/m);
  // The hand-over carries the run's own two epochs, so PyTorch continues the rest of its schedule.
  const handover = parseRunFile(JSON.parse(strFromU8(unzipSync(new Uint8Array(readFileSync(zip)))['run.json'] as Uint8Array)));
  expect([handover.preset, handover.epochsDone, handover.settings.epochs, handover.stopped]).toEqual(['tiny', 1, 2, false]);
  expect(handover.step).toBe(Math.floor(5000 / 64));
  const report = JSON.parse(readFileSync(json, 'utf8'));
  expect(report.config).toMatchObject({ preset: 'tiny', trainLimit: 5000, epochs: 2 });
  expect(['webgpu', 'webgl', 'wasm', 'cpu']).toContain(report.backend);
  expect(report.epochs).toHaveLength(1);
  expect(Object.keys(report.epochs[0]).sort()).toEqual([
    'elapsedSeconds',
    'epoch',
    'images',
    'imagesPerSecond',
    'seconds',
    'trainAccuracy',
    'trainLoss',
    'valAccuracy',
    'valLoss',
  ]);
  expect(report.test.count).toBe(10_000);
  expect(report.test.accuracy).toBeGreaterThan(0.3);
  expect(report.test.confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(10_000);
  expect(report.test.perClass).toHaveLength(10);
  expect(report.totalSeconds).toBeGreaterThan(0);
  // Time to accuracy: the epoch's images (whole batches of the 5,000), its time from Train within the run's, and
  // one entry for each level the validation accuracy reached, and none for the others.
  const [epoch] = report.epochs;
  expect(epoch.images).toBe(Math.floor(5000 / 64) * 64);
  expect(epoch.elapsedSeconds).toBeGreaterThanOrEqual(epoch.seconds);
  expect(epoch.elapsedSeconds).toBeLessThan(report.totalSeconds);
  const levels = [0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.93].filter((t) => epoch.valAccuracy >= t);
  expect(report.timeToAccuracy).toEqual(
    levels.map((threshold) => ({ threshold, epoch: 1, seconds: epoch.elapsedSeconds, images: epoch.images })),
  );
});

test('npm run train --stop-after 0 hands over the run as it was before its first step, for PyTorch to train whole', async () => {
  const zip = path.join(mkdtempSync(path.join(tmpdir(), 'train-')), 'handover.zip');
  const run = train([
    '--preset',
    'tiny',
    '--trainLimit',
    '512',
    '--epochs',
    '3',
    '--testLimit',
    '100',
    '--stop-after',
    '0',
    '--handover',
    zip,
  ]);
  expect(run.code, run.stderr).toBe(0);
  expect(run.stdout).not.toMatch(/^epoch 1:/m);
  const files = unzipSync(new Uint8Array(readFileSync(zip)));
  const handover = parseRunFile(JSON.parse(strFromU8(files['run.json'] as Uint8Array)));
  // No step taken, no optimizer state (a fresh one elsewhere is the same), no segment yet: PyTorch's will be the first.
  expect([handover.epochsDone, handover.step, handover.optimizer, handover.segments, handover.settings.epochs]).toEqual([
    0,
    0,
    null,
    [],
    3,
  ]);
  expect(handover.curves.steps).toEqual([]);
  expect(Object.keys(files)).not.toContain('optimizer.weights.bin');
  expect(strFromU8(files['README.txt'] as Uint8Array)).toContain('the run before its first step');
});

test('npm run train refuses bad settings before starting a browser', async () => {
  const run = train(['--batchSize', '0']);
  expect(run.code).not.toBe(0);
  expect(run.stderr).toContain('Batch size must be a whole number from 1 to 1024');
  const stopLate = train(['--epochs', '2', '--stop-after', '2']);
  expect(stopLate.code).not.toBe(0);
  expect(stopLate.stderr).toContain('--stop-after must be a whole number of epochs from 0 to 1');
});

test('npm run train exits non-zero with the page error when the run fails', async () => {
  const run = train(['--preset', 'tiny', '--trainLimit', '100', '--batchSize', '1024', '--testLimit', '100']);
  expect(run.code).not.toBe(0);
  expect(run.stderr).toContain('Batch size 1024 is larger than the 100 training images');
});
