/**
 * `npm run bench`: our training step against plain TensorFlow.js, side by
 * side in one headless Chromium, on the real CIFAR-10 images.
 *
 *   npm run bench -- --backend webgpu --preset seed --batchSize 64 --json out.json
 *   npm run bench -- --peer convnetjs            (ConvNetJS's demo network; ours on wasm unless --backend)
 *   npm run bench -- --backend wasm --preset seed   (ours at 1 thread and at one per core, interleaved)
 *   npm run bench -- --peer torch                (the seed network in PyTorch on the CPU, beside ours on wasm)
 *
 * Each model trains in its own fresh worker of bench.html (src/bench/): ours
 * (our step and kernels) and the baseline (the same tfjs-layers model with
 * compile + trainOnBatch and the stock kernels only) are both set up, then
 * their steps are interleaved, so a change in the machine's load hits both
 * alike. On WebGPU and WebGL each worker also counts the GPU API calls of
 * the timed steps (src/bench/counters.ts: dispatches, bind groups, buffer
 * writes and creations, passes, submits, readbacks; draws and programs), per
 * step. Then the weight-gradient kernels alone, ours against the stock one.
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
  type GemmResult,
  type GemmRow,
  type OpsResult,
  type PeerResult,
  type PeerRow,
  type TrainJob,
  type TrainTiming,
} from '../src/bench/protocol';
import { OPTIMIZERS, type OptimizerName } from '../src/run/settings';
import type { CaseChoice } from '../src/kernels/tuning/tune';
import { TUNE_MODES, type KernelPlanReport, type TuneMode } from '../src/worker/protocol';
import { CHROMIUM_ARGS, chromiumPath } from './browser';
import {
  ms,
  printCounters,
  kernelSumSpread,
  printKernelTable,
  printProfile,
  printProfileComparison,
  ratioSpread,
  spread,
  spreadText,
  table,
  times,
} from './bench-report';
import { benchTorch } from './bench-torch';
import { optimizerInWords } from '../src/run/recipe';
import { jobRecipe } from '../src/bench/protocol';

const USAGE = `Usage: npm run bench -- [--backend webgpu|webgl|wasm|cpu] [--preset ${PRESETS.join('|')}] [--batchSize N]
         [--steps N] [--round N] [--warmup N] [--kernelReps N] [--optimizer adam|sgd] [--augment true|false]
         [--no-baseline] [--no-kernels] [--shader-warmup] [--profile] [--layers-batchnorm] [--tune auto|on|off]
         [--variant layers-batchnorm|sgd|adam|no-augment|stock-forward|stock-reduce|stock-batchnorm|stock-transpose]... [--flags JSON]
         [--threads N,M] [--replicas N] [--methods im2col,im2colNhwc,taps,conv] [--ops] [--gemm] [--peer convnetjs|torch] [--json PATH] [--no-build]
       npm run bench -- --registry [--backend webgpu|webgl|wasm|cpu]

  --registry       print which kernel of ours runs on which backend, when and why (src/kernels/registry.ts), and exit
  --steps N        timed steps per model (default 2; 20 with --peer)
  --round N        steps per model per round when interleaving (default 1)
  --warmup N       untimed steps after the first step (default 0: the first step compiles everything;
                   1 for steady-state GPU call counts, as the second step may still create buffers)
  --variant NAME   also time ours with one lever changed, interleaved with the others
  --flags JSON     TensorFlow.js environment flags for ours, e.g. '{"WEBGPU_MATMUL_PROGRAM_TYPE":3}'
  --shader-warmup  also time ours' first step after compiling its shaders
  --tune MODE      ours' convolution formulations, as the app's ?tune=: auto (timed on a hardware GPU, static
                   on a software one), on (timed whatever the adapter), off (the static plan); printed either way
  --threads N,M    wasm: time ours at each of these thread counts, interleaved (default: 1 and one per
                   logical core, at most 8; the page must be cross-origin isolated, as the bench page is)
  --methods LIST   also time these weight-gradient formulations on each seed convolution, whatever the rule picks
  --replicas N     also time ours data-parallel: N workers (1 wasm thread each) on 1/N of every batch,
                   gradients averaged before one optimizer step, as the app trains on WASM (src/train/replicas.ts)
  --ops            wasm: each kernel of a seed step alone at each thread count (which ones use the threads)
  --gemm           wasm, one thread: the seed convolutions' matrix products by tfjs's matMul (XNNPACK) against
                   our own WebAssembly product with and without relaxed SIMD's fused multiply-add (src/bench/gemm.ts)
  --peer torch     the seed network trained by PyTorch on the CPU at 1 and N threads (/usr/bin/python3 with
                   python3-torch; skipped with a note where it is missing), then ours on wasm at the same
                   thread counts; --profile adds both per-op profiles
`;

/**
 * Built outside dist/ on purpose: `npm run build` (the e2e tests' server,
 * `npm start`) empties dist/, and a bench running meanwhile would lose its
 * worker scripts. node_modules/ is ignored by git and ESLint alike.
 */
