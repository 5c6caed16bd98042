/**
 * Picks the TensorFlow.js backend, in one place: WebGPU, then WebGL, then
 * WASM, then CPU, and records why each faster one was passed over.
 *
 * A GPU API backed by a software renderer (SwiftShader, llvmpipe) is a CPU in
 * disguise, many times slower than WASM on the same cores (README, "Training in the tab"),
 * so `auto` skips software GPUs; `?backend=webgpu` still forces one.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { BackendError } from '../errors';
import { lostReason } from './deviceLoss';
import { registerTrainingKernels } from '../kernels';
import type { BackendInfo, BackendName, BackendRequest } from './protocol';
import { currentThreadEnvironment, describeWasm, prepareWasmThreads, type WasmRequest, type WasmThreadPlan } from './wasmThreads';
import type { Isolation } from '../isolation/isolate';

const ORDER: BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

// The .wasm binaries are bundled and served from our own origin, never a CDN.
setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimd,
});

interface Probe {
  /** Null when usable; otherwise the reason shown to the user. */
  problem: string | null;
  /** Software renderers are usable but passed over by `auto`. */
  software: boolean;
  adapter: string;
}

async function probeWebGpu(): Promise<Probe> {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) return { problem: 'WebGPU unavailable: navigator.gpu is missing in this browser', software: false, adapter: '' };
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (error) {
    return { problem: `WebGPU unavailable: requesting an adapter failed (${(error as Error).message})`, software: false, adapter: '' };
  }
  if (!adapter)
    return { problem: 'WebGPU unavailable: the browser offers no adapter (GPU blocked or unsupported)', software: false, adapter: '' };
  const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo & { isFallbackAdapter?: boolean } }).info;
  const name = [info?.vendor, info?.architecture].filter(Boolean).join(' / ') || 'unknown adapter';
  const software =
    info?.architecture === 'swiftshader' ||
    info?.isFallbackAdapter === true ||
    (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  return { problem: null, software, adapter: name };
}

/** Whether a WebGL renderer or adapter string names a software renderer (a CPU in disguise; see the top of this file). */
export function isSoftwareRenderer(name: string): boolean {
  return /swiftshader|llvmpipe|software/i.test(name);
}

