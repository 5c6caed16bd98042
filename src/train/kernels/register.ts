// Installs our training kernels into tfjs's global kernel registry.
//
// Which formulation runs for which shape and backend was decided by timing the
// candidates; the figures and the commands that produced them are in
// docs/benchmarks.md ("Kernel formulations per backend"). In short:
// - wasm weight gradient: the stock backend has none; im2col while the patch
//   matrix is thin (Cin·kh·kw ≤ 72 rows), the XNNPACK forward conv past that.
// - wasm forward convolution: our relaxed-SIMD kernel (fma-conv.ts) where a
//   worker has one thread; the input gradient and the 'conv' weight gradient
//   below are forward convolutions, so they run on it too.
// - wasm input gradient: as a forward convolution wherever the shape allows
//   (4–11× faster than the stock loop). cpu keeps its stock input gradient.
// - wasm MaxPoolGrad, Tile, Sum/Mean, FusedBatchNorm, Transpose, Slice, Reverse: the
//   stock kernels are single-threaded JS-style loops (MaxPoolGrad is also wrong
//   on all-negative windows); ours use XNNPACK or threaded heap copies.
// - webgpu/webgl weight gradient: the stock kernels run one thread per weight
//   over B·H·W products; ours hand the work to the tiled matmul (3×3) or the
//   forward-conv program (5×5). On webgpu the 3×3 patch matrix comes from one
//   kernel of ours ('patches': 2 dispatches where the composed ones made 14–22;
//   docs/benchmarks.md). Their input gradient stays stock: as a forward
//   conv it lost at every WebGPU shape and at half the WebGL ones.
// The GPU rules were timed on SwiftShader (a CPU), not on a real GPU: on a
// hardware adapter the app times the candidates per shape on the device itself
// and those choices override these rules (plan.ts, tune.ts, tune-device.ts).
import { getBackend, getKernel, registerKernel, unregisterKernel } from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs';
import { makeConv2DBackpropFilter, type FilterGradMethod, type FilterGradRule } from './conv2d-backprop-filter';
import { makeBatchNorm } from './batch-norm';
import { BATCH_INPUT, batchInputKernels } from './batch-input';
import { BN_ACT_KERNELS, bnActKernel } from './bn-act';
import { CROSS_ENTROPY, CROSS_ENTROPY_GRAD, crossEntropyKernels } from './cross-entropy';
import { DROPOUT, dropoutKernels } from './dropout';
import { PATCHES, patchesKernels } from './patches';
import { makeChannelReduce } from './channel-reduce';
import { makeConv2DBackpropInput, type InputGradRule } from './conv2d-backprop-input';
import { makeForwardConv, webgpuForwardConvRule } from './conv2d-forward';
import { FmaConv, makeFmaConv, wasmThreads } from './fma-conv';
import { maxPoolGradJs } from './max-pool-grad';
import { plannedFilterGradRule, plannedForwardRule } from './plan';
import type { StaticRules } from './tune-device';
import { makeReverse } from './reverse';
import { makeSlice } from './slice';
import { makeTile } from './tile';
import { makeTranspose } from './transpose';

const FILTER_GRAD = 'Conv2DBackpropFilter';
const INPUT_GRAD = 'Conv2DBackpropInput';
const MAX_POOL_GRAD = 'MaxPoolGrad';

function prefer(order: FilterGradMethod[], possible: FilterGradMethod[]): FilterGradMethod {
  const m = order.find((o) => possible.includes(o));
  if (m === undefined) throw new Error(`no Conv2DBackpropFilter implementation among ${possible.join(', ')}`);
  return m;
}

export const wasmFilterGradRule: FilterGradRule = (info, possible) =>
  info.inChannels * info.filterHeight * info.filterWidth <= 72
    ? prefer(['im2col', 'conv'], possible)
    : prefer(['conv', 'im2col'], possible);

export const cpuFilterGradRule: FilterGradRule = (_info, possible) => prefer(['conv', 'stock'], possible);

export const webgpuFilterGradRule: FilterGradRule = (info, possible) => {
  if (info.filterHeight * info.filterWidth > 9) return prefer(['conv', 'stock'], possible);
  if (possible.includes('patches')) return 'patches';
  if (info.inChannels >= 32 && info.outChannels <= info.inChannels) return prefer(['taps', 'im2colNhwc', 'stock'], possible);
  return info.inChannels >= 16 ? prefer(['im2colNhwc', 'im2col', 'stock'], possible) : prefer(['im2col', 'stock'], possible);
};