const OUT_DIR = 'node_modules/.cache/cifar10-bench';

interface Options {
  backend: BenchBackend;
  /** --registry: print the kernel registry (for one backend, or all) and exit. */
  registry: BenchBackend | 'all' | null;
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
  peer: 'convnetjs' | 'torch' | null;
  /** wasm thread counts to time ours at; null: 1 and one per logical core. */
  threads: number[] | null;
  replicas: number;
  ops: boolean;
  gemm: boolean;
  methods: ('im2col' | 'im2colNhwc' | 'taps' | 'conv')[] | undefined;
  json: string | undefined;
  build: boolean;
  profile: boolean;
  layersBatchNorm: boolean;
  round: number;
  variants: string[];
  flags: Record<string, boolean | number> | undefined;
  tune: TuneMode;
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
      threads: { type: 'string' },
      ops: { type: 'boolean' },
      gemm: { type: 'boolean' },
      replicas: { type: 'string' },
      methods: { type: 'string' },
      tune: { type: 'string' },
      registry: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return null;
  const peer = values.peer === undefined ? null : oneOf(values.peer, ['convnetjs', 'torch'] as const, 'convnetjs', 'peer');
  const threads = values.threads === undefined ? null : values.threads.split(',').map((t) => wholeNumber(t.trim(), 1, 'threads', 1));
  const augment = oneOf(values.augment, ['true', 'false'] as const, 'true', 'augment') === 'true';
  return {
    // ConvNetJS is CPU-only JavaScript; its fair counterpart here is our WASM path.
    backend: oneOf(values.backend, BENCH_BACKENDS, peer || values.ops || values.gemm ? 'wasm' : 'webgpu', 'backend'),
    threads,
    ops: values.ops === true,
    gemm: values.gemm === true,
    replicas: wholeNumber(values.replicas, 1, 'replicas', 1),
    methods: values.methods?.split(',').map((m) => oneOf(m.trim(), ['im2col', 'im2colNhwc', 'taps', 'conv'] as const, 'conv', 'methods')),
    preset: oneOf(values.preset, PRESETS, 'seed', 'preset'),
    batchSize: wholeNumber(values.batchSize, 64, 'batchSize', 1),
    steps: wholeNumber(values.steps, peer === 'convnetjs' ? 20 : peer === 'torch' ? 6 : 2, 'steps', 1),
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
    tune: oneOf(values.tune, TUNE_MODES, 'auto', 'tune'),
    registry:
      values.registry === true ? (values.backend === undefined ? 'all' : oneOf(values.backend, BENCH_BACKENDS, 'wasm', 'backend')) : null,
  };
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
  'stock-reduce': (job) => ({ ...job, stockKernels: ['Sum', 'Mean'] }),
  'stock-batchnorm': (job) => ({ ...job, stockKernels: ['FusedBatchNorm'] }),
  'stock-transpose': (job) => ({ ...job, stockKernels: ['Transpose'] }),
};

