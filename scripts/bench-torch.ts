/**
 * `npm run bench -- --peer torch`: the seed or quick network trained natively by
 * PyTorch on this machine's CPU (scripts/torch_bench.py, Debian's
 * python3-torch; optional, never a dependency of the app) beside ours on
 * wasm, at the same thread counts. PyTorch runs before and after ours, so a
 * change of load during the run shows as two different PyTorch figures.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KernelProfile, KernelResult, TrainTiming } from '../src/bench/protocol';
import { ms, table, times } from './bench-report';
import { DATA_DIR } from './convert';

const PYTHON = '/usr/bin/python3';
const SCRIPT = 'scripts/torch_bench.py';

export interface TorchOptions {
  batchSize: number;
  steps: number;
  profile: boolean;
  preset: string;
}

interface TorchOp {
  name: string;
  calls: number;
  self_ms: number;
}
interface TorchConv {
  in: number;
  out: number;
  size: number;
  forward: number;
  input_grad: number;
  weight_grad: number;
}
interface TorchReport {
  torch: string;
  runs: { threads: number; ms_per_step: number; images_per_s: number; data_ms_per_step: number }[];
  profiles?: Record<string, TorchOp[]>;
  convs?: Record<string, TorchConv[]>;
}

/** Why PyTorch cannot run here, or null when it can. */
function torchMissing(): string | null {
  if (!existsSync(PYTHON)) return `${PYTHON} is missing`;
  const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  return probe.status === 0 ? null : `${PYTHON} cannot import torch (apt-get install python3-torch)`;
}

