// Installs our training kernels into tfjs's global kernel registry.
//
// Figures below: ms per call, best of 5–7 calls, batch 64, 3×3 'same' unless
// noted; tfjs 4.22 in Node 20 (wasm: SIMD build, one thread) on 2 shared cores.
//
// wasm, weight gradient (the stock backend has none, so a convnet cannot train):
//   in→out ch, size     im2col  conv        in→out ch, size, 5×5   im2col  conv
//   1→32   32×32           3     25          1→16  32×32              6     10
//   3→32   32×32           9     21          3→16  32×32             17     14
//   3→64   32×32          14     50          3→32  32×32             52     28
//   8→32   32×32          22     30          8→16  32×32             58     24
//   16→32  32×32          46     44          16→20 16×16             37     14
//   32→32  32×32         103     80          20→20 8×8               19      4
//   64→64  16×16         115     65
//   128→128 8×8           96     60
// im2col wins while the patch matrix is thin (Cin·kh·kw ≤ 72 rows), the
// XNNPACK forward convolution past that; both stay within 2.5× of the forward
// Conv2D of the same layer (45 ms for 32→32 32×32).
//
// wasm, input gradient: stock 46 / 491 / 232 / 460 / 209 / 420 ms for
// 3→32 32², 32→32 32², 32→64 16², 64→64 16², 64→128 8², 128→128 8²; as a
// forward conv 11 / 42 / 21 / 41 / 22 / 44 ms (5×5 ConvNetJS layers: stock
// 62 / 94 / 25, ours 14 / 9 / 4). So ours whenever the shape allows.
//
// cpu, weight gradient, batch 16: stock 2,083 / 22,517 / 22,335 / 5,098 ms
// for 3→32 32², 32→32 32², 128→128 8², 16→20 16² 5×5; conv formulation
// 72 / 496 / 378 / 122 ms, im2col 288 / 2,948 / 996 / 1,466 ms. The cpu input
// gradient stock kernel is already faster than ours (362 vs 440 ms), so stays.
//
// wasm, MaxPoolGrad 2×2/2 (ours replaces a wrong stock kernel, and is faster):
// stock 42 / 22 / 10 / 20 / 6.3 / 1.5 ms, ours 18 / 8.3 / 4.0 / 8.3 / 2.5 /
// 0.6 ms for inputs 32²×32, 16²×64, 8²×128, 32²×16, 16²×20, 8²×20.
//
// wasm, Tile [1,1,1,C] → [64,H,W,C] (BatchNorm's gradient): stock 136 / 65 /
// 33 ms, ours 1.4 / 2.0 / 1.0 ms for C·H·W = 32·32², 64·16², 128·8².
//
// wasm, replacing tfjs's single-threaded loops (npm run bench -- --ops: batch 64,
// one thread, headless Chromium, ms; the machine was shared with other work,
// load 3–7, so single figures are rough): Sum over B,H,W of [64,32,32,32]
// stock 4.9, ours 0.5 (average pooling); FusedBatchNorm stock 6.5, ours 3.1;
// Transpose to [32,32,32,64] stock 10.8, ours 5.3; Slice [64,32,32,32] →
// [64,30,30,32] stock 38.6, ours 0.5. A whole seed step, one thread,
// interleaved: 890 ms with all ours, 1,061 with the stock Sum and Mean, 1,103
// with the stock FusedBatchNorm, 964 with the stock Transpose.
// MaxPoolGrad on [64,32,32,32] (Node, one thread, best of 10): through
// readSync/write 123 ms, in place in the heap 19 ms, its 2×2 path 12 ms.
//
// webgpu and webgl, weight gradient: headless Chromium on SwiftShader (a CPU
// emulating the GPU; relative figures only), batch 16, two runs on a loaded
// machine, ms (second run for webgpu):
//   in→out ch, size, kernel    webgpu: stock im2col im2colNhwc conv | webgl: stock im2col im2colNhwc conv
//   3→32    32×32 3×3                 345    240      313      329  |        116     78       66      44
//   32→32   32×32 3×3               3,549  2,061    1,822    2,073  |      1,406    307      504     302
//   32→64   16×16 3×3                 892    362      337      848  |        444    170      165     182
//   64→64   16×16 3×3               1,970    732      657    1,807  |      1,091    197      269     323
//   64→128  8×8   3×3               1,289    646      542    1,494  |        446    142      165     202
//   128→128 8×8   3×3               3,246  1,140      985    3,010  |      1,595    261      329     361
//   3→16    32×32 5×5                 404    724      945      342  |        325    316      332     114
//   16→20   16×16 5×5                 648    755      719      393  |        248    242      268     161
//   20→20   8×8   5×5                 103    134      126       65  |         59     80       99      49
// The stock kernels run one thread per weight over B·H·W products; ours hand
// the work to the tiled matmul (3×3) or forward-conv (5×5) programs.
// webgpu, batch 64, ms, im2colNhwc vs 'taps' (one product per filter tap, no
// patch matrix): 3→32 32² 630 vs 749, 32→32 32² 3,579 vs 2,448, 32→64 16²
// 1,231 vs 1,276, 64→64 16² 2,778 vs 2,395, 64→128 8² 1,008 vs 1,183,
// 128→128 8² 2,180 vs 1,564 (stock 673 / 6,835 / 3,578 / 7,995 / 3,647 /
// 7,210): taps where it does not widen the channels, from 32 channels on. The input
// gradient as a forward conv lost on webgpu at every shape (e.g. 640 vs 283 ms
// for 3→32, 941 vs 403 for 128→128) and on webgl at half of them, so those
// backends keep their stock Conv2DBackpropInput.
import { getKernel, registerKernel, unregisterKernel } from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs';
import { makeConv2DBackpropFilter, type FilterGradMethod, type FilterGradRule } from './conv2d-backprop-filter';
import { makeBatchNorm } from './batch-norm';
import { makeChannelReduce } from './channel-reduce';
import { makeConv2DBackpropInput, type InputGradRule } from './conv2d-backprop-input';
import { makeForwardConv, webgpuForwardConvRule } from './conv2d-forward';
import { maxPoolGradJs } from './max-pool-grad';
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
  if (info.inChannels >= 32 && info.outChannels <= info.inChannels) return prefer(['taps', 'im2colNhwc', 'stock'], possible);
  return info.inChannels >= 16 ? prefer(['im2colNhwc', 'im2col', 'stock'], possible) : prefer(['im2col', 'stock'], possible);
};