function probeWebGl(): Probe {
  if (typeof OffscreenCanvas === 'undefined')
    return { problem: 'WebGL unavailable: OffscreenCanvas is missing', software: false, adapter: '' };
  const gl = new OffscreenCanvas(1, 1).getContext('webgl2');
  if (!gl) return { problem: 'WebGL unavailable: no WebGL 2 context could be created', software: false, adapter: '' };
  const debug = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = String(gl.getParameter(debug ? debug.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return { problem: null, software: isSoftwareRenderer(renderer), adapter: renderer };
}

async function probe(name: BackendName): Promise<Probe> {
  switch (name) {
    case 'webgpu':
      return probeWebGpu();
    case 'webgl':
      return probeWebGl();
    case 'wasm':
      return {
        problem: typeof WebAssembly === 'undefined' ? 'WASM unavailable: WebAssembly is missing' : null,
        software: false,
        adapter: '',
      };
    case 'cpu':
      return { problem: null, software: false, adapter: 'JavaScript' };
  }
}

/** How the WASM backend was started in this worker (it starts once); null until then. */
let wasmThreads: WasmThreadPlan | null = null;

/** The WASM plan this worker started with; null when another backend runs. */
export function activeWasmPlan(): WasmThreadPlan | null {
  return tf.getBackend() === 'wasm' ? wasmThreads : null;
}

/** A replica worker's backend (src/worker/replica.worker.ts): WASM with `threads` threads and our kernels, nothing probed. */
export async function startReplicaBackend(threads: number): Promise<void> {
  await activate('wasm', { threads });
}

/** What actually runs, read after the backend started: tfjs probes SIMD and thread support itself. */
function describeActive(name: BackendName, probed: string): string {
  if (name !== 'wasm' || wasmThreads === null) return probed;
  return describeWasm(wasmThreads);
}

const SOFTWARE_REASON: Record<BackendName, string> = {
  webgpu: 'WebGPU adapter is a software renderer',
  webgl: 'WebGL renderer is a software renderer',
  wasm: '',
  cpu: '',
};

/** The page's `?softwareGpu=1` and `?workers=`, and how it came to be cross-origin isolated (or why not). */
export interface BackendOptions {
  allowSoftwareGpu?: boolean;
  wasmWorkers?: number | null;
  isolation?: Isolation | null;
}

/** Initialises the best available backend (or the forced one) and reports what was chosen and why. */
export async function selectBackend(request: BackendRequest, opts: BackendOptions = {}): Promise<BackendInfo> {
  const wasm: WasmRequest = opts.wasmWorkers ? { workers: opts.wasmWorkers } : {};
  if (request !== 'auto') {
    const found = await probe(request);
    if (found.problem) throw new BackendError(`The requested backend "${request}" cannot run here. ${found.problem}.`);
    await activate(request, wasm, opts.isolation);
    return { name: request, adapter: describeActive(request, found.adapter), fallbackReasons: [], forced: true, software: found.software };
  }
  const reasons: string[] = [];
  for (const name of ORDER) {
    const found = await probe(name);
    if (found.problem) {
      reasons.push(found.problem);
      continue;
    }
    if (found.software && !opts.allowSoftwareGpu) {
      reasons.push(`${SOFTWARE_REASON[name]} (${found.adapter}), slower than WASM`);
      continue;
    }
    try {
      await activate(name, wasm, opts.isolation);
    } catch (error) {
      reasons.push(`${name} failed to start: ${(error as Error).message}`);
      continue;
    }
    return { name, adapter: describeActive(name, found.adapter), fallbackReasons: reasons, forced: false, software: found.software };
  }
  throw new BackendError(`No TensorFlow.js backend could start. ${reasons.join('; ')}.`);
}

/**
 * The device WebGPU trains on, while it is the active backend. Once it is
 * lost (driver crash or reset, GPU process restart, or `device.destroy()`)
 * every op fails, so a run in progress must start again from its last
 * checkpoint on a fresh device or another backend.
 */
let gpuDevice: GPUDevice | null = null;

/** Why the WebGPU device was lost, or null while it works or another backend runs; asked of the device (deviceLoss.ts). */
export async function gpuDeviceLost(): Promise<string | null> {
  return gpuDevice ? lostReason(gpuDevice) : null;
}

// The factory is kept so that a lost WebGPU backend can be registered again:
// tf.removeBackend forgets it.
const webgpuFactory = tf.findBackendFactory('webgpu');

/**
 * After a lost device (`lost`: why, from gpuDeviceLost): drop the dead
 * backend, then take WebGPU again if a device can be had, else the best
 * other backend as `auto` would choose it.
 */
export async function recoverBackend(lost: string, opts: BackendOptions = {}): Promise<BackendInfo> {
  gpuDevice = null;
  tf.removeBackend('webgpu');
  if (webgpuFactory) tf.registerBackend('webgpu', webgpuFactory);
  const found = await probeWebGpu();
  if (!found.problem) {
    try {
      await activate('webgpu');
      return {
        name: 'webgpu',
        adapter: found.adapter,
        fallbackReasons: [`The GPU device was lost (${lost}); a new WebGPU device was started`],
        forced: false,
        software: found.software,
      };
    } catch (error) {
      found.problem = `WebGPU could not start again: ${(error as Error).message}`;
    }
  }
  const next = await selectBackend('auto', opts);
  return { ...next, fallbackReasons: [`The GPU device was lost (${lost})`, found.problem ?? '', ...next.fallbackReasons].filter(Boolean) };
}

async function activate(name: BackendName, wasm: WasmRequest = {}, isolation: Isolation | null = null): Promise<void> {
  // Every logical core busy, with threads and workers, where the page is cross-origin isolated (see wasmThreads.ts).
  if (name === 'wasm') wasmThreads ??= prepareWasmThreads(wasm, currentThreadEnvironment(isolation));
  const ok = await tf.setBackend(name);
  if (!ok) throw new BackendError(`TensorFlow.js could not initialise the ${name} backend.`);
  await tf.ready();
  registerTrainingKernels(name);
  gpuDevice = name === 'webgpu' ? ((tf.backend() as unknown as { device?: GPUDevice }).device ?? null) : null;
}
