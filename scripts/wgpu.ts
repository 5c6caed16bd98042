/**
 * `npm run test:wgpu`: our WGSL kernels under wgpu, the WebGPU engine of
 * Firefox, where Chromium's tests run them under Dawn. Bundles
 * scripts/wgpu/harness.ts with esbuild, runs it in Deno (the `deno` npm
 * package), whose WebGPU is wgpu, on Mesa's lavapipe Vulkan driver where
 * there is no GPU (Debian: mesa-vulkan-drivers), and checks what it reports:
 * every fused check within 1e-4 of TensorFlow.js's stock kernels, the fused
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
import { failures, type WgpuResult } from './wgpu/report';

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
    const deno = spawnSync('npx', ['--no-install', 'deno', 'run', '--quiet', '--unstable-webgpu', '--allow-read', '--allow-env', bundle], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      // wgpu's Vulkan loader warns without it; any writable folder will do.
      env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? dir },
    });
    if (deno.error) throw deno.error;
    const lines = `${deno.stdout}`.split('\n');
    const failed = lines.find((l) => l.startsWith('WGPU_FAILED '));
    const line = lines.find((l) => l.startsWith('WGPU_RESULT '));
    if (failed || !line) {
      const why = failed ? (JSON.parse(failed.slice('WGPU_FAILED '.length)) as { message: string }).message : `Deno exited ${deno.status}`;
      if (why.includes(NO_ADAPTER) && !isCI()) {
        console.log(`test:wgpu skipped: ${why}`);
        return 0;
      }
      console.error(`test:wgpu failed: ${why}\n${deno.stderr.slice(-4000)}`);
      return 1;
    }
    const result = JSON.parse(line.slice('WGPU_RESULT '.length)) as WgpuResult;
    if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
    const a = result.adapter;
    console.log(`wgpu adapter: ${[a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' / ') || '(no info)'}`);
    for (const [name, error] of Object.entries(result.errors)) console.log(`  ${name}: ${error.toExponential(2)}`);
    const ours = result.modules.filter((m) => m.ours);
    console.log(
      `${result.modules.length} WGSL modules compiled by naga (${ours.length} ours: ${[...new Set(ours.map((m) => m.label))].join(', ')}); fused BatchNorm + ELU in ${result.bnActDispatches} dispatches`,
    );
    for (const m of result.modules.filter((m) => !m.ours && m.warnings.length))
      console.log(`  TensorFlow.js's ${m.label}: ${m.warnings.length} naga warning(s), e.g. ${m.warnings[0]}`);
    const broken = failures(result);
    for (const f of broken) console.error(`FAIL ${f}`);
    console.log(broken.length ? `test:wgpu failed: ${broken.length} problem(s)` : 'test:wgpu passed');
    return broken.length ? 1 : 0;
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
