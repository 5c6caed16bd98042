import { readFile } from 'node:fs/promises';
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { WEBGL_COUNTERS } from '../src/bench/counters';
import type { DeviceReport } from '../src/bench/device';
import type { BenchApi, CheckResult, CompareResult, ConvShape, FusedResult, TrainJob } from '../src/bench/protocol';

/**
 * Our Conv2DBackpropFilter (and our forward convolution, where it replaces the
 * stock one) against TensorFlow.js's own WebGPU kernels, in a real
 * Chromium on WebGPU, through the benchmark page (bench.html). Odd sizes,
 * 'same' and 'valid', 2×2 / 3×3 / 5×5 filters, thin and wide channel counts,
 * so every formulation (im2col, im2colNhwc, taps, conv, patches) runs; small, so it takes
 * seconds even on a software GPU.
 */
const shape = (
  batch: number,
  height: number,
  width: number,
  inChannels: number,
  outChannels: number,
  kernel: number,
  pad: 'same' | 'valid',
  stride = 1,
): ConvShape => ({
  batch,
  height,
  width,
  inChannels,
  outChannels,
  kernel,
  stride,
  pad,
});

const SHAPES: ConvShape[] = [
  shape(2, 7, 5, 3, 4, 3, 'same'),
  shape(3, 9, 9, 16, 8, 3, 'valid'),
  shape(4, 15, 15, 64, 32, 3, 'same'),
  shape(2, 11, 7, 5, 6, 5, 'same'),
  shape(1, 8, 8, 20, 20, 5, 'valid'),
  shape(2, 31, 31, 3, 24, 2, 'valid'),
  shape(2, 6, 7, 3, 5, 2, 'same'),
  shape(2, 9, 8, 4, 5, 3, 'same', 2),
];

/**
 * What each GPU backend checks: every formulation that can run there, and
 * the forward convolution where ours replaces the stock one (WebGPU only).
 * WebGL has no 'patches' kernel of ours.
 */
const CHECKED = {
  webgpu: { name: 'WebGPU', methods: ['conv', 'forward', 'im2col', 'im2colNhwc', 'patches', 'registered', 'taps'] },
  webgl: { name: 'WebGL', methods: ['conv', 'im2col', 'im2colNhwc', 'registered', 'taps'] },
} as const;

for (const backend of ['webgpu', 'webgl'] as const) {
  const { name: backendName, methods } = CHECKED[backend];
  test(`our weight gradient matches TensorFlow.js’s ${backendName} kernel (max relative error < 1e-4)`, async ({
    page,
    pageErrors: errors,
  }) => {
    await page.goto('/bench.html');
    await expect(page.locator('body')).toHaveAttribute('data-ready', 'true');
    const result = (await page.evaluate(
      ({ b, shapes }) => (window as unknown as { cifarBench: BenchApi }).cifarBench.run({ kind: 'check', backend: b, shapes }),
      { b: backend, shapes: SHAPES },
    )) as CheckResult;

    expect(result.backend).toBe(backend);
    expect(result.rows).toHaveLength(SHAPES.length);
    const tried = new Set<string>();
    for (const row of result.rows) {
      const name = `${row.shape.batch}×${row.shape.height}×${row.shape.width}×${row.shape.inChannels}→${row.shape.outChannels} ${row.shape.kernel}×${row.shape.kernel} ${row.shape.pad} /${row.shape.stride}`;
      expect(Object.keys(row.errors), name).toContain('registered');
      for (const [method, error] of Object.entries(row.errors)) {
        tried.add(method);
        expect(error, `${name}, ${method}`).toBeLessThan(1e-4);
      }
    }
    // Every formulation was checked, and the registered kernel really was ours on most shapes.
    expect([...tried].sort()).toEqual([...methods]);
    expect(result.rows.filter((r) => r.method !== 'stock').length).toBeGreaterThanOrEqual(6);
    expect(errors).toEqual([]);
  });
}

/** The bench page's `fused` job on `backend`: each check's max relative error against the unfused TensorFlow.js reference, run on the stock kernels. */
async function fusedErrors(page: Page, backend: 'webgpu' | 'webgl'): Promise<FusedResult> {
  await page.goto('/bench.html');
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true');
  const result = (await page.evaluate(
    (b) => (window as unknown as { cifarBench: BenchApi }).cifarBench.run({ kind: 'fused', backend: b }),
    backend,
  )) as FusedResult;
  expect(result.backend).toBe(backend);
  return result;
}