export const webglFilterGradRule: FilterGradRule = (info, possible) =>
  info.filterHeight * info.filterWidth > 9 || info.inChannels < 16
    ? prefer(['conv', 'stock'], possible)
    : prefer(['im2col', 'stock'], possible);

export const wasmInputGradRule: InputGradRule = () => 'conv';

type Installer = {
  kernelName: string;
  needsStock: boolean;
  make: (backendName: string, stock: KernelConfig | undefined) => KernelFunc;
  /** Whether this engine can run it at all; installed only then. Defaults to yes. */
  available?: () => boolean;
};

const filterGrad = (rule: FilterGradRule): Installer => ({
  kernelName: FILTER_GRAD,
  needsStock: false,
  make: (backendName, stock) => makeConv2DBackpropFilter(backendName, rule, stock?.kernelFunc),
});
const inputGrad = (rule: InputGradRule): Installer => ({
  kernelName: INPUT_GRAD,
  needsStock: true,
  make: (backendName, stock) => {
    if (stock === undefined) throw new Error(`no stock ${INPUT_GRAD} on '${backendName}' to fall back on`);
    return makeConv2DBackpropInput(backendName, rule, stock.kernelFunc);
  },
});
// The forward convolution through the backend's input-gradient kernel (see conv2d-forward.ts).
const forwardConv = (kernelName: 'Conv2D' | 'FusedConv2D'): Installer => ({
  kernelName,
  needsStock: true,
  make: (backendName, stock) => {
    if (stock === undefined) throw new Error(`no stock ${kernelName} on '${backendName}' to fall back on`);
    return makeForwardConv(backendName, plannedForwardRule(backendName, webgpuForwardConvRule), stock.kernelFunc);
  },
});

// Replaces wasm's MaxPoolGrad, which is wrong for windows of non-positive values (see max-pool-grad.ts).
const maxPoolGrad: Installer = { kernelName: MAX_POOL_GRAD, needsStock: false, make: () => maxPoolGradJs };

// Replaces wasm's Tile, ~100× slower than block copies on BatchNorm's gradient (see tile.ts).
const tile: Installer = { kernelName: 'Tile', needsStock: false, make: (_backendName, stock) => makeTile(stock?.kernelFunc) };

/** An installer for a kernel that keeps the stock one for the calls it does not take over. */
const overStock = (kernelName: string, make: (backendName: string, stock: KernelFunc) => KernelFunc): Installer => ({
  kernelName,
  needsStock: true,
  make: (backendName, stock) => {
    if (stock === undefined) throw new Error(`no stock ${kernelName} on '${backendName}' to fall back on`);
    return make(backendName, stock.kernelFunc);
  },
});

// Forward convolutions on our relaxed-SIMD kernel, and through them wasm's input and weight gradients (see
// fma-conv.ts): 1.70–2.04× XNNPACK's products on one thread here (docs/benchmarks.md, `npm run bench -- --gemm`), so
// only where a worker has one thread; XNNPACK's threads elsewhere. The page names the kernel, not that ratio: it
// was measured on one machine, not on the user's.
const fmaConv = (kernelName: 'Conv2D' | 'FusedConv2D'): Installer => ({
  ...overStock(kernelName, (_backendName, stock) => makeFmaConv(stock)),
  available: () => FmaConv.compiles(),
});

/** Which kernels run wasm's convolutions in this worker now, in words for the page's model details. */
export function wasmConvolutionsInWords(backend: unknown): string {
  if (!FmaConv.compiles()) return "convolutions on XNNPACK's kernels (this browser's WebAssembly has no relaxed SIMD)";
  const threads = wasmThreads(backend);
  if (threads === 1) return "convolutions on ours, with relaxed SIMD's fused multiply-add (one thread per worker)";
  return `convolutions on XNNPACK's kernels${threads === null ? '' : ` and their ${threads} threads`} (ours runs where a worker has one)`;
}

// Per-channel reductions and BatchNorm on XNNPACK's threaded kernels instead of single-threaded loops (see channel-reduce.ts, batch-norm.ts).
const channelSum = overStock('Sum', (backendName, stock) => makeChannelReduce('Sum', backendName, stock));
const channelMean = overStock('Mean', (backendName, stock) => makeChannelReduce('Mean', backendName, stock));
const batchNorm = overStock('FusedBatchNorm', makeBatchNorm);
// Tiled Transpose over the wasm heap instead of tfjs's element-by-element one (see transpose.ts).
const transpose = overStock('Transpose', (_backendName, stock) => makeTranspose(stock));
// Slices by rows over the wasm heap instead of tfjs's element-by-element loop (see slice.ts).
const slice = overStock('Slice', (_backendName, stock) => makeSlice(stock));
// Reverses in runs over the wasm heap instead of tfjs's element-by-element loop (see reverse.ts).
const reverse = overStock('Reverse', (_backendName, stock) => makeReverse(stock));

