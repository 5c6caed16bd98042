/**
 * `npm run tfjs-specs [-- cpu wasm] [--files ops/conv2d_test,…] [--verbose]`:
 * TensorFlow.js's own specs of every op whose kernel we replace, on the Node
 * backends (CPU, WASM), once with the stock kernels and once with ours
 * (src/tfjs-specs/). Prints the counts per backend, each regression and each
 * spec the stock kernels fail; writes the same and every spec's two results
 * to test-results/tfjs-specs/<backend>.txt. Exits 1 on any regression.
 * WebGPU and WebGL run the same specs in Chromium: e2e/tfjs-specs.spec.ts.
 *
 * The spec files are ES modules with extensionless imports, so the runner is
 * bundled first (esbuild, with package.json's "module" entries: one copy of
 * tfjs-core for the specs and our kernels alike), then run in a fresh
 * process per run: the spec files define their suites once, on import.
 */
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KernelSet, SpecRun } from '../src/tfjs-specs/run';
import { compareRuns, describeRuns, describeVerdict, type Verdict } from '../src/tfjs-specs/verdict';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const NODE_BACKENDS = ['cpu', 'wasm'] as const;
const REPORT_DIR = join(ROOT, 'test-results', 'tfjs-specs');

/** Bundles src/tfjs-specs/node.ts into `dir`; returns the bundle's path. */
async function bundle(dir: string): Promise<string> {
  const outfile = join(dir, 'node.cjs');
  await build({
    entryPoints: [join(ROOT, 'src/tfjs-specs/node.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    // tfjs's "main" entries are prebuilt CommonJS bundles, each with its own tfjs-core inside.
    mainFields: ['module', 'main'],
    logLevel: 'error',
  });
  return outfile;
}

function runOnce(runner: string, backend: string, kernels: KernelSet, files: readonly string[] | undefined, dir: string): SpecRun {
  const out = join(dir, `${backend}-${kernels}.json`);
  const args = [
    // Our WASM convolution uses relaxed SIMD, behind this flag in Node 20's V8 (as in vite.config.ts).
    '--experimental-wasm-relaxed-simd',
    runner,
    backend,
    kernels,
    out,
    ...(files === undefined ? [] : [files.join(',')]),
  ];
  const env = { ...process.env, TFJS_WASM_DIR: join(ROOT, 'node_modules/@tensorflow/tfjs-backend-wasm/dist') };
  const result = spawnSync(process.execPath, args, { encoding: 'utf8', env, maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`the ${kernels} run on ${backend} ended with ${result.status}:\n${result.stderr.slice(-4000)}`);
  return JSON.parse(readFileSync(out, 'utf8')) as SpecRun;
}

/** Every spec's result with the stock kernels and with ours, one line each. */
function resultTable(stock: SpecRun, ours: SpecRun): string {
  const oursByName = new Map(ours.results.map((r) => [r.name, r.status]));
  const names = [...new Set([...stock.results.map((r) => r.name), ...ours.results.map((r) => r.name)])];
  const stockByName = new Map(stock.results.map((r) => [r.name, r.status]));
  const cell = (s: string | undefined) => (s ?? 'absent').padEnd(7);
  return ['stock   ours    spec', ...names.map((n) => `${cell(stockByName.get(n))} ${cell(oursByName.get(n))} ${n}`)].join('\n') + '\n';
}

const reportFile = (backend: string) => join(REPORT_DIR, `${backend}.txt`);

export interface BackendOutcome {
  verdict: Verdict;
  stock: SpecRun;
  ours: SpecRun;
}

/** Runs `backend`'s specs with the stock kernels, then with ours, and compares. */
export async function nodeSpecs(backend: string, files?: readonly string[]): Promise<BackendOutcome> {
  const dir = mkdtempSync(join(tmpdir(), 'tfjs-specs-'));
  try {
    const runner = await bundle(dir);
    const stock = runOnce(runner, backend, 'stock', files, dir);
    const ours = runOnce(runner, backend, 'ours', files, dir);
    const verdict = compareRuns(stock, ours);
    mkdirSync(REPORT_DIR, { recursive: true });
    writeFileSync(reportFile(backend), [...describeVerdict(verdict), '', resultTable(stock, ours)].join('\n'));
    return { verdict, stock, ours };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const verbose = args.includes('--verbose');
  const filesAt = args.indexOf('--files');
  const files = filesAt >= 0 ? (args[filesAt + 1] ?? '').split(',') : undefined;
  const named = args.filter((a, i) => !a.startsWith('--') && (filesAt < 0 || i !== filesAt + 1));
  const backends = named.length > 0 ? named : [...NODE_BACKENDS];
  let regressions = 0;
  for (const backend of backends) {
    const outcome = await nodeSpecs(backend, files);
    describeVerdict(outcome.verdict).forEach((line) => console.log(line));
    describeRuns(outcome.stock, outcome.ours).forEach((line) => console.log(line));
    if (verbose) console.log(resultTable(outcome.stock, outcome.ours));
    regressions += outcome.verdict.regressions.length;
  }
  console.log(`every spec's two results: ${REPORT_DIR}/<backend>.txt`);
  return regressions > 0 ? 1 : 0;
}

if (resolve(process.argv[1] ?? '') === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(2);
    },
  );
}
