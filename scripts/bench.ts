/**
 * `npm run bench`: our training step against plain TensorFlow.js, side by
 * side in one headless Chromium, on the real CIFAR-10 images.
 *
 *   npm run bench -- --backend webgpu --preset seed --batchSize 64 --json out.json
 *   npm run bench -- --peer convnetjs            (ConvNetJS's demo network; ours on wasm unless --backend)
 *
 * Each model trains in its own fresh worker of bench.html (src/bench/): ours
 * (our step and kernels) and the baseline (the same tfjs-layers model with
 * compile + trainOnBatch and the stock kernels only) are both set up, then
 * their steps are interleaved, so a change in the machine's load hits both
 * alike. Then the weight-gradient kernels alone, ours against the stock one.
 * Prints tables; with --json writes them.
 *
 * Defaults fit ~10 minutes for the seed network at batch 64 on this 2-core
 * machine's SwiftShader WebGPU, where one step takes about a minute: the first
 * step of each (untimed: it compiles the shaders), then 2 timed steps each, and
 * 1 timed kernel call after a warm-up call. On a real GPU raise --steps (e.g.
 * 50, with --round 10) and --kernelReps (5).
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { chromium, type Page } from '@playwright/test';
import { build, preview } from 'vite';
import { PRESETS, type Preset } from '../src/model/config';
import {
  BENCH_BACKENDS,
  seedConvShapes,
  type BenchApi,
  type BenchBackend,
  type BenchJob,
  type CompareResult,
  type KernelResult,
  type PeerResult,
  type TrainJob,
  type TrainTiming,
} from '../src/bench/protocol';
import { OPTIMIZERS, type OptimizerName } from '../src/train/settings';
import { CHROMIUM_ARGS, chromiumPath } from './browser';

const USAGE = `Usage: npm run bench -- [--backend webgpu|webgl|wasm|cpu] [--preset ${PRESETS.join('|')}] [--batchSize N]
         [--steps N] [--round N] [--warmup N] [--kernelReps N] [--optimizer adam|sgd] [--augment true|false]
         [--no-baseline] [--no-kernels] [--shader-warmup] [--profile] [--layers-batchnorm]
         [--variant layers-batchnorm|sgd|adam|no-augment|stock-forward]... [--flags JSON]
         [--peer convnetjs] [--json PATH] [--no-build]

  --steps N        timed steps per model (default 2; 20 with --peer)
  --round N        steps per model per round when interleaving (default 1)
  --warmup N       untimed steps after the first step (default 0: the first step compiles everything)
  --variant NAME   also time ours with one lever changed, interleaved with the others
  --flags JSON     TensorFlow.js environment flags for ours, e.g. '{"WEBGPU_MATMUL_PROGRAM_TYPE":3}'
  --shader-warmup  also time ours' first step after compiling its shaders
`;

/**
 * Built outside dist/ on purpose: `npm run build` (the e2e tests' server,
 * `npm start`) empties dist/, and a bench running meanwhile would lose its
 * worker scripts. node_modules/ is ignored by git and ESLint alike.
 */
const OUT_DIR = 'node_modules/.cache/cifar10-bench';

interface Options {
  backend: BenchBackend;
  preset: Preset;
  batchSize: number;
  steps: number;
  warmup: number;
  kernelReps: number;
  optimizer: OptimizerName;
  augment: boolean;
  baseline: boolean;
  kernels: boolean;
  shaderWarmup: boolean;
  peer: 'convnetjs' | null;
  json: string | undefined;
  build: boolean;
  profile: boolean;
  layersBatchNorm: boolean;
  round: number;
  variants: string[];
  flags: Record<string, boolean | number> | undefined;
}