// BatchNorm + activation fused, forward and backward, under kernel names of our own (see bn-act.ts):
// WGSL on webgpu, where dispatches count; the cpu ones are the unit tests' reference.
const bnAct: Installer[] = BN_ACT_KERNELS.map((kernelName) => ({
  kernelName,
  needsStock: false,
  make: (backendName) => {
    const f = bnActKernel(kernelName, backendName);
    if (f === undefined) throw new Error(`no ${kernelName} for '${backendName}'`);
    return f;
  },
}));

// The step's own kernels on WebGPU, under names of our own: dropout with its mask made on the device,
// the batch's way in, cross-entropy and accuracy (dropout.ts, batch-input.ts, cross-entropy.ts).
const own = (kernelName: string, configs: (backendName: string) => KernelConfig[]): Installer => ({
  kernelName,
  needsStock: false,
  make: (backendName) => {
    const config = configs(backendName).find((c) => c.kernelName === kernelName);
    if (config === undefined) throw new Error(`no ${kernelName} for '${backendName}'`);
    return config.kernelFunc;
  },
});
const stepKernels: Installer[] = [
  own(DROPOUT, dropoutKernels),
  own(BATCH_INPUT, batchInputKernels),
  own(CROSS_ENTROPY, crossEntropyKernels),
  own(CROSS_ENTROPY_GRAD, crossEntropyKernels),
  own(PATCHES, patchesKernels),
];

const PLANS: Record<string, Installer[]> = {
  wasm: [
    fmaConv('Conv2D'),
    fmaConv('FusedConv2D'),
    filterGrad(wasmFilterGradRule),
    inputGrad(wasmInputGradRule),
    maxPoolGrad,
    tile,
    channelSum,
    channelMean,
    batchNorm,
    transpose,
    slice,
    reverse,
  ],
  cpu: [filterGrad(plannedFilterGradRule('cpu', cpuFilterGradRule)), ...bnAct],
  webgpu: [
    filterGrad(plannedFilterGradRule('webgpu', webgpuFilterGradRule)),
    forwardConv('Conv2D'),
    forwardConv('FusedConv2D'),
    ...bnAct,
    ...stepKernels,
  ],
  webgl: [
    filterGrad(plannedFilterGradRule('webgl', webglFilterGradRule)),
    own(DROPOUT, dropoutKernels),
    own(CROSS_ENTROPY, crossEntropyKernels),
    own(CROSS_ENTROPY_GRAD, crossEntropyKernels),
  ],
};

/** The kernel names `registerTrainingKernels(backendName)` may register, whether or not this engine can run them all. */
export function plannedKernels(backendName: string): string[] {
  return (PLANS[backendName] ?? []).map((i) => i.kernelName);
}

/**
 * The static rules that timing on the device may override, per backend (tune-device.ts).
 * WASM has none to tune: its rules were measured on CPUs like the ones it runs on.
 * cpu is here for the unit tests, which tune on it.
 */
export const TUNABLE_RULES: Readonly<Record<string, StaticRules>> = Object.freeze({
  webgpu: { filterGrad: webgpuFilterGradRule, forward: webgpuForwardConvRule },
  webgl: { filterGrad: webglFilterGradRule },
  cpu: { filterGrad: cpuFilterGradRule },
});

/**
 * Whether the current backend is a GPU one (WebGPU, WebGL) with the kernel
 * `kernelName` registered. The step's fused paths (batch input, dropout,
 * cross-entropy) exist to save GPU dispatches and take their kernel only
 * there; the CPU backend registers some of these kernels as references for
 * the unit tests, and the step keeps tfjs's own ops on it.
 */
export function fusedOnGpu(kernelName: string): boolean {
  const backend = getBackend();
  return (backend === 'webgpu' || backend === 'webgl') && lookup(kernelName, backend) !== undefined;
}

// Kept on globalThis under a registered symbol so that two copies of this
// module (e.g. two bundles in one realm) still see each other's registrations
// and never wrap our own kernel as if it were the stock one.
type Installed = Map<string, { ours: KernelConfig; stock: KernelConfig | undefined }>;
const STATE_KEY = Symbol.for('cifar10-in-a-tab.trainingKernels');
function installed(): Installed {
  const g = globalThis as unknown as Record<symbol, Installed | undefined>;
  return (g[STATE_KEY] ??= new Map());
}
const key = (kernelName: string, backendName: string) => `${backendName}/${kernelName}`;