function runTorch(o: TorchOptions, threads: number[], profile: boolean): TorchReport {
  const dir = mkdtempSync(join(tmpdir(), 'torch-bench-'));
  const out = join(dir, 'report.json');
  try {
    const args = [
      SCRIPT,
      '--data',
      DATA_DIR,
      '--preset',
      o.preset,
      '--threads',
      threads.join(','),
      '--batch',
      String(o.batchSize),
      '--steps',
      String(o.steps),
    ];
    if (profile) args.push('--profile');
    const result = spawnSync(PYTHON, [...args, '--json', out], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (result.status !== 0) throw new Error(`${SCRIPT} failed (exit ${result.status})`);
    return JSON.parse(readFileSync(out, 'utf8')) as TorchReport;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Which part of a step a kernel (ours, by tfjs kernel name) or an op (PyTorch,
 * by ATen name) belongs to. Elementwise kernels are shared by BatchNorm's
 * closed form, Adam, dropout and the loss in ours, so they are one group.
 */
const OUR_GROUPS: Record<string, string> = {
  Conv2D: 'conv forward',
  FusedConv2D: 'conv forward',
  Conv2DBackpropInput: 'conv input gradient',
  Conv2DBackpropFilter: 'conv weight gradient',
  FusedBatchNorm: 'BatchNorm (normalise)',
  Elu: 'ELU',
  EluGrad: 'ELU',
  MaxPool: 'max-pool',
  MaxPoolGrad: 'max-pool',
  CropAndResize: 'augmentation (on the device)',
  PadV2: 'augmentation (on the device)',
  BatchMatMul: 'dense',
  _FusedMatMul: 'dense',
};
const TORCH_GROUPS: Record<string, string> = {
  'aten::mkldnn_convolution': 'conv forward',
  'aten::convolution_backward': 'conv input + weight gradient',
  'aten::native_batch_norm': 'BatchNorm (normalise)',
  'aten::native_batch_norm_backward': 'elementwise + reductions',
  'aten::elu': 'ELU',
  'aten::elu_backward': 'ELU',
  'aten::max_pool2d_with_indices': 'max-pool',
  'aten::max_pool2d_with_indices_backward': 'max-pool',
  'aten::mm': 'dense',
  'aten::addmm': 'dense',
};

function grouped(entries: { name: string; ms: number }[], groups: Record<string, string>): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of entries) {
    const g = groups[e.name] ?? 'elementwise + reductions';
    out.set(g, (out.get(g) ?? 0) + e.ms);
  }
  return out;
}

function printGroups(ours: Map<number, KernelProfile[]>, torch: TorchReport, threads: number[]): void {
  const rows: string[][] = [];
  const names = new Set<string>();
  const per = threads.map((t) => {
    const o = grouped(ours.get(t) ?? [], OUR_GROUPS);
    const p = grouped(
      (torch.profiles?.[String(t)] ?? []).map((op) => ({ name: op.name, ms: op.self_ms })),
      TORCH_GROUPS,
    );
    // The input and weight gradients are one op in PyTorch: compare their sum.
    o.set('conv input + weight gradient', (o.get('conv input gradient') ?? 0) + (o.get('conv weight gradient') ?? 0));
    for (const k of [...o.keys(), ...p.keys()]) names.add(k);
    return { t, o, p };
  });
  for (const name of names) {
    rows.push([
      name,
      ...per.flatMap(({ o, p }) => [ms(o.get(name) ?? 0), ms(p.get(name) ?? 0), times(o.get(name) ?? 0, p.get(name) ?? 0)]),
    ]);
  }
  console.log('\nOne profiled step by part, ms: ours (tf.profile) against PyTorch (torch.profiler, self CPU time)\n');
  console.log(table(['part', ...threads.flatMap((t) => [`ours ${t} thr.`, `PyTorch ${t} thr.`, 'ours / PyTorch'])], rows));
}

/** Each seed convolution's three passes alone, ours against PyTorch's, at each thread count (ms, median of 5). */
function printConvs(torch: TorchReport, ours: Map<number, KernelResult>, threads: number[]): void {
  if (!torch.convs) return;
  const first = torch.convs[String(threads[0])] ?? [];
  const pass = (name: string, o: number | undefined, p: number | undefined) =>
    [ms(o), ms(p), times(o ?? null, p ?? null)].map((v, i) => (i === 0 ? `${name} ${v}` : v));
  const rows: string[][] = [];
  const sums = threads.map(() => ({ o: [0, 0, 0], p: [0, 0, 0] }));
  first.forEach((c, i) => {
    threads.forEach((t, ti) => {
      const p = torch.convs?.[String(t)]?.[i];
      const o = ours.get(t)?.rows[i];
      const values = [
        [o?.forwardMs, p?.forward],
        [o?.inputGradMs, p?.input_grad],
        [o?.oursMs, p?.weight_grad],
      ] as const;
      const sum = sums[ti] as { o: number[]; p: number[] };
      values.forEach(([ov, pv], k) => {
        sum.o[k] = (sum.o[k] ?? 0) + (ov ?? 0);
        sum.p[k] = (sum.p[k] ?? 0) + (pv ?? 0);
      });
      rows.push([
        `${c.in}→${c.out}, ${c.size}², ${t} thr.`,
        ...pass('fwd', values[0][0], values[0][1]),
        ...pass('dx', values[1][0], values[1][1]),
        ...pass('dW', values[2][0], values[2][1]),
      ]);
    });
  });
  threads.forEach((t, ti) => {
    const { o, p } = sums[ti] as { o: number[]; p: number[] };
    rows.push([`all six, ${t} thr.`, ...[0, 1, 2].flatMap((k) => pass(['fwd', 'dx', 'dW'][k] as string, o[k], p[k]))]);
  });
  console.log(
    `\nEach seed convolution alone, batch 64, ms per call: ours (wasm) against PyTorch (CPU); fwd = forward, dx = input gradient, dW = weight gradient\n`,
  );
  console.log(table(['layer', 'ours', 'PyTorch', 'ratio', 'ours', 'PyTorch', 'ratio', 'ours', 'PyTorch', 'ratio'], rows));
}

/** What of ours runs beside PyTorch: the training step at these thread counts, and the seed convolutions' passes at one count. */
export interface OursForTorch {
  train(threads: number[]): Promise<unknown[]>;
  convs(threads: number): Promise<KernelResult>;
}

/** Runs PyTorch, then ours (which prints its own tables), then PyTorch again; prints the comparison. */
export async function benchTorch(o: TorchOptions, ours: OursForTorch, counts: (number | undefined)[]): Promise<unknown[]> {
  if (o.preset !== 'seed' && o.preset !== 'quick')
    throw new Error('--peer torch trains the seed or the quick network: use --preset seed or quick');
  if (o.profile && o.preset !== 'seed') throw new Error("--peer torch --profile compares the seed network's kernels: use --preset seed");
  const threads = counts.filter((t): t is number => t !== undefined);
  if (threads.length === 0) throw new Error('--peer torch compares thread counts on wasm: use --backend wasm');
  const missing = torchMissing();
  if (missing) console.log(`PyTorch peer skipped: ${missing}. Ours alone follows.`);
  const before = missing ? null : runTorch(o, threads, o.profile);
  const report = await ours.train(threads);
  const convs = new Map<number, KernelResult>();
  if (o.profile) for (const t of threads) convs.set(t, await ours.convs(t));
  const after = missing ? null : runTorch(o, threads, false);
  if (!before || !after) return report;
  const runs = ((report[0] as { runs?: TrainTiming[] }).runs ?? []).filter((r) => r.job.mode === 'ours' && !r.error);
  const oursAt = (t: number) => runs.find((r) => r.job.wasmThreads === t && (r.job.replicas ?? 1) === 1);
  const perImage = (msPerStep: number | undefined) => (msPerStep === undefined ? null : (1000 * o.batchSize) / msPerStep);
  console.log(
    `\n${o.preset} network, batch ${o.batchSize}, images/s: PyTorch ${before.torch} (CPU, before and after ours) against ours (wasm)\n`,
  );
  const row = (label: string, t: number, mine: number | null) => {
    const b = before.runs.find((r) => r.threads === t)?.images_per_s ?? null;
    const a = after.runs.find((r) => r.threads === t)?.images_per_s ?? null;
    return [label, ms(b), ms(a), ms(mine), times(mine, b !== null && a !== null ? (a + b) / 2 : null)];
  };
  const rows = threads.map((t) => row(String(t), t, perImage(oursAt(t)?.msPerStep)));
  // As the app trains on that many cores: one worker per core, one thread each (src/worker/wasmThreads.ts).
  const replicated = runs.find((r) => (r.job.replicas ?? 1) > 1);
  if (replicated && threads.includes(replicated.job.replicas as number)) {
    const n = replicated.job.replicas as number;
    rows.push(row(`${n} (${n} workers × 1 thread)`, n, perImage(replicated.msPerStep)));
  }
  console.log(table(['threads', 'PyTorch before', 'PyTorch after', 'ours', 'ours / PyTorch (mean)'], rows));
  if (o.profile) {
    printGroups(new Map(threads.map((t) => [t, oursAt(t)?.profile ?? []])), before, threads);
    printConvs(before, convs, threads);
  }
  return [...report, { peer: 'torch', before, after, convs: Object.fromEntries(convs) }];
}
