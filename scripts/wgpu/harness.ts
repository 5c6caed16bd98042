/**
 * Runs inside Deno (wgpu, Firefox's WebGPU engine), bundled by
 * scripts/wgpu.ts: our kernels' fused checks on tfjs-backend-webgpu, the same
 * checks the bench page runs in Chromium (e2e/bench.spec.ts), REPEATS times
 * each with a digest of everything each run read back from the GPU, and every WGSL module compiled meanwhile through naga, wgpu's shader
 * compiler, with its errors and warnings. Its first argument, `default` or
 * `adapter`, says which limits the device gets: WebGPU's defaults, or what
 * TensorFlow.js asks of the adapter; its second, `tfjs` or `packed`, whether
 * TensorFlow.js picks its matmul programs itself or always the packed one
 * (no atomic adds: every result then must repeat to the bit). Prints one line, `WGPU_RESULT <json>`.
 *
 * Two things of Deno's make TensorFlow.js take it for Node.js, and the
 * bundle's banner (scripts/wgpu.ts) undoes them before tfjs loads: Deno has a
 * global `process` (tfjs would start its Node platform, which needs `util`),
 * and it has no `window` or `WorkerGlobalScope` (tfjs would start no
 * platform at all). Deno gives a worker's globals (fetch, performance,
 * TextEncoder), which is what tfjs's browser platform uses.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { startBackend } from '../../src/bench/backend';
import { installCounters } from '../../src/bench/counters';
import { bnActDispatches, fusedChecks } from '../../src/bench/fused-checks';
import {
  LIMIT_NAMES,
  OUR_MODULES,
  REPEATS,
  type LimitName,
  type LimitsMode,
  type MatMulMode,
  type ModuleReport,
  type WgpuResult,
} from './report';

/** A type error naga must report (an f32 assigned to an i32). */
const INVALID_WGSL = '@compute @workgroup_size(1) fn main() { var x : i32 = 1.5; }';

/** Compiles INVALID_WGSL inside an error scope, so its expected error is not counted as the device's. */
async function controlErrors(device: GPUDevice): Promise<string[]> {
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ code: INVALID_WGSL, label: 'control: invalid on purpose' });
  const info = await module.getCompilationInfo();
  const scoped = await device.popErrorScope();
  return [...info.messages.filter((m) => m.type === 'error').map((m) => m.message), ...(scoped ? [scoped.message] : [])];
}

const pending: Promise<ModuleReport>[] = [];
const uncaptured: string[] = [];

/** Every module the device compiles is kept, with what naga said about it. */
function watchDevice(device: GPUDevice): void {
  const create = device.createShaderModule.bind(device);
  device.createShaderModule = (descriptor: GPUShaderModuleDescriptor) => {
    const module = create(descriptor);
    const label = descriptor.label ?? '(no label)';
    pending.push(
      module.getCompilationInfo().then((info) => {
        const say = (type: GPUCompilationMessageType) =>
          info.messages.filter((m) => m.type === type).map((m) => `${m.lineNum}:${m.linePos} ${m.message}`);
        return {
          label,
          ours: (OUR_MODULES as readonly string[]).includes(label),
          errors: say('error'),
          warnings: [...say('warning'), ...say('info')],
        };
      }),
    );
    return module;
  };
  device.addEventListener('uncapturederror', (event) => uncaptured.push((event as GPUUncapturedErrorEvent).error.message));
}

/**
 * A digest of every buffer read back from the GPU (ours and the reference
 * side alike), so two runs of a check can be compared bit for bit, not just
 * by their largest error. FNV-1a over the 32-bit words of each readback;
 * readbacks are sorted first, as the order of concurrent reads may vary.
 */
const readbacks: number[] = [];
function watchReadbacks(): void {
  const reading = new WeakSet<GPUBuffer>();
  const { mapAsync, getMappedRange, unmap } = GPUBuffer.prototype;
  GPUBuffer.prototype.mapAsync = function (this: GPUBuffer, mode: GPUMapModeFlags, offset?: number, size?: number) {
    if (mode & GPUMapMode.READ) reading.add(this);
    return mapAsync.call(this, mode, offset, size);
  };
  GPUBuffer.prototype.getMappedRange = function (this: GPUBuffer, offset?: number, size?: number) {
    const range = getMappedRange.call(this, offset, size);
    if (reading.has(this)) readbacks.push(fnv1a(new Uint32Array(range, 0, range.byteLength >> 2)));
    return range;
  };
  GPUBuffer.prototype.unmap = function (this: GPUBuffer) {
    reading.delete(this);
    unmap.call(this);
  };
}

function fnv1a(words: ArrayLike<number>, hash = 0x811c9dc5): number {
  let h = hash;
  for (let i = 0; i < words.length; i++) h = Math.imul(h ^ (words[i] as number), 0x01000193) >>> 0;
  return h;
}

