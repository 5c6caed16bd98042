/**
 * Runs inside Deno (wgpu, Firefox's WebGPU engine), bundled by
 * scripts/wgpu.ts: our kernels' fused checks on tfjs-backend-webgpu, the same
 * FUSED_CHECKS the bench page runs in Chromium (e2e/bench.spec.ts), and every
 * WGSL module compiled meanwhile through naga, wgpu's shader compiler, with
 * its errors and warnings. Prints one line, `WGPU_RESULT <json>`.
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
import { bnActDispatches, FUSED_CHECKS } from '../../src/bench/fused-checks';
import { OUR_MODULES, type ModuleReport, type WgpuResult } from './report';

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

let control: Promise<string[]> | undefined;

async function main(): Promise<WgpuResult> {
  const gpu = navigator.gpu;
  const requestDevice = GPUAdapter.prototype.requestDevice;
  GPUAdapter.prototype.requestDevice = async function (this: GPUAdapter, descriptor?: GPUDeviceDescriptor) {
    const device = await requestDevice.call(this, descriptor);
    control ??= controlErrors(device);
    watchDevice(device);
    return device;
  };
  const adapter = await gpu.requestAdapter();
  if (!adapter) throw new Error('navigator.gpu.requestAdapter() gave no adapter: is a Vulkan driver installed (mesa-vulkan-drivers)?');
  // `info` is newer than the WebGPU types this project pins.
  const info = (adapter as GPUAdapter & { info: GPUAdapterInfo }).info;
  const count = installCounters();
  await startBackend('webgpu', true);
  const errors: Record<string, number> = {};
  for (const check of FUSED_CHECKS) if (check.backends.includes('webgpu')) errors[check.name] = await check.run();
  const dispatches = await bnActDispatches(() => count.snapshot().dispatches);
  return {
    adapter: { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description },
    errors,
    bnActDispatches: dispatches,
    modules: await Promise.all(pending),
    uncaptured,
    controlErrors: (await control) ?? [],
  };
}

main().then(
  (result) => {
    console.log(`WGPU_RESULT ${JSON.stringify(result)}`);
    tf.disposeVariables();
  },
  (error: unknown) => {
    console.log(`WGPU_FAILED ${JSON.stringify({ message: (error as Error).message, stack: (error as Error).stack })}`);
  },
);
