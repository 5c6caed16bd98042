/**
 * `npm run test:wgpu`: our WGSL kernels under wgpu, the WebGPU engine of
 * Firefox, where Chromium's tests run them under Dawn. Bundles
 * scripts/wgpu/harness.ts with esbuild, runs it in Deno (the `deno` npm
 * package), whose WebGPU is wgpu, on Mesa's lavapipe Vulkan driver where
 * there is no GPU (Debian: mesa-vulkan-drivers), and checks what it reports:
 * every fused check within 1e-4 of TensorFlow.js's stock kernels and the same
 * to the bit on each of its runs, once on a device with the limits
 * TensorFlow.js asks of the adapter and once with WebGPU's defaults, the fused
 * BatchNorm pass in 7 dispatches, and every WGSL module of ours compiled by
 * naga with no error or warning (TensorFlow.js's own are listed, and fail
 * the run only with an error). `--json PATH` writes the whole report.
 *
 * Without a WebGPU adapter there (no Vulkan driver), outside CI the command
 * says so and ends as skipped; under CI (scripts/ci.ts) it fails.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build, type Plugin } from 'esbuild';
import { isCI } from './ci';
import { failures, LIMIT_NAMES, UNORDERED_PROGRAMS, unordered, type LimitsMode, type MatMulMode, type WgpuResult } from './wgpu/report';

const NO_ADAPTER = 'gave no adapter';

/**
 * Vite's `?url` imports (the WASM binaries' addresses in src/worker/backend.ts)
 * become plain strings: the harness never starts the WASM backend.
 */
const viteUrls: Plugin = {
  name: 'vite-url',
  setup(b) {
    b.onResolve({ filter: /\?url$/ }, (args) => ({ path: args.path, namespace: 'vite-url' }));
    b.onLoad({ filter: /.*/, namespace: 'vite-url' }, (args) => ({
      contents: `export default ${JSON.stringify(args.path)};`,
      loader: 'js',
    }));
  },
};

/**
 * Two runs: as users get it (the limits TensorFlow.js asks of the adapter, its
 * own choice of matmul), and on WebGPU's default limits (what every adapter
 * offers) with every matmul held to the packed program, so that every check,
 * ours and the reference, must repeat to the bit.
 */
const RUNS: readonly { limits: LimitsMode; matmul: MatMulMode }[] = [
  { limits: 'adapter', matmul: 'tfjs' },
  { limits: 'default', matmul: 'packed' },
];

/** One Deno run of the bundled harness: its report, or why there is none. */
function runHarness(bundle: string, run: { limits: LimitsMode; matmul: MatMulMode }, dir: string): WgpuResult | string {
  const args = [
    '--no-install',
    'deno',
    'run',
    '--quiet',
    '--unstable-webgpu',
    '--allow-read',
    '--allow-env',
    bundle,
    run.limits,
    run.matmul,
  ];
  const deno = spawnSync('npx', args, {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    // wgpu's Vulkan loader warns without it; any writable folder will do.
    env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? dir },
  });
  if (deno.error) throw deno.error;
  const lines = `${deno.stdout}`.split('\n');
  const failed = lines.find((l) => l.startsWith('WGPU_FAILED '));
  const line = lines.find((l) => l.startsWith('WGPU_RESULT '));
  if (line && !failed) return JSON.parse(line.slice('WGPU_RESULT '.length)) as WgpuResult;
  const why = failed ? (JSON.parse(failed.slice('WGPU_FAILED '.length)) as { message: string }).message : `Deno exited ${deno.status}`;
  return `${why}\n${deno.stderr.slice(-4000)}`;
}

/** Prints one run's figures and what it breaks; returns how many problems. */
function report(result: WgpuResult): number {
  const a = result.adapter;
  const limits = LIMIT_NAMES.map((name) => `${name} ${result.deviceLimits[name]}`).join(', ');
  console.log(
    `wgpu on ${[a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' / ') || '(no adapter info)'}, ${result.limits} limits (${limits}), ${result.matmul === 'packed' ? 'every matmul packed' : "TensorFlow.js's own matmuls"}`,
  );
  for (const [name, errors] of Object.entries(result.errors)) console.log(`  ${name}: ${errors.map((e) => e.toExponential(2)).join(' ')}`);
  const ours = result.modules.filter((m) => m.ours);
  console.log(
    `  ${result.modules.length} WGSL modules compiled by naga (${ours.length} ours: ${[...new Set(ours.map((m) => m.label))].join(', ')}); fused BatchNorm + ELU in ${result.bnActDispatches} dispatches`,
  );
  for (const m of result.modules.filter((m) => !m.ours && m.warnings.length))
    console.log(`  TensorFlow.js's ${m.label}: ${m.warnings.length} naga warning(s), e.g. ${m.warnings[0]}`);
  for (const [name, digests] of Object.entries(result.digests)) {
    if (new Set(digests).size > 1 && unordered(result, name))
      console.log(
        `  ${name}: different bits on different runs, as it runs ${UNORDERED_PROGRAMS.join(', ')} (atomic float adds, in no fixed order)`,
      );
  }
  const broken = failures(result);
  for (const f of broken) console.error(`FAIL (${result.limits} limits) ${f}`);
  return broken.length;
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { json: { type: 'string' } }, strict: true });
  const dir = mkdtempSync(join(tmpdir(), 'cifar-wgpu-'));
  try {
    const bundle = join(dir, 'harness.js');
    await build({
      entryPoints: [resolve('scripts/wgpu/harness.ts')],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      outfile: bundle,
      logLevel: 'warning',
      plugins: [viteUrls],
      // Before TensorFlow.js loads: see the harness's header for why.
      banner: { js: 'delete globalThis.process; globalThis.WorkerGlobalScope ??= class {};' },
    });
    const reports: WgpuResult[] = [];
    let problems = 0;
    for (const run of RUNS) {
      const result = runHarness(bundle, run, dir);
      if (typeof result === 'string') {
        if (result.includes(NO_ADAPTER) && !isCI()) {
          console.log(`test:wgpu skipped: ${result}`);
          return 0;
        }
        console.error(`test:wgpu failed (${run.limits} limits): ${result}`);
        return 1;
      }
      reports.push(result);
      problems += report(result);
    }
    if (values.json) writeFileSync(values.json, `${JSON.stringify(reports, null, 2)}\n`);
    console.log(problems ? `test:wgpu failed: ${problems} problem(s)` : 'test:wgpu passed');
    return problems ? 1 : 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`test:wgpu failed: ${(error as Error).message}`);
    process.exit(1);
  },
);
