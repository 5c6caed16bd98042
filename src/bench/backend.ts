/**
 * Starts a TensorFlow.js backend in a benchmark worker. Like the app's
 * selectBackend (src/worker/backend.ts) but without its registration of our
 * kernels: the baseline must run on TensorFlow.js's stock kernels only, so
 * `ours` registers them here explicitly.
 */
import * as tf from '@tensorflow/tfjs';
import { registerTrainingKernels, restoreStock, unregisterTrainingKernels } from '../kernels';
// Also points the WASM backend at our bundled binaries, as in the app.
import { isSoftwareRenderer } from '../worker/backend';
import { currentThreadEnvironment, describeWasm, prepareWasmThreads, type WasmThreadPlan } from '../worker/wasmThreads';
import type { BenchBackend } from './protocol';

/**
 * Starts `name`; with `ours`, registers our training kernels, then puts the
 * ones named in `stockKernels` back to TensorFlow.js's own (for A/B runs).
 * `wasmThreads`: the WASM backend's thread count (default: as the app, one per
 * logical core where the page is cross-origin isolated).
 * Returns what runs (adapter, renderer or wasm flavour), whether it is a
 * software renderer, which kernels are ours, and wasm's thread count.
 */
export async function startBackend(
  name: BenchBackend,
  ours: boolean,
  stockKernels: string[] = [],
  wasmThreads?: number,
): Promise<{ adapter: string; software: boolean; registered: string[]; wasmThreads: number | null }> {
  const threads = name === 'wasm' ? prepareWasmThreads({ threads: wasmThreads ?? currentThreadEnvironment().hardwareConcurrency }) : null;
  if (!(await tf.setBackend(name))) throw new Error(`TensorFlow.js could not start the ${name} backend here`);
  await tf.ready();
  let registered = ours ? registerTrainingKernels(name).registered : [];
  for (const kernelName of stockKernels) {
    if (!registered.includes(kernelName) || !restoreStock(kernelName, name))
      throw new Error(`${kernelName} is not one of ours on ${name}, or has no stock kernel`);
    registered = registered.filter((k) => k !== kernelName);
  }
  const adapter = await describe(name, threads);
  return { adapter, software: isSoftwareRenderer(adapter), registered, wasmThreads: threads?.threads ?? null };
}

/**
 * Runs `f` on TensorFlow.js's own kernels, ours registered again after it
 * however it ends: the reference side of a check must not run our kernels
 * too, or it compares ours with ours. Everything `f` computes is read back
 * inside it, before ours return.
 */
export async function onStockKernels<T>(f: () => Promise<T>): Promise<T> {
  const name = tf.getBackend();
  unregisterTrainingKernels(name);
  try {
    return await f();
  } finally {
    registerTrainingKernels(name);
  }
}

async function describe(name: BenchBackend, threads: WasmThreadPlan | null): Promise<string> {
  if (name === 'wasm' && threads) return `wasm, ${describeWasm(threads)}`;
  if (name === 'cpu') return 'JavaScript';
  if (name === 'webgpu') {
    const adapter = await (navigator as Navigator & { gpu?: GPU }).gpu?.requestAdapter();
    const info = (adapter as (GPUAdapter & { info?: GPUAdapterInfo }) | null | undefined)?.info;
    return ['WebGPU', info?.vendor, info?.architecture].filter(Boolean).join(' / ');
  }
  const gl = new OffscreenCanvas(1, 1).getContext('webgl2');
  const debug = gl?.getExtension('WEBGL_debug_renderer_info');
  const renderer = gl ? String(gl.getParameter(debug ? debug.UNMASKED_RENDERER_WEBGL : gl.RENDERER)) : 'unknown';
  gl?.getExtension('WEBGL_lose_context')?.loseContext();
  return `WebGL / ${renderer}`;
}
