// Every kernel of ours, on every backend, in one table: what implements it,
// how tfjs reaches it, when it is installed, and why it is ours. The
// installer (register.ts), the step's fused paths (`stepTakes`), the fused
// optimizer's choice (`fusedUpdateFor`), the page's model details and the
// bench all read this table; nothing else decides where a kernel of ours runs.
//
// How a row is switched on (`mode`):
//   replaces-stock    registered under tfjs's own kernel name in place of the
//                     backend's; the stock kernel stays behind it for the calls
//                     ours does not take (a shape, a thread count it declines).
//   own-name          registered under a name of ours that only our code calls;
//                     `use` says whether the training step calls it on this
//                     backend or it is there as the unit tests' reference.
//   optimizer-update  not a tfjs kernel: the fused optimizer's update
//                     (Adam, momentum SGD) on this backend.
// `evidence` names a heading of docs/benchmarks.md or README.md where the
// figures behind the choice are, with the command that measured them; a unit
// test checks that each heading exists.
import type { KernelFunc } from '@tensorflow/tfjs';
import { BN_ACT_KERNELS, bnActKernel } from './batchnorm/fused';
import { makeBatchNorm } from './batchnorm/wasm';
import { makeConv2DBackpropFilter, type FilterGradRule } from './conv/filter-grad';
import { FmaConv, makeFmaConv } from './conv/fma-wasm';
import { makeForwardConv, webgpuForwardConvRule } from './conv/forward';
import { makeConv2DBackpropInput } from './conv/input-grad';
import { PATCHES, patchesKernels } from './conv/patches-webgpu';
import { cpuFilterGradRule, wasmFilterGradRule, wasmInputGradRule, webglFilterGradRule, webgpuFilterGradRule } from './conv/rules';
import { DROPOUT, dropoutKernels } from './dropout/dropout';
import { BATCH_INPUT, batchInputKernels } from './input/webgpu';
import { CROSS_ENTROPY, CROSS_ENTROPY_GRAD, crossEntropyKernels } from './loss/cross-entropy';
import { makeReverse } from './memory/reverse';
import { makeSlice } from './memory/slice';
import { makeTile } from './memory/tile';
import { makeTranspose } from './memory/transpose';
import { cpuUpdate } from './optimizer/cpu';
import type { FusedUpdate } from './optimizer/update';
import { wasmUpdate } from './optimizer/wasm';
import { webglUpdate } from './optimizer/webgl';
import { webgpuUpdate } from './optimizer/webgpu';
import { maxPoolGradJs } from './pool/max-pool-grad';
import { makeChannelReduce } from './reduce/wasm';
import { plannedFilterGradRule, plannedForwardRule } from './tuning/plan';

export const KERNEL_BACKENDS = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;
export type KernelBackend = (typeof KERNEL_BACKENDS)[number];

/** The folders of src/kernels/ that hold kernels. */
export type KernelOp = 'conv' | 'batchnorm' | 'reduce' | 'pool' | 'memory' | 'dropout' | 'input' | 'loss' | 'optimizer';

export interface Evidence {
  doc: 'docs/benchmarks.md' | 'README.md';
  /** Text of one of the document's headings. */
  heading: string;
}

interface Common {
  op: KernelOp;
  backend: KernelBackend;
  /** When it is installed and when it takes a call, in words. */
  when: string;
  /** Why ours, in one line. */
  why: string;
  evidence: Evidence;
}

export interface ReplacesStock extends Common {
  mode: 'replaces-stock';
  kernel: string;
  /** Installed only where the backend has the stock kernel (ours hands it the calls it declines). */
  needsStock: boolean;
  /** Whether this engine can run it at all; checked at install. Absent: always. */
  available?: () => boolean;
  make: (backendName: KernelBackend, stock: KernelFunc | undefined) => KernelFunc;
}

export interface OwnName extends Common {
  mode: 'own-name';
  kernel: string;
  /** `training`: our training code calls it on this backend. `reference`: registered for the unit tests only. */
  use: 'training' | 'reference';
  make: (backendName: KernelBackend) => KernelFunc;
}

export interface OptimizerUpdate extends Common {
  mode: 'optimizer-update';
  kernel: 'optimizer update';
  update: FusedUpdate;
}