function describeRun(r: TrainTiming): string {
  if (r.job.mode === 'baseline') return 'tfjs-layers baseline';
  const extras = [
    (r.job.replicas ?? 1) > 1 ? `${r.job.replicas} replicas of batch ${r.job.batchSize / (r.job.replicas ?? 1)}` : '',
    r.job.wasmThreads !== undefined ? `${r.job.wasmThreads} ${r.job.wasmThreads === 1 ? 'thread' : 'threads'}` : '',
    r.job.layersBatchNorm ? 'tfjs-layers BatchNorm' : '',
    r.job.optimizer !== 'adam' || jobRecipe(r.job).schedule.kind !== 'constant' ? optimizerInWords(jobRecipe(r.job)) : '',
    r.job.augment ? '' : 'no augmentation',
    r.job.flags ? JSON.stringify(r.job.flags) : '',
    r.job.stockKernels ? `stock ${r.job.stockKernels.join(', ')}` : '',
  ].filter(Boolean);
  return extras.length > 0 ? `ours (${extras.join(', ')})` : 'ours';
}

/** The thread counts to time ours at: as asked, or on wasm 1 and the app's default (one per logical core, at most 8). */
async function threadCounts(page: Page, o: Pick<Options, 'backend' | 'threads'>): Promise<(number | undefined)[]> {
  if (o.backend !== 'wasm') {
    if (o.threads !== null) throw new Error('--threads is for --backend wasm');
    return [undefined];
  }
  if (o.threads !== null) return o.threads;
  const { cores, isolated } = await page.evaluate(() => ({ cores: navigator.hardwareConcurrency, isolated: crossOriginIsolated }));
  if (!isolated) throw new Error('The bench page is not cross-origin isolated: the WASM backend cannot run threads there');
  return [...new Set([1, Math.min(cores, 8)])];
}

function ourTrainJob(o: Options): TrainJob {
  return {
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
    tune: o.tune,
  };
}

/** Time to first step only: a fresh worker, shader warm-up, one step. */
async function timeShaderWarmup(page: Page, o: Options, ourJob: TrainJob): Promise<TrainTiming | null> {
  if (!o.shaderWarmup || (o.backend !== 'webgpu' && o.backend !== 'webgl')) return null;
  const compared = await runJob<CompareResult>(page, {
    kind: 'compare',
    runs: [{ ...ourJob, shaderWarmup: true }],
    warmupSteps: 0,
    rounds: 0,
    stepsPerRound: 1,
    profile: false,
  });
  return compared.runs[0] ?? null;
}

function printSteps(o: Options, compared: CompareResult, steps: number): void {
  const [ours, ...others] = compared.runs as [TrainTiming, ...TrainTiming[]];
  const baseline = others.find((r) => r.job.mode === 'baseline') ?? null;
  const perImage = (r: TrainTiming) => (1000 * o.batchSize) / r.msPerStep;
  console.log(
    `\nTraining step: preset ${o.preset}, batch ${o.batchSize}, ${o.backend} (${ours.adapter}); ${steps} timed steps, interleaved ${o.round} at a time, after the first step and ${o.warmup} more untimed`,
  );
  console.log(
    `ours: createTrainStep (trainModel's step; ${optimizerInWords(jobRecipe(o))}, augmentation ${o.augment ? 'on' : 'off'}), our kernels (${ours.registered.join(', ')})`,
  );
  if (baseline) console.log('baseline: the same tfjs-layers model, model.compile + trainOnBatch, stock kernels, no augmentation');
  if (ours.kernelPlan) printKernelPlan(ours.kernelPlan);
  console.log('');
  console.log(
    table(
      ['', 'ms/step', 'images/s', 'vs ours', 'fastest round (ms/step)', 'of which CPU gather (ms)', 'first step (ms)', 'last loss'],
      compared.runs.map((r) =>
        r.error
          ? [describeRun(r), 'cannot train', '', '', '', '', '', '']
          : [
              describeRun(r),
              ms(r.msPerStep),
              ms(perImage(r)),
              times(r.msPerStep, ours.msPerStep),
              ms(r.fastestRoundMsPerStep),
              ms(r.gatherMsPerStep),
              ms(r.firstStepMs),
              r.lastLoss.toFixed(3),
            ],
      ),
    ),
  );
  for (const r of compared.runs) if (r.error) console.log(`${describeRun(r)}: ${r.error}`);
  printRoundSpreads(compared.runs);
  // Speedups over ours on one thread (one worker, whole batch): more threads, or replicas.
  const plain = (r: TrainTiming) => r.job.mode === 'ours' && !r.error && !r.job.stockKernels && !r.job.layersBatchNorm;
  const one = compared.runs.find((r) => plain(r) && r.job.wasmThreads === 1 && (r.job.replicas ?? 1) === 1);
  if (!one) return;
  console.log('');
  for (const r of compared.runs) {
    if (r === one || !plain(r) || (r.job.wasmThreads === undefined && (r.job.replicas ?? 1) === 1)) continue;
    console.log(
      `${describeRun(r)} against ${describeRun(one)}: ${times(one.msPerStep, r.msPerStep)} the images/s (fastest rounds: ${times(one.fastestRoundMsPerStep, r.fastestRoundMsPerStep)})`,
    );
  }
}