test('our fused ops match their unfused references on TensorFlow.js’s stock WebGPU kernels (max relative error < 1e-4)', async ({
  page,
  pageErrors: errors,
}) => {
  const result = await fusedErrors(page, 'webgpu');
  // BatchNorm + ELU / ReLU (γ frozen) / linear: output, running averages, dx, dβ, and dγ where γ trains.
  const names = Object.keys(result.errors);
  for (const activation of ['elu', 'relu', 'linear'])
    for (const q of ['forward', 'movingMean', 'movingVariance', 'dx', 'dBeta']) expect(names).toContain(`batchnorm+${activation} ${q}`);
  expect(names).toContain('batchnorm+elu dGamma');
  expect(names).toContain('batchnorm+elu 5×17×19×12 dx');
  // Over 65,535 workgroups along x: TensorFlow.js spreads the dispatch over x and y.
  expect(names).toContain('batchnorm+elu 16×64×64×65 dx');
  // The tiny preset through applyForTraining (fused) against tfjs-layers' training-mode apply.
  expect(names).toEqual(expect.arrayContaining(['tiny model gradients', 'tiny model running averages']));
  // The step's own kernels, and a whole tiny-preset step against the same step in tfjs ops.
  expect(names).toEqual(
    expect.arrayContaining([
      'adam update',
      'nesterov momentum update',
      'dropout mask',
      'batch input rgb',
      'batch input gray',
      'cross-entropy',
      'tiny training step',
    ]),
  );
  for (const [name, error] of Object.entries(result.errors)) expect(error, name).toBeLessThan(1e-4);
  // stats, forward, 2 running averages, 2 gradient sums (dβ, dγ), dx.
  expect(result.bnActDispatches).toBe(7);
  expect(errors).toEqual([]);
});

test('our WebGL kernels (optimizers, dropout, cross-entropy) match their unfused references on TensorFlow.js’s stock WebGL kernels (max relative error < 1e-4)', async ({
  page,
  pageErrors: errors,
}) => {
  const result = await fusedErrors(page, 'webgl');
  // Only what has a WebGL kernel of ours: BatchNorm + activation and the batch input are WebGPU's alone.
  expect(Object.keys(result.errors).sort()).toEqual(
    [
      'adam update',
      'nesterov momentum update',
      'cross-entropy',
      'dropout mask',
      'tiny model gradients',
      'tiny model running averages',
      'tiny training step',
    ].sort(),
  );
  for (const [name, error] of Object.entries(result.errors)) expect(error, name).toBeLessThan(1e-4);
  expect(errors).toEqual([]);
});

/** The bench page's side-by-side training job: each run set up, then their steps interleaved (after `warmupSteps` untimed ones), no profile. */
async function compare(
  page: Page,
  runs: TrainJob[],
  { rounds, stepsPerRound, warmupSteps = 0 }: { rounds: number; stepsPerRound: number; warmupSteps?: number },
) {
  return (await page.evaluate((job) => (window as unknown as { cifarBench: BenchApi }).cifarBench.run(job), {
    kind: 'compare' as const,
    runs,
    warmupSteps,
    rounds,
    stepsPerRound,
    profile: false,
  })) as CompareResult;
}

test('on WASM the step trains at 1 and 2 threads and data-parallel, and the replicas stay identical', async ({
  page,
  pageErrors: errors,
}) => {
  await page.goto('/bench.html');
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true');
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  const base: TrainJob = {
    kind: 'train',
    mode: 'ours',
    backend: 'wasm',
    preset: 'tiny',
    batchSize: 16,
    shaderWarmup: false,
    optimizer: 'adam',
    augment: true,
  };
  const runs: TrainJob[] = [
    { ...base, wasmThreads: 1 },
    { ...base, wasmThreads: 2 },
    { ...base, wasmThreads: 1, replicas: 2 },
  ];
  // The page throws if the replicas' weights differ after a round (see RunWorkers.steps).
  const result = await compare(page, runs, { rounds: 2, stepsPerRound: 2 });
  expect(result.runs.map((r) => r.error ?? null)).toEqual([null, null, null]);
  expect(result.runs.map((r) => r.adapter)).toEqual(['wasm, SIMD, 1 thread', 'wasm, SIMD, 2 threads', 'wasm, SIMD, 1 thread']);
  for (const r of result.runs) {
    expect(r.steps).toBe(4);
    expect(Number.isFinite(r.lastLoss) && r.lastLoss > 0).toBe(true);
  }
  // One model on 1 or 2 threads is the same computation: the same losses up to float rounding.
  expect(Math.abs((result.runs[0]?.lastLoss as number) - (result.runs[1]?.lastLoss as number))).toBeLessThan(1e-3);
  expect(errors).toEqual([]);
});