function wholeNumber(value: string | undefined, fallback: number, name: string, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be a whole number ≥ ${min}, got "${value}"`);
  return n;
}

function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], fallback: T, name: string): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) throw new Error(`--${name} must be one of ${allowed.join(', ')}, got "${value}"`);
  return value as T;
}

function parseOptions(): Options | null {
  const { values } = parseArgs({
    options: {
      backend: { type: 'string' },
      preset: { type: 'string' },
      batchSize: { type: 'string' },
      steps: { type: 'string' },
      warmup: { type: 'string' },
      kernelReps: { type: 'string' },
      optimizer: { type: 'string' },
      augment: { type: 'string' },
      peer: { type: 'string' },
      json: { type: 'string' },
      'no-baseline': { type: 'boolean' },
      'no-kernels': { type: 'boolean' },
      'no-build': { type: 'boolean' },
      profile: { type: 'boolean' },
      'layers-batchnorm': { type: 'boolean' },
      round: { type: 'string' },
      variant: { type: 'string', multiple: true },
      flags: { type: 'string' },
      'shader-warmup': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return null;
  const peer = values.peer === undefined ? null : oneOf(values.peer, ['convnetjs'] as const, 'convnetjs', 'peer');
  const augment = oneOf(values.augment, ['true', 'false'] as const, 'true', 'augment') === 'true';
  return {
    // ConvNetJS is CPU-only JavaScript; its fair counterpart here is our WASM path.
    backend: oneOf(values.backend, BENCH_BACKENDS, peer ? 'wasm' : 'webgpu', 'backend'),
    preset: oneOf(values.preset, PRESETS, 'seed', 'preset'),
    batchSize: wholeNumber(values.batchSize, 64, 'batchSize', 1),
    steps: wholeNumber(values.steps, peer ? 20 : 2, 'steps', 1),
    warmup: wholeNumber(values.warmup, 0, 'warmup', 0),
    round: wholeNumber(values.round, 1, 'round', 1),
    kernelReps: wholeNumber(values.kernelReps, 1, 'kernelReps', 1),
    optimizer: oneOf(values.optimizer, OPTIMIZERS, 'adam', 'optimizer'),
    augment,
    baseline: !values['no-baseline'],
    kernels: !values['no-kernels'],
    shaderWarmup: values['shader-warmup'] === true,
    peer,
    json: values.json,
    build: !values['no-build'],
    profile: values.profile === true,
    layersBatchNorm: values['layers-batchnorm'] === true,
    variants: (values.variant ?? []).map((v) => oneOf(v, Object.keys(VARIANTS), 'sgd', 'variant')),
    flags: values.flags === undefined ? undefined : (JSON.parse(values.flags) as Record<string, boolean | number>),
  };
}

const ms = (v: number | null | undefined) =>
  v === null || v === undefined || !Number.isFinite(v) ? '—' : v >= 100 ? v.toFixed(0) : v.toFixed(1);
const times = (a: number | null, b: number | null) => (a !== null && b !== null && b > 0 ? `${(a / b).toFixed(2)}×` : '—');

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join(' | ')} |`;
  return [
    line(header),
    `| ${widths.map((w, i) => (i === 0 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`,
    ...rows.map(line),
  ].join('\n');
}

async function runJob<T>(page: Page, job: BenchJob): Promise<T> {
  return (await page.evaluate((j) => (window as unknown as { cifarBench: BenchApi }).cifarBench.run(j), job)) as T;
}

/** Extra `ours` runs for A/B measurements of a lever, by name. */
const VARIANTS: Record<string, (job: TrainJob) => TrainJob> = {
  'layers-batchnorm': (job) => ({ ...job, layersBatchNorm: true }),
  sgd: (job) => ({ ...job, optimizer: 'sgd' }),
  adam: (job) => ({ ...job, optimizer: 'adam' }),
  'no-augment': (job) => ({ ...job, augment: false }),
  'stock-forward': (job) => ({ ...job, stockKernels: ['Conv2D', 'FusedConv2D'] }),
};

function describeRun(r: TrainTiming): string {
  if (r.job.mode === 'baseline') return 'tfjs-layers baseline';
  const extras = [
    r.job.layersBatchNorm ? 'tfjs-layers BatchNorm' : '',
    r.job.preset !== 'fast' && r.job.optimizer !== 'adam' ? r.job.optimizer : '',
    r.job.augment ? '' : 'no augmentation',
    r.job.flags ? JSON.stringify(r.job.flags) : '',
    r.job.stockKernels ? `stock ${r.job.stockKernels.join(', ')}` : '',
  ].filter(Boolean);
  return extras.length > 0 ? `ours (${extras.join(', ')})` : 'ours';
}