/**
 * How far the rounds went apart: each run's ms per step, and each other run
 * against ours round by round (the runs take turns, so a round's ratio
 * compares two stretches of nearly the same load).
 */
function printRoundSpreads(runs: TrainTiming[]): void {
  const [ours, ...others] = runs as [TrainTiming, ...TrainTiming[]];
  if (ours.roundMsPerStep.length < 2) {
    console.log('\nOne timed round each: the figures above are one measurement, with no spread (--steps N for more).');
    return;
  }
  console.log('');
  for (const r of runs) if (!r.error) console.log(`${describeRun(r)}, ms per step by round: ${spreadText(spread(r.roundMsPerStep), ms)}`);
  for (const r of others) {
    if (r.error) continue;
    const speedup = spreadText(ratioSpread(r.roundMsPerStep, ours.roundMsPerStep), (v) => `${v.toFixed(2)}×`);
    console.log(`ours against ${describeRun(r)}, round by round: ${speedup}`);
  }
}

/** Ours' convolution formulations, as the app's model details show them. */
function printKernelPlan(plan: KernelPlanReport): void {
  console.log(`ours' kernel plan (${plan.status === 'tuned' ? 'tuned' : 'static'}): ${plan.reason}`);
  if (plan.choices.length === 0) return;
  const timings = (c: CaseChoice) =>
    [
      ...Object.entries(c.timings)
        .sort((a, b) => a[1] - b[1])
        .map(([m, t]) => `${m} ${ms(t)}`),
      ...c.dropped.map((d) => `${d.method} failed: ${d.reason}`),
    ].join(', ');
  console.log(
    table(
      ['layers', 'kernel', 'shape', 'formulation', 'chosen by', 'ms per call'],
      plan.choices.map((c) => [c.layers.join(' '), c.op, c.shapeKey, c.method, c.source + (c.note ? ` (${c.note})` : ''), timings(c)]),
    ),
  );
}