function lookup(kernelName: string, backendName: string): KernelConfig | undefined {
  return getKernel(kernelName, backendName) as KernelConfig | undefined;
}

function install(kernelName: string, backendName: string, make: (stock: KernelConfig | undefined) => KernelFunc): void {
  const k = key(kernelName, backendName);
  const current = lookup(kernelName, backendName);
  const prior = installed().get(k);
  if (prior !== undefined && current === prior.ours) return;
  // Anything else registered now is the backend's own kernel (or a newer
  // registration by someone else): that becomes the fallback we delegate to.
  const stock = current;
  if (stock !== undefined) unregisterKernel(kernelName, backendName);
  const ours: KernelConfig = {
    kernelName,
    backendName,
    kernelFunc: make(stock),
    // The stock kernel's setup (wasm binds its C function here) must still run
    // when the backend initialises after this registration.
    ...(stock?.setupFunc !== undefined ? { setupFunc: stock.setupFunc } : {}),
    ...(stock?.disposeFunc !== undefined ? { disposeFunc: stock.disposeFunc } : {}),
  };
  registerKernel(ours);
  installed().set(k, { ours, stock });
}

/**
 * Registers our training kernels for `backendName` ('wasm', 'cpu', 'webgpu',
 * 'webgl'; others get nothing). Call it after importing the backend's package and
 * before training; calling it again is a no-op. Returns the kernel names that
 * are ours on that backend afterwards.
 *  - wasm: Conv2DBackpropFilter (missing in tfjs-backend-wasm 4.22), a faster
 *    Conv2DBackpropInput for stride 1 (stock one otherwise), and a correct
 *    MaxPoolGrad (the stock one is wrong for all-negative windows), and a
 *    Tile ~100× faster than the stock one (BatchNorm's gradient uses it);
 *    per-channel Sum and Mean, FusedBatchNorm, Transpose, Slice and Reverse
 *    faster than the stock ones (the stock kernels keep the calls ours do
 *    not cover).
 *  - cpu: a faster Conv2DBackpropFilter (stock one kept for NCHW), and the
 *    fused BatchNorm + activation kernels (bn-act.ts) as a reference.
 *  - webgpu: a faster Conv2DBackpropFilter (formulation per shape), a
 *    faster forward Conv2D / FusedConv2D for 3×3 filters on ≥ 16 channels,
 *    the fused BatchNorm + activation kernels (bn-act.ts), and the step's
 *    dropout, batch input and cross-entropy kernels (a WebGPU step that
 *    uploads nothing: see ../step.ts).
 *  - webgl: a faster Conv2DBackpropFilter (formulation per shape), and
 *    the step's dropout and cross-entropy kernels (one draw each where tfjs
 *    makes several and uploads the dropout mask).
 */
export function registerTrainingKernels(backendName: string): { registered: string[] } {
  const plan = PLANS[backendName];
  if (plan === undefined) return { registered: [] };
  if (lookup('Conv2D', backendName) === undefined) {
    throw new Error(`registerTrainingKernels('${backendName}'): the backend's kernels are not registered; import its package first`);
  }
  const registered: string[] = [];
  for (const { kernelName, needsStock, make, available } of plan) {
    if (available && !available()) continue;
    const ours = installed().has(key(kernelName, backendName));
    if (needsStock && !ours && lookup(kernelName, backendName) === undefined) continue;
    install(kernelName, backendName, (stock) => make(backendName, stock));
    registered.push(kernelName);
  }
  return { registered };
}

/** Puts back the backend's own kernels (or none, where it had none); for tests and A/B timing. */
export function unregisterTrainingKernels(backendName: string): void {
  for (const [k, { ours, stock }] of installed()) {
    if (ours.backendName !== backendName) continue;
    if (lookup(ours.kernelName, backendName) === ours) {
      unregisterKernel(ours.kernelName, backendName);
      if (stock !== undefined) registerKernel(stock);
    }
    installed().delete(k);
  }
}

/** The kernel that was registered before ours, if any. */
export function stockKernel(kernelName: string, backendName: string): KernelConfig | undefined {
  const entry = installed().get(key(kernelName, backendName));
  return entry !== undefined ? entry.stock : lookup(kernelName, backendName);
}