/** The programs (modules' labels) each pipeline runs, and those set on a compute pass since the last check began. */
const pipelineLabels = new WeakMap<GPUComputePipeline, string>();
const dispatched = new Set<string>();
function watchPipelines(device: GPUDevice): void {
  const create = device.createComputePipeline.bind(device);
  device.createComputePipeline = (descriptor: GPUComputePipelineDescriptor) => {
    const pipeline = create(descriptor);
    pipelineLabels.set(pipeline, descriptor.compute.module.label);
    return pipeline;
  };
  const createAsync = device.createComputePipelineAsync.bind(device);
  device.createComputePipelineAsync = async (descriptor: GPUComputePipelineDescriptor) => {
    const pipeline = await createAsync(descriptor);
    pipelineLabels.set(pipeline, descriptor.compute.module.label);
    return pipeline;
  };
}
function watchPasses(): void {
  const { setPipeline } = GPUComputePassEncoder.prototype;
  GPUComputePassEncoder.prototype.setPipeline = function (this: GPUComputePassEncoder, pipeline: GPUComputePipeline) {
    dispatched.add(pipelineLabels.get(pipeline) ?? '(unknown)');
    setPipeline.call(this, pipeline);
  };
}

/** Runs one check, with the digest of what it read back and the programs it ran. */
async function digested(run: () => Promise<number>): Promise<{ error: number; digest: string; programs: string[] }> {
  readbacks.length = 0;
  dispatched.clear();
  const error = await run();
  const sorted = [...readbacks].sort((a, b) => a - b);
  return { error, digest: `${sorted.length}:${fnv1a(sorted).toString(16)}`, programs: [...dispatched] };
}

let control: Promise<string[]> | undefined;
let deviceLimits: Record<LimitName, number> | undefined;

async function main(limits: LimitsMode, matmul: MatMulMode): Promise<WgpuResult> {
  const gpu = navigator.gpu;
  const requestDevice = GPUAdapter.prototype.requestDevice;
  GPUAdapter.prototype.requestDevice = async function (this: GPUAdapter, descriptor?: GPUDeviceDescriptor) {
    // TensorFlow.js asks for some of the adapter's largest limits; 'default' drops that request.
    const asked = limits === 'default' ? { ...descriptor, requiredLimits: {} } : descriptor;
    const device = await requestDevice.call(this, asked);
    deviceLimits = Object.fromEntries(LIMIT_NAMES.map((name) => [name, device.limits[name]])) as Record<LimitName, number>;
    control ??= controlErrors(device);
    watchDevice(device);
    watchPipelines(device);
    return device;
  };
  const adapter = await gpu.requestAdapter();
  if (!adapter) throw new Error('navigator.gpu.requestAdapter() gave no adapter: is a Vulkan driver installed (mesa-vulkan-drivers)?');
  // `info` is newer than the WebGPU types this project pins.
  const info = (adapter as GPUAdapter & { info: GPUAdapterInfo }).info;
  const count = installCounters();
  await startBackend('webgpu', true);
  // MatMulPackedProgram: tfjs-backend-webgpu's MatMulProgramType 3 (webgpu_util.ts); every matmul then adds in a fixed order.
  if (matmul === 'packed') tf.env().set('WEBGPU_MATMUL_PROGRAM_TYPE', 3);
  watchReadbacks();
  watchPasses();
  const errors: Record<string, number[]> = {};
  const digests: Record<string, string[]> = {};
  const programs: Record<string, string[]> = {};
  for (let repeat = 0; repeat < REPEATS; repeat++) {
    for (const check of fusedChecks()) {
      if (!check.backends.includes('webgpu')) continue;
      const run = await digested(check.run);
      (errors[check.name] ??= []).push(run.error);
      (digests[check.name] ??= []).push(run.digest);
      programs[check.name] = [...new Set([...(programs[check.name] ?? []), ...run.programs])].sort();
    }
  }
  const dispatches = await bnActDispatches(() => count.snapshot().dispatches);
  if (!deviceLimits) throw new Error('TensorFlow.js started without asking for a device');
  return {
    limits,
    matmul,
    deviceLimits,
    adapter: { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description },
    errors,
    digests,
    programs,
    bnActDispatches: dispatches,
    modules: await Promise.all(pending),
    uncaptured,
    controlErrors: (await control) ?? [],
  };
}

const [limitsArg, matmulArg] = (globalThis as { Deno?: { args: string[] } }).Deno?.args ?? [];
main(limitsArg === 'default' ? 'default' : 'adapter', matmulArg === 'packed' ? 'packed' : 'tfjs').then(
  (result) => {
    console.log(`WGPU_RESULT ${JSON.stringify(result)}`);
    tf.disposeVariables();
  },
  (error: unknown) => {
    console.log(`WGPU_FAILED ${JSON.stringify({ message: (error as Error).message, stack: (error as Error).stack })}`);
  },
);