async function benchTraining(page: Page, o: Options): Promise<unknown[]> {
  const counts = await threadCounts(page, o);
  const base = ourTrainJob(o);
  const withThreads = (t: number | undefined): TrainJob => (t === undefined ? base : { ...base, wasmThreads: t });
  const runs: TrainJob[] = counts.map(withThreads);
  const most = withThreads(counts[counts.length - 1]);
  if (o.baseline) runs.push({ ...most, mode: 'baseline', layersBatchNorm: false });
  for (const v of o.variants) runs.push((VARIANTS[v] as (job: TrainJob) => TrainJob)(most));
  if (o.replicas > 1) runs.push({ ...base, replicas: o.replicas, ...(o.backend === 'wasm' ? { wasmThreads: 1 } : {}) });
  const rounds = Math.ceil(o.steps / o.round);
  const compared = await runJob<CompareResult>(page, {
    kind: 'compare',
    runs,
    warmupSteps: o.warmup,
    rounds,
    stepsPerRound: o.round,
    profile: o.profile,
  });
  const warmed = await timeShaderWarmup(page, o, base);
  const kernels: { label: string; result: KernelResult }[] = [];
  if (o.kernels) {
    for (const t of counts) {
      const job = {
        kind: 'kernels',
        backend: o.backend,
        shapes: seedConvShapes(o.batchSize),
        reps: o.kernelReps,
        ...(o.methods ? { methods: o.methods } : {}),
      } as const;
      const result = await runJob<KernelResult>(page, t === undefined ? job : { ...job, wasmThreads: t });
      kernels.push({ label: t === undefined ? '' : `, ${t} thr.`, result });
    }
  }

  const [ours, ...others] = compared.runs as [TrainTiming, ...TrainTiming[]];
  const baseline = others.find((r) => r.job.mode === 'baseline') ?? null;
  if (!ours.oursFilterGradient) throw new Error('ours ran without our Conv2DBackpropFilter');
  if (baseline?.oursFilterGradient) throw new Error('the baseline ran with our Conv2DBackpropFilter');
  const steps = rounds * o.round;
  printSteps(o, compared, steps);
  if (ours.error) throw new Error(`ours could not train: ${ours.error}`);
  printCounters(
    o.backend,
    compared.runs.map((r) => ({ name: describeRun(r), countsPerStep: r.countsPerStep })),
    steps,
    o.warmup,
  );
  for (const r of compared.runs) printProfile(r, describeRun(r));
  const profiled = compared.runs.filter((r) => r.job.mode === 'ours' && r.profile && !r.error);
  if (counts.length > 1)
    printProfileComparison(
      profiled
        .filter((r) => counts.includes(r.job.wasmThreads))
        .map((r) => ({ name: describeRun(r), profile: r.profile ?? [], stepMs: r.msPerStep })),
    );
  if (warmed) {
    const total = (warmed.warmupMs ?? 0) + warmed.firstStepMs;
    console.log(
      `\nTime to first step, ours: ${ms(ours.firstStepMs)} ms without shader warm-up; with it ${ms(warmed.warmupMs)} ms warm-up + ${ms(warmed.firstStepMs)} ms first step = ${ms(total)} ms`,
    );
  }
  const kernelSums = printKernelTable(
    kernels,
    `Weight gradient (Conv2DBackpropFilter) of the seed network's convolutions, 3×3 'same', batch ${o.batchSize}, ${o.backend}, ms per call (median of ${o.kernelReps} after a warm-up call)`,
  );
  return [
    {
      backend: o.backend,
      preset: o.preset,
      batchSize: o.batchSize,
      steps,
      threads: counts,
      oursMsPerStep: ours.msPerStep,
      baselineMsPerStep: baseline && !baseline.error ? baseline.msPerStep : null,
      speedup: baseline && !baseline.error ? baseline.msPerStep / ours.msPerStep : null,
      speedupByRound: baseline && !baseline.error ? ratioSpread(baseline.roundMsPerStep, ours.roundMsPerStep) : null,
      baselineError: baseline?.error ?? null,
      firstStepMs: ours.firstStepMs,
      oursCountsPerStep: ours.countsPerStep ?? null,
      baselineCountsPerStep: baseline?.countsPerStep ?? null,
      baselineFirstStepMs: baseline?.firstStepMs ?? null,
      shaderWarmup: warmed ? { warmupMs: warmed.warmupMs, firstStepMs: warmed.firstStepMs } : null,
      runs: compared.runs.map(({ job, ...rest }) => ({ name: describeRun({ job, ...rest }), ...rest, job })),
      warmupSteps: o.warmup,
      stepsPerRound: o.round,
      adapter: ours.adapter,
      kernels: kernels.map(({ label, result }) => ({ label, rows: result.rows })),
      kernelSums,
      kernelSumSpeedupByRep: kernels.map(({ label, result }) => ({ label, spread: kernelSumSpread(result) })),
      date: new Date().toISOString(),
    },
  ];
}

/**
 * Each kernel alone at each thread count: one fresh worker per (round, count),
 * the counts taking turns, the fastest round kept (a kernel's own speed, with
 * the machine's load spikes left out).
 */