export type KernelEntry = ReplacesStock | OwnName | OptimizerUpdate;

const BENCH = 'docs/benchmarks.md';
const FORMULATIONS: Evidence = { doc: BENCH, heading: 'Kernel formulations per backend' };
const STEP_WORK: Evidence = { doc: 'README.md', heading: 'WebGPU work per training step' };
const GPU_FILTER_GRAD: Evidence = { doc: BENCH, heading: 'WebGPU and WebGL, weight gradient' };
const SINGLE_THREADED: Evidence = { doc: BENCH, heading: "WASM, tfjs's single-threaded loops replaced" };

const needStock = (kernel: string, backendName: string, stock: KernelFunc | undefined): KernelFunc => {
  if (stock === undefined) throw new Error(`no stock ${kernel} on '${backendName}' to fall back on`);
  return stock;
};

/** A kernel of ours under tfjs's name that hands the calls it declines to the stock one. */
function overStock(
  row: Omit<ReplacesStock, 'mode' | 'needsStock' | 'make'>,
  make: (backendName: KernelBackend, stock: KernelFunc) => KernelFunc,
): ReplacesStock {
  return { ...row, mode: 'replaces-stock', needsStock: true, make: (b, stock) => make(b, needStock(row.kernel, b, stock)) };
}

/** A kernel of ours under our own name, from the configs its file makes per backend. */
function ownKernel(
  row: Omit<OwnName, 'mode' | 'make'>,
  configs: (backendName: string) => { kernelName: string; kernelFunc: KernelFunc }[],
): OwnName {
  return {
    ...row,
    mode: 'own-name',
    make: (b) => {
      const config = configs(b).find((c) => c.kernelName === row.kernel);
      if (config === undefined) throw new Error(`no ${row.kernel} for '${b}'`);
      return config.kernelFunc;
    },
  };
}

const fmaConv = (kernel: 'Conv2D' | 'FusedConv2D'): ReplacesStock => ({
  ...overStock(
    {
      op: 'conv',
      backend: 'wasm',
      kernel,
      when: 'the engine compiles relaxed SIMD; takes stride-1 NHWC calls with an even input depth where the worker has one thread',
      why: "1.70–2.04× XNNPACK's products on one thread; XNNPACK's threads win where a worker has several",
      evidence: { doc: BENCH, heading: "WASM GEMM: relaxed SIMD's fused multiply-add" },
    },
    (_b, stock) => makeFmaConv(stock),
  ),
  available: () => FmaConv.compiles(),
});

const webgpuForward = (kernel: 'Conv2D' | 'FusedConv2D'): ReplacesStock =>
  overStock(
    {
      op: 'conv',
      backend: 'webgpu',
      kernel,
      when: "3×3 filters on ≥ 16 channels (or the device's tuned plan); the stock kernel otherwise",
      why: "as the backend's input-gradient program, which SwiftShader runs faster than the stock Conv2D",
      evidence: { doc: BENCH, heading: 'Forward convolution on WebGPU' },
    },
    (b, stock) => makeForwardConv(b, plannedForwardRule(b, webgpuForwardConvRule), stock),
  );

/** The weight gradient on `backend`, by `rule` per shape; on the GPUs a plan timed on the device overrides it (tuning/). */
const filterGrad = (backend: KernelBackend, rule: FilterGradRule, why: string, evidence: Evidence = FORMULATIONS): ReplacesStock => {
  const planned = backend === 'wasm' ? rule : plannedFilterGradRule(backend, rule);
  return {
    op: 'conv',
    backend,
    mode: 'replaces-stock',
    kernel: 'Conv2DBackpropFilter',
    needsStock: false,
    when: 'always; the formulation per shape comes from conv/rules.ts or the tuned plan',
    why,
    evidence,
    make: (b, stock) => makeConv2DBackpropFilter(b, planned, stock),
  };
};

const wasmOverStock = (
  op: KernelOp,
  kernel: string,
  why: string,
  make: (b: KernelBackend, stock: KernelFunc) => KernelFunc,
): ReplacesStock =>
  overStock(
    { op, backend: 'wasm', kernel, when: 'always; the stock kernel keeps the calls ours does not cover', why, evidence: SINGLE_THREADED },
    make,
  );