async function benchTraining(page: Page, o: Options): Promise<unknown[]> {
  const ourJob: TrainJob = {
    kind: 'train',
    mode: 'ours',
    backend: o.backend,
    preset: o.preset,
    batchSize: o.batchSize,
    shaderWarmup: false,
    optimizer: o.optimizer,
    augment: o.augment,
    ...(o.layersBatchNorm ? { layersBatchNorm: true } : {}),
    ...(o.flags ? { flags: o.flags } : {}),
  };
  const runs: TrainJob[] = [ourJob];
  if (o.baseline) runs.push({ ...ourJob, mode: 'baseline', layersBatchNorm: false });
  for (const v of o.variants) runs.push((VARIANTS[v] as (job: TrainJob) => TrainJob)(ourJob));
  const rounds = Math.ceil(o.steps / o.round);
  const compared = await runJob<CompareResult>(page, {
    kind: 'compare',
    runs,
    warmupSteps: o.warmup,
    rounds,
    stepsPerRound: o.round,
    profile: o.profile,
  });
  const hasShaders = o.backend === 'webgpu' || o.backend === 'webgl';
  // Time to first step only: a fresh worker, shader warm-up, one step.
  const warmed =
    o.shaderWarmup && hasShaders
      ? ((
          await runJob<CompareResult>(page, {
            kind: 'compare',
            runs: [{ ...ourJob, shaderWarmup: true }],
            warmupSteps: 0,
            rounds: 0,
            stepsPerRound: 1,
            profile: false,
          })
        ).runs[0] ?? null)
      : null;
  const kernels = o.kernels
    ? await runJob<KernelResult>(page, { kind: 'kernels', backend: o.backend, shapes: seedConvShapes(o.batchSize), reps: o.kernelReps })
    : null;

  const [ours, ...others] = compared.runs as [TrainTiming, ...TrainTiming[]];
  const baseline = others.find((r) => r.job.mode === 'baseline') ?? null;
  if (!ours.oursFilterGradient) throw new Error('ours ran without our Conv2DBackpropFilter');
  if (baseline?.oursFilterGradient) throw new Error('the baseline ran with our Conv2DBackpropFilter');
  const perImage = (r: TrainTiming) => (1000 * o.batchSize) / r.msPerStep;
  const steps = rounds * o.round;
  console.log(
    `\nTraining step: preset ${o.preset}, batch ${o.batchSize}, ${o.backend} (${ours.adapter}); ${steps} timed steps, interleaved ${o.round} at a time, after the first step and ${o.warmup} more untimed`,
  );
  console.log(
    `ours: createTrainStep (trainModel's step; ${o.preset === 'fast' ? 'fast recipe' : o.optimizer}, augmentation ${o.augment ? 'on' : 'off'}), our kernels (${ours.registered.join(', ')})`,
  );
  if (baseline) console.log('baseline: the same tfjs-layers model, model.compile + trainOnBatch, stock kernels, no augmentation');
  console.log('');
  console.log(
    table(
      ['', 'ms/step', 'images/s', 'vs ours', 'first step (ms)', 'last loss'],
      compared.runs.map((r) =>
        r.error
          ? [describeRun(r), 'cannot train', '', '', '', '']
          : [
              describeRun(r),
              ms(r.msPerStep),
              ms(perImage(r)),
              times(r.msPerStep, ours.msPerStep),
              ms(r.firstStepMs),
              r.lastLoss.toFixed(3),
            ],
      ),
    ),
  );
  for (const r of compared.runs) if (r.error) console.log(`${describeRun(r)}: ${r.error}`);
  if (ours.error) throw new Error(`ours could not train: ${ours.error}`);
  for (const r of compared.runs) {
    if (!r.profile) continue;
    const total = r.profile.reduce((s, k) => s + k.ms, 0);
    const calls = r.profile.reduce((s, k) => s + k.calls, 0);
    console.log(`\nOne profiled step, ${describeRun(r)}: ${calls} kernel calls, ${ms(total)} ms of kernel time\n`);
    console.log(
      table(
        ['kernel', 'calls', 'ms', 'share'],
        r.profile.slice(0, 16).map((k) => [k.name, String(k.calls), ms(k.ms), `${((100 * k.ms) / total).toFixed(1)}%`]),
      ),
    );
  }
  if (warmed) {
    const total = (warmed.warmupMs ?? 0) + warmed.firstStepMs;
    console.log(
      `\nTime to first step, ours: ${ms(ours.firstStepMs)} ms without shader warm-up; with it ${ms(warmed.warmupMs)} ms warm-up + ${ms(warmed.firstStepMs)} ms first step = ${ms(total)} ms`,
    );
  }
  let kernelSums: { ours: number; stock: number | null } | null = null;
  if (kernels) {
    const rows = kernels.rows.map((r) => [
      `${r.shape.inChannels}→${r.shape.outChannels}, ${r.shape.height}×${r.shape.width}`,
      `${ms(r.oursMs)} (${r.method})`,
      ms(r.stockMs),
      times(r.stockMs, r.oursMs),
    ]);
    const oursSum = kernels.rows.reduce((s, r) => s + r.oursMs, 0);
    const stockSum = kernels.rows.every((r) => r.stockMs !== null) ? kernels.rows.reduce((s, r) => s + (r.stockMs as number), 0) : null;
    kernelSums = { ours: oursSum, stock: stockSum };
    rows.push(['sum', ms(oursSum), ms(stockSum), times(stockSum, oursSum)]);
    console.log(
      `\nWeight gradient (Conv2DBackpropFilter) of the seed network's convolutions, 3×3 'same', batch ${o.batchSize}, ${o.backend}, ms per call (median of ${o.kernelReps} after a warm-up call)\n`,
    );
    console.log(table(['in→out channels, size', 'ours (formulation)', 'tfjs default', 'speedup'], rows));
  }
  return [
    {
      backend: o.backend,
      preset: o.preset,
      batchSize: o.batchSize,
      steps,
      oursMsPerStep: ours.msPerStep,
      baselineMsPerStep: baseline && !baseline.error ? baseline.msPerStep : null,
      speedup: baseline && !baseline.error ? baseline.msPerStep / ours.msPerStep : null,
      baselineError: baseline?.error ?? null,
      firstStepMs: ours.firstStepMs,
      baselineFirstStepMs: baseline?.firstStepMs ?? null,
      shaderWarmup: warmed ? { warmupMs: warmed.warmupMs, firstStepMs: warmed.firstStepMs } : null,
      runs: compared.runs.map(({ job, ...rest }) => ({ name: describeRun({ job, ...rest }), ...rest, job })),
      warmupSteps: o.warmup,
      stepsPerRound: o.round,
      adapter: ours.adapter,
      kernels: kernels?.rows ?? null,
      kernelSums,
      date: new Date().toISOString(),
    },
  ];
}