test('on WebGPU the bench counts each trainer’s GPU calls per step: ours makes a third of the dispatches and no new buffer', async ({
  page,
  pageErrors: errors,
}) => {
  await page.goto('/bench.html');
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true');
  const ours: TrainJob = {
    kind: 'train',
    mode: 'ours',
    backend: 'webgpu',
    preset: 'tiny',
    batchSize: 16,
    shaderWarmup: false,
    optimizer: 'adam',
    augment: true,
  };
  // One untimed step after the first: the second may still fill tfjs's buffer pool.
  const result = await compare(page, [ours, { ...ours, mode: 'baseline' as const }], { rounds: 1, stepsPerRound: 1, warmupSteps: 1 });

  expect(result.runs.map((r) => r.error ?? null)).toEqual([null, null]);
  const [oursCounts, baseline] = result.runs.map((r) => r.countsPerStep);
  for (const [name, c] of [
    ['ours', oursCounts],
    ['baseline', baseline],
  ] as const) {
    expect(c, name).toBeDefined();
    if (!c) continue;
    expect(c.dispatches, name).toBeGreaterThan(0);
    // tfjs-backend-webgpu 4.22 makes a bind group for every kernel it records (recordAndSubmit); our optimizer's own pass too.
    expect(c.bindGroups, name).toBe(c.dispatches);
    expect(c.computePasses, name).toBeGreaterThan(0);
    expect(c.computePasses, name).toBeLessThanOrEqual(c.dispatches);
    expect(c.submits, name).toBeGreaterThan(0);
    // Both read the step's loss back to the CPU.
    expect(c.readbacks, name).toBeGreaterThanOrEqual(1);
    // Every shader was compiled in the first, untimed step: the same shapes need no new pipeline.
    expect(c.pipelinesCreated, name).toBe(0);
    // Counted in whole steps (one), and nothing on WebGL's side.
    for (const value of Object.values(c)) expect(Number.isInteger(value), name).toBe(true);
    for (const counter of WEBGL_COUNTERS) expect(c[counter], `${name}, ${counter}`).toBe(0);
  }
  if (!oursCounts || !baseline) return;
  // tfjs writes a uniform buffer for each kernel; our optimizer writes one for all its dispatches.
  expect(baseline.bufferWrites).toBe(baseline.dispatches);
  expect(oursCounts.bufferWrites).toBeLessThan(oursCounts.dispatches);
  // Fused kernels: at least 3× fewer dispatches than tfjs's own step (measured 59 against 303), and
  // nothing uploaded as a new buffer (the batch goes into buffers kept on the device).
  expect(oursCounts.dispatches * 3).toBeLessThanOrEqual(baseline.dispatches);
  expect(oursCounts.buffersCreated).toBe(0);
  expect(baseline.buffersCreated).toBeGreaterThan(0);
  expect(errors).toEqual([]);
});

test('“Benchmark this device” runs ours and the baseline on each backend asked for and offers the report as JSON', async ({
  page,
  pageErrors: errors,
}) => {
  // A bad setting is refused in words before anything runs.
  await page.goto('/bench.html?steps=0');
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true');
  await page.getByRole('button', { name: 'Benchmark this device' }).click();
  await expect(page.getByRole('status')).toContainText('Cannot start: steps must be a whole number');

  await page.goto('/bench.html?preset=tiny&batchSize=8&steps=1&backends=webgpu,wasm');
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true');
  await page.getByRole('button', { name: 'Benchmark this device' }).click();
  const link = page.getByRole('link', { name: 'Download the report (JSON)' });
  await expect(link).toBeVisible({ timeout: 240_000 });
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  expect(download.suggestedFilename()).toMatch(/^cifar10-bench-\d{4}-\d{2}-\d{2}\.json$/);
  const report = JSON.parse(await readFile(await download.path(), 'utf8')) as DeviceReport;

  expect(report).toMatchObject({ kind: 'cifar10-device-bench', version: 1, options: { preset: 'tiny', batchSize: 8, steps: 1 } });
  expect(report.results.map((r) => r.backend)).toEqual(['webgpu', 'wasm']);
  const [webgpu, wasm] = report.results as [DeviceReport['results'][number], DeviceReport['results'][number]];
  expect(webgpu.adapter).toContain('swiftshader');
  expect(webgpu.speedup).toBeGreaterThan(0);
  const [ours, baseline] = webgpu.runs;
  for (const run of [ours, baseline]) {
    expect(run?.msPerStep).toBeGreaterThan(0);
    expect(run?.countsPerStep?.dispatches).toBeGreaterThan(0);
    expect(run?.profile?.length).toBeGreaterThan(0);
  }
  // Ours' convolution formulations, as the app's model details show them: static on SwiftShader unless ?tune=on.
  expect(ours?.kernelPlan).toMatchObject({ backend: 'webgpu', status: 'static' });
  expect(ours?.kernelPlan?.reason).toContain('software renderer');
  expect(ours?.kernelPlan?.choices.map((c) => c.op)).toEqual(['forward', 'filterGrad', 'forward', 'filterGrad']);
  expect(baseline?.kernelPlan).toBeUndefined();
  // tfjs's own WASM backend has no weight gradient: the baseline cannot train there, and the report says so.
  expect(wasm.runs[0]?.msPerStep).toBeGreaterThan(0);
  expect(wasm.runs[1]?.error).toContain('Conv2DBackpropFilter');
  expect(wasm.speedup).toBeNull();
  await expect(page.getByRole('status')).toContainText(/Done: webgpu [\d.]+× the baseline; wasm could not train/);
  expect(errors).toEqual([]);
});