const bnAct = (backend: 'webgpu' | 'cpu'): OwnName[] =>
  BN_ACT_KERNELS.map((kernel) => ({
    op: 'batchnorm',
    backend,
    mode: 'own-name',
    kernel,
    use: backend === 'webgpu' ? 'training' : 'reference',
    when: 'always',
    why:
      backend === 'webgpu'
        ? 'BatchNorm + ELU/ReLU in 7 dispatches per layer where the closed form costs ~37'
        : 'the plain-JS twin the unit tests check the op against',
    evidence: STEP_WORK,
    make: (b) => {
      const f = bnActKernel(kernel, b);
      if (f === undefined) throw new Error(`no ${kernel} for '${b}'`);
      return f;
    },
  }));

const stepKernel = (
  backend: KernelBackend,
  op: KernelOp,
  kernel: string,
  why: string,
  configs: Parameters<typeof ownKernel>[1],
  evidence = STEP_WORK,
): OwnName => ownKernel({ op, backend, kernel, use: 'training', when: 'always', why, evidence }, configs);

const optimizer = (backend: KernelBackend, update: FusedUpdate, why: string, evidence: Evidence): OptimizerUpdate => ({
  op: 'optimizer',
  backend,
  mode: 'optimizer-update',
  kernel: 'optimizer update',
  when: 'always (Adam and momentum SGD, Nesterov or not)',
  why,
  evidence,
  update,
});

