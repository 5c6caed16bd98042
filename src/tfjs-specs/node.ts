/**
 * The Node side of the spec runner, bundled by scripts/tfjs-specs.ts and run
 * once per backend and kernel set: `node node.cjs <backend> <stock|ours> <out.json> [file,…]`.
 * The run goes to out.json: tfjs and the specs write to stdout themselves.
 */
import { writeFileSync } from 'node:fs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { isSpecFile } from './coverage';
import { runTfjsSpecs, type KernelSet } from './run';

async function main(): Promise<void> {
  const [backend, kernels, out, only] = process.argv.slice(2);
  if (backend === undefined || (kernels !== 'stock' && kernels !== 'ours') || out === undefined) {
    throw new Error('usage: node.cjs <backend> <stock|ours> <out.json> [file,…]');
  }
  const files = only?.split(',').filter((f) => f !== '');
  const unknown = files?.filter((f) => !isSpecFile(f)) ?? [];
  if (unknown.length > 0) throw new Error(`not spec files of ours: ${unknown.join(', ')}`);
  // Bundled, the backend no longer finds its binaries beside its own script; the driver says where they are.
  const wasmDir = process.env.TFJS_WASM_DIR;
  if (wasmDir !== undefined) setWasmPaths(wasmDir.endsWith('/') ? wasmDir : `${wasmDir}/`);
  const run = await runTfjsSpecs(backend, kernels as KernelSet, files?.filter(isSpecFile));
  writeFileSync(out, JSON.stringify(run));
}

main().then(
  // Some backends leave handles open (the wasm backend's worker pool): the run is over, so is the process.
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(2);
  },
);