async function benchOps(page: Page, o: Options): Promise<unknown[]> {
  if (o.backend !== 'wasm') throw new Error('--ops times WASM kernels: use --backend wasm');
  const counts = (await threadCounts(page, o)) as number[];
  const best = new Map<number, Map<string, number>>(counts.map((t) => [t, new Map()]));
  for (let round = 0; round < Math.max(2, o.steps); round++) {
    for (const t of counts) {
      const result = await runJob<OpsResult>(page, { kind: 'ops', batch: o.batchSize, reps: o.kernelReps, wasmThreads: t });
      const seen = best.get(t) as Map<string, number>;
      for (const row of result.rows) seen.set(row.name, Math.min(seen.get(row.name) ?? Infinity, row.ms));
    }
  }
  const first = best.get(counts[0] as number) as Map<string, number>;
  const last = best.get(counts[counts.length - 1] as number) as Map<string, number>;
  console.log(
    `\nEach kernel alone, batch ${o.batchSize}, wasm, ms per call (median of ${o.kernelReps}, fastest of ${Math.max(2, o.steps)} rounds)\n`,
  );
  console.log(
    table(
      ['kernel', ...counts.map((t) => `${t} ${t === 1 ? 'thread' : 'threads'}`), 'speedup'],
      [...first.keys()].map((name) => [
        name,
        ...counts.map((t) => ms(best.get(t)?.get(name))),
        times(first.get(name) ?? null, last.get(name) ?? null),
      ]),
    ),
  );
  return [{ ops: Object.fromEntries(counts.map((t) => [t, Object.fromEntries(best.get(t) ?? [])])), date: new Date().toISOString() }];
}

/** The seed convolutions' products three ways, fastest of `steps` rounds each (gemmJob.ts). */
async function benchGemm(page: Page, o: Options): Promise<unknown[]> {
  if (o.backend !== 'wasm') throw new Error('--gemm times WASM products: use --backend wasm');
  const best = new Map<string, GemmRow>();
  const rounds = Math.max(2, o.steps);
  let adapter = '';
  for (let round = 0; round < rounds; round++) {
    const result = await runJob<GemmResult>(page, { kind: 'gemm', batch: o.batchSize, reps: Math.max(3, o.kernelReps) });
    adapter = result.adapter;
    for (const row of result.rows) {
      const seen = best.get(row.name);
      const fastest = (key: 'tfjs' | 'mulAdd' | 'pack') => Math.min(seen?.[key] ?? Infinity, row[key]);
      const fma = row.fma === null ? null : Math.min(seen?.fma ?? Infinity, row.fma);
      best.set(row.name, { ...row, tfjs: fastest('tfjs'), mulAdd: fastest('mulAdd'), pack: fastest('pack'), fma });
    }
  }
  const rate = (row: GemmRow, msPerCall: number | null) =>
    msPerCall === null ? '—' : ((2 * row.m * row.k * row.n) / msPerCall / 1e6).toFixed(1);
  console.log(
    `\nThe seed convolutions as matrix products, batch ${o.batchSize}, ${adapter}: ms per product and GFLOP/s ` +
      `(median of ${Math.max(3, o.kernelReps)} calls, fastest of ${rounds} rounds). tfjs's matMul includes whatever ` +
      `it packs; ours is timed on packed inputs, so "ours + packing" and its ratio are the like-for-like figures.\n`,
  );
  const rows = [...best.values()];
  console.log(
    table(
      [
        'product',
        'M×K×N',
        'tfjs matMul',
        'GFLOP/s',
        'ours, fma',
        'GFLOP/s',
        'ours, mul+add',
        'GFLOP/s',
        'packing (ms)',
        'ours fma + packing',
        'vs tfjs, with packing',
      ],
      rows.map((r) => [
        r.name,
        `${r.m}×${r.k}×${r.n}`,
        ms(r.tfjs),
        rate(r, r.tfjs),
        r.fma === null ? '— (no relaxed SIMD)' : ms(r.fma),
        rate(r, r.fma),
        ms(r.mulAdd),
        rate(r, r.mulAdd),
        ms(r.pack),
        r.fma === null ? '—' : ms(r.fma + r.pack),
        times(r.tfjs, r.fma === null ? null : r.fma + r.pack),
      ]),
    ),
  );
  const sum = (key: 'tfjs' | 'mulAdd' | 'pack') => rows.reduce((s, r) => s + r[key], 0);
  const fmaSum = rows.every((r) => r.fma !== null) ? rows.reduce((s, r) => s + (r.fma as number), 0) : null;
  console.log(
    `\nAll products: tfjs ${ms(sum('tfjs'))} ms, ours with fma ${fmaSum === null ? '—' : ms(fmaSum)} ms ` +
      `(${fmaSum === null ? '—' : ms(fmaSum + sum('pack'))} ms with packing, ${times(sum('tfjs'), fmaSum === null ? null : fmaSum + sum('pack'))} tfjs), ` +
      `ours mul+add ${ms(sum('mulAdd'))} ms`,
  );
  return [{ gemm: rows, adapter, batch: o.batchSize, date: new Date().toISOString() }];
}