export const KERNELS: readonly KernelEntry[] = Object.freeze([
  // ---- wasm
  fmaConv('Conv2D'),
  fmaConv('FusedConv2D'),
  filterGrad('wasm', wasmFilterGradRule, 'tfjs-backend-wasm 4.22 has none; im2col while Cin·kh·kw ≤ 72, a forward convolution past that', {
    doc: BENCH,
    heading: 'WASM, weight gradient',
  }),
  overStock(
    {
      op: 'conv',
      backend: 'wasm',
      kernel: 'Conv2DBackpropInput',
      when: 'stride 1, no dilation; the stock kernel otherwise',
      why: 'a forward convolution of dy with the flipped filter, ~10× the stock loop',
      evidence: { doc: BENCH, heading: 'WASM, input gradient' },
    },
    (b, stock) => makeConv2DBackpropInput(b, wasmInputGradRule, stock),
  ),
  {
    op: 'pool',
    backend: 'wasm',
    mode: 'replaces-stock',
    kernel: 'MaxPoolGrad',
    needsStock: false,
    when: 'always',
    why: 'the stock kernel is wrong on windows of non-positive values, and ~3× slower',
    evidence: { doc: BENCH, heading: 'WASM, MaxPoolGrad 2×2 stride 2 and Tile' },
    make: () => maxPoolGradJs,
  },
  {
    op: 'memory',
    backend: 'wasm',
    mode: 'replaces-stock',
    kernel: 'Tile',
    needsStock: false,
    when: 'always; the stock kernel keeps the calls ours does not cover',
    why: "block copies, ~6× the stock element-by-element loop on BatchNorm's gradient",
    evidence: { doc: BENCH, heading: 'WASM, MaxPoolGrad 2×2 stride 2 and Tile' },
    make: (_b, stock) => makeTile(stock),
  },
  wasmOverStock('reduce', 'Sum', "per-channel sums through XNNPACK's threaded average pooling", (b, stock) =>
    makeChannelReduce('Sum', b, stock),
  ),
  wasmOverStock('reduce', 'Mean', "per-channel means through XNNPACK's threaded average pooling", (b, stock) =>
    makeChannelReduce('Mean', b, stock),
  ),
  wasmOverStock('batchnorm', 'FusedBatchNorm', "one multiply and one add on XNNPACK's threaded kernels", makeBatchNorm),
  wasmOverStock('memory', 'Transpose', 'tiled, where the stock one goes element by element', (_b, stock) => makeTranspose(stock)),
  wasmOverStock('memory', 'Slice', 'row by row over the heap, where the stock one goes element by element', (_b, stock) =>
    makeSlice(stock),
  ),
  wasmOverStock('memory', 'Reverse', 'in runs over the heap, where the stock one goes element by element', (_b, stock) =>
    makeReverse(stock),
  ),
  stepKernel(
    'wasm',
    'dropout',
    DROPOUT,
    "the mask a pure function of (seed, step, layer, element): a run repeats for its seed (tfjs-layers' Dropout draws from Math.random), and each data-parallel worker takes its rows of the whole batch's mask",
    dropoutKernels,
    { doc: 'README.md', heading: 'WASM' },
  ),
  optimizer('wasm', wasmUpdate, "one pass per variable over the heap where tfjs's Adam makes ~20 kernel calls", {
    doc: BENCH,
    heading: 'WASM, what every worker pays whatever its share of the batch',
  }),
  // ---- cpu (plain JavaScript: the unit tests' backend)
  filterGrad('cpu', cpuFilterGradRule, 'a forward convolution, faster than the stock loop (the stock kernel keeps NCHW)', {
    doc: BENCH,
    heading: 'CPU, weight and input gradients',
  }),
  ...bnAct('cpu'),
  stepKernel('cpu', 'dropout', DROPOUT, 'the same seeded mask as on every other backend: a run repeats for its seed', dropoutKernels, {
    doc: 'README.md',
    heading: 'WASM',
  }),
  optimizer('cpu', cpuUpdate, 'the float32 loop the GPU kernels are checked against', STEP_WORK),
  // ---- webgpu
  filterGrad(
    'webgpu',
    webgpuFilterGradRule,
    'the tiled matmul (3×3, on our patch matrix) or the forward-conv program (5×5); stock: a thread per weight',
    GPU_FILTER_GRAD,
  ),
  webgpuForward('Conv2D'),
  webgpuForward('FusedConv2D'),
  ...bnAct('webgpu'),
  // The WebGPU step's own kernels: [folder, kernel, why, the configs its file makes].
  ...(
    [
      ['dropout', DROPOUT, 'the mask made on the device from (seed, step, layer): one dispatch each way, nothing uploaded', dropoutKernels],
      [
        'input',
        BATCH_INPUT,
        'standardisation, grayscale, flip and shift in one dispatch from buffers kept on the device',
        batchInputKernels,
      ],
      ['loss', CROSS_ENTROPY, 'loss and accuracy from the softmax in two dispatches where tfjs makes ~22', crossEntropyKernels],
      ['loss', CROSS_ENTROPY_GRAD, "the loss's gradient in one dispatch", crossEntropyKernels],
      ['conv', PATCHES, "the 3×3 weight gradient's patch matrix in 2 dispatches where the composed ones made 14–22", patchesKernels],
    ] as const
  ).map(([op, kernel, why, configs]) => stepKernel('webgpu', op, kernel, why, configs)),
  optimizer('webgpu', webgpuUpdate, "one dispatch per variable where tfjs's Adam makes 14", STEP_WORK),
  // ---- webgl
  filterGrad('webgl', webglFilterGradRule, 'im2col or the forward-conv program per shape; stock: a thread per weight', GPU_FILTER_GRAD),
  stepKernel('webgl', 'dropout', DROPOUT, 'the same hashed mask as WebGPU, one draw each way, nothing uploaded', dropoutKernels),
  stepKernel('webgl', 'loss', CROSS_ENTROPY, 'loss and accuracy in one draw each', crossEntropyKernels),
  stepKernel('webgl', 'loss', CROSS_ENTROPY_GRAD, "the loss's gradient in one draw", crossEntropyKernels),
  optimizer('webgl', webglUpdate, "one draw per new tensor (3 a variable for Adam) where tfjs's makes ~14", STEP_WORK),
]);

/** The rows of one backend, in installation order. */
export function kernelsOn(backendName: string): KernelEntry[] {
  return KERNELS.filter((e) => e.backend === backendName);
}

/** The registry as text, one line per row, for the bench's report and `npm run bench -- --registry`. */
export function registryInWords(backendName?: string): string[] {
  return KERNELS.filter((e) => backendName === undefined || e.backend === backendName).map(
    (e) =>
      `${e.backend} ${e.op}/${e.kernel} [${e.mode}${e.mode === 'own-name' ? `, ${e.use}` : ''}] when ${e.when}: ${e.why} (${e.evidence.doc}, "${e.evidence.heading}")`,
  );
}