export const webglFilterGradRule: FilterGradRule = (info, possible) =>
  info.filterHeight * info.filterWidth > 9 || info.inChannels < 16
    ? prefer(['conv', 'stock'], possible)
    : prefer(['im2col', 'stock'], possible);

export const wasmInputGradRule: InputGradRule = () => 'conv';

type Installer = { kernelName: string; needsStock: boolean; make: (backendName: string, stock: KernelConfig | undefined) => KernelFunc };

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
    return makeForwardConv(backendName, webgpuForwardConvRule, stock.kernelFunc);
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

// Per-channel reductions and BatchNorm on XNNPACK's threaded kernels instead of single-threaded loops (see channel-reduce.ts, batch-norm.ts).
const channelSum = overStock('Sum', (backendName, stock) => makeChannelReduce('Sum', backendName, stock));
const channelMean = overStock('Mean', (backendName, stock) => makeChannelReduce('Mean', backendName, stock));
const batchNorm = overStock('FusedBatchNorm', makeBatchNorm);
// Tiled Transpose over the wasm heap instead of tfjs's element-by-element one (see transpose.ts).
const transpose = overStock('Transpose', (_backendName, stock) => makeTranspose(stock));
// Slices by rows over the wasm heap instead of tfjs's element-by-element loop (see slice.ts).
const slice = overStock('Slice', (_backendName, stock) => makeSlice(stock));

const PLANS: Record<string, Installer[]> = {
  wasm: [
    filterGrad(wasmFilterGradRule),
    inputGrad(wasmInputGradRule),
    maxPoolGrad,
    tile,
    channelSum,
    channelMean,
    batchNorm,
    transpose,
    slice,
  ],
  cpu: [filterGrad(cpuFilterGradRule)],
  webgpu: [filterGrad(webgpuFilterGradRule), forwardConv('Conv2D'), forwardConv('FusedConv2D')],
  webgl: [filterGrad(webglFilterGradRule)],
};

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
 *    per-channel Sum and Mean, FusedBatchNorm, Transpose and Slice faster than
 *    the stock ones (the stock kernels keep the calls ours do not cover).
 *  - cpu: a faster Conv2DBackpropFilter (stock one kept for NCHW).
 *  - webgpu: a faster Conv2DBackpropFilter (formulation per shape) and a
 *    faster forward Conv2D / FusedConv2D for 3×3 filters on ≥ 16 channels.
 *  - webgl: a faster Conv2DBackpropFilter (formulation per shape).
 */
export function registerTrainingKernels(backendName: string): { registered: string[] } {
  const plan = PLANS[backendName];
  if (plan === undefined) return { registered: [] };
  if (lookup('Conv2D', backendName) === undefined) {
    throw new Error(`registerTrainingKernels('${backendName}'): the backend's kernels are not registered; import its package first`);
  }
  const registered: string[] = [];
  for (const { kernelName, needsStock, make } of plan) {
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