/**
 * ConvNetJS against ours on its demo network. ConvNetJS is single-threaded JavaScript, so on wasm the
 * comparison that counts is ours on one thread; ours on every core is a second, labelled job.
 */
async function benchPeer(page: Page, o: Options): Promise<unknown[]> {
  const batchSizes = [...new Set([4, o.batchSize])];
  const threadCounts: (number | undefined)[] = o.backend === 'wasm' ? [1, undefined] : [undefined];
  const rows: (PeerRow & { vsConvnet: string })[] = [];
  for (const wasmThreads of threadCounts) {
    const job = { kind: 'peer' as const, backend: o.backend, peerImages: 200, batchSizes, steps: o.steps, wasmThreads };
    const result = await runJob<PeerResult>(page, job);
    const convnet = result.rows.find((r) => r.trainer === 'convnetjs');
    // Each job times ConvNetJS again; ours is compared with the ConvNetJS run of its own job.
    rows.push(...result.rows.map((r) => ({ ...r, vsConvnet: times(r.imagesPerSecond, convnet?.imagesPerSecond ?? null) })));
  }
  console.log(
    `\nConvNetJS's CIFAR-10 demo network (conv5×5×16-pool-conv5×5×20-pool-conv5×5×20-pool-softmax, Adadelta, L2 1e-4, ±2 px shifts and flips), same real images, same page\n`,
  );
  console.log(
    table(
      ['trainer', 'backend', 'threads', 'batch', 'images timed', 'images/s', 'vs ConvNetJS (same job)'],
      rows.map((r) => [
        r.trainer === 'convnetjs' ? 'ConvNetJS 0.3.0' : 'ours',
        r.backend,
        r.threads === null ? '—' : String(r.threads),
        String(r.batchSize),
        String(r.images),
        r.imagesPerSecond.toFixed(1),
        r.vsConvnet,
      ]),
    ),
  );
  return [{ peer: 'convnetjs', backend: o.backend, rows, date: new Date().toISOString() }];
}

async function main(): Promise<number> {
  const o = parseOptions();
  if (o === null) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (o.registry !== null) {
    const { registryInWords } = await import('../src/kernels/registry');
    console.log(registryInWords(o.registry === 'all' ? undefined : o.registry).join('\n'));
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
    const report =
      o.peer === 'torch'
        ? await benchTorch(
            o,
            {
              train: (counts) => benchTraining(page, { ...o, threads: counts, baseline: false, kernels: false }),
              convs: (t) =>
                runJob<KernelResult>(page, {
                  kind: 'kernels',
                  backend: 'wasm',
                  shapes: seedConvShapes(o.batchSize),
                  reps: Math.max(3, o.kernelReps),
                  wasmThreads: t,
                  passes: true,
                }),
            },
            await threadCounts(page, o),
          )
        : o.peer
          ? await benchPeer(page, o)
          : o.ops
            ? await benchOps(page, o)
            : o.gemm
              ? await benchGemm(page, o)
              : await benchTraining(page, o);
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