async function benchPeer(page: Page, o: Options): Promise<unknown[]> {
  const batchSizes = [...new Set([4, o.batchSize])];
  const result = await runJob<PeerResult>(page, { kind: 'peer', backend: o.backend, peerImages: 200, batchSizes, steps: o.steps });
  const convnet = result.rows.find((r) => r.trainer === 'convnetjs');
  console.log(
    `\nConvNetJS's CIFAR-10 demo network (conv5×5×16-pool-conv5×5×20-pool-conv5×5×20-pool-softmax, Adadelta, L2 1e-4, ±2 px shifts and flips), same real images, same page\n`,
  );
  console.log(
    table(
      ['trainer', 'backend', 'batch', 'images timed', 'images/s', 'vs ConvNetJS'],
      result.rows.map((r) => [
        r.trainer === 'convnetjs' ? 'ConvNetJS 0.3.0' : 'ours',
        r.backend,
        String(r.batchSize),
        String(r.images),
        r.imagesPerSecond.toFixed(1),
        times(r.imagesPerSecond, convnet?.imagesPerSecond ?? null),
      ]),
    ),
  );
  return [{ peer: 'convnetjs', backend: o.backend, rows: result.rows, date: new Date().toISOString() }];
}

async function main(): Promise<number> {
  const o = parseOptions();
  if (o === null) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (o.build) await build({ logLevel: 'warn', build: { outDir: OUT_DIR, emptyOutDir: true } });
  const server = await preview({ build: { outDir: OUT_DIR }, preview: { port: 0, host: '127.0.0.1', open: false }, logLevel: 'warn' });
  const address = server.httpServer.address();
  if (!address || typeof address === 'string') throw new Error('The preview server has no TCP address');
  // Dawn hides WebGPU timestamp queries (kernel times in tf.profile) behind this switch.
  const args = o.profile ? [...CHROMIUM_ARGS, '--enable-dawn-features=allow_unsafe_apis'] : CHROMIUM_ARGS;
  const browser = await chromium.launch({ executablePath: chromiumPath(), args });
  try {
    const page = await browser.newPage();
    page.on('console', (message) => console.log(`  [page] ${message.text()}`));
    page.on('pageerror', (error) => console.error(`  [page error] ${error.message}`));
    // localhost, not 127.0.0.1: navigator.gpu exists only in a secure context.
    await page.goto(`http://localhost:${address.port}/bench.html`);
    await page.waitForFunction(() => document.body.dataset.ready === 'true');
    const report = o.peer ? await benchPeer(page, o) : await benchTraining(page, o);
    if (o.json) writeFileSync(o.json, `${JSON.stringify(report, null, 2)}\n`);
    return 0;
  } finally {
    await browser.close();
    await server.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`error: ${(error as Error).message}`);
    process.exit(1);
  },
);
