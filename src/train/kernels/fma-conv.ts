// The forward convolution (kernels `Conv2D`, `FusedConv2D`) on wasm, in our
// own WebAssembly with relaxed SIMD's fused multiply-add.
//
// Why: tfjs-backend-wasm 4.22 convolves through XNNPACK's SIMD128 kernels,
// which multiply and then add. On one thread here they run the seed
// network's products at 26–32 GFLOP/s; the same register tiling with
// `f32x4.relaxed_madd` runs them at 49–57 (`npm run bench -- --gemm`,
// docs/benchmarks.md "WASM GEMM"). The step's input gradient and weight
// gradient on wasm are forward convolutions too (conv2d-backprop-input.ts,
// conv2d-backprop-filter.ts 'conv'), so all three go through this kernel.
//
// How: an indirect GEMM. Each output pixel is a row; for each filter tap a
// pointer to the input pixel it reads (or to zeros, in the padding) is laid
// out once per shape. A tile of 6 pixels × 8 output channels lives in 12
// vector registers over all taps and input channels; the filter is packed
// as [8-channel panel][tap][input channel][8] per call.
//
// Where it runs: wasm with one thread per worker (the replica workers), when
// the engine compiles relaxed SIMD (Chromium ≥ 114), for stride 1, no
// dilation, NHWC, an even number of input channels, no activation. Everything
// else keeps the stock kernel: XNNPACK's threads win where a worker has several.
import { util } from '@tensorflow/tfjs';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { convInfo, type ForwardAttrs, type ForwardInputs } from './conv2d-forward';
import { floatsOf, hasHeap } from './wasm-heap';
import {
  I32,
  V128,
  addTo,
  countDown,
  get,
  i32,
  memarg,
  multiplyAdd,
  op,
  set,
  simd,
  simdOp,
  storeTile,
  tee,
  wasmModule,
} from './wasm-encode';

/** Output pixels per register tile. */
const ROWS = 6;
/** Output channels per register tile: two 4-lane vectors. */
const COLS = 8;

/**
 * tile(pind, pw, pc, taps, pairs, ldc, pbias): 6 pixels × 8 channels of the
 * output, from the bias, over every tap and input channel (pairs of them).
 * pind: [tap][6] pointers to the pixels' inputs; pw: the panel's packed
 * filter; the output's rows are ldc bytes apart.
 */
function tileBody(): number[] {
  const [pind, pw, pc, taps, pairs, ldc, pbias] = [0, 1, 2, 3, 4, 5, 6];
  const a = (r: number) => 7 + r;
  const [t, c] = [13, 14];
  const [b0, b1, s] = [15, 16, 17];
  const acc = (r: number, half: number) => 18 + 2 * r + half;
  const body: number[] = [];
  body.push(...get(pbias), ...simd(simdOp.load), ...memarg(4, 0), ...set(b0));
  body.push(...get(pbias), ...simd(simdOp.load), ...memarg(4, 16), ...set(b1));
  for (let r = 0; r < ROWS; r++) body.push(...get(b0), ...set(acc(r, 0)), ...get(b1), ...set(acc(r, 1)));
  const channels: number[] = [];
  for (let u = 0; u < 2; u++) {
    channels.push(...get(pw), ...simd(simdOp.load), ...memarg(4, 32 * u), ...set(b0));
    channels.push(...get(pw), ...simd(simdOp.load), ...memarg(4, 32 * u + 16), ...set(b1));
    for (let r = 0; r < ROWS; r++) {
      channels.push(...get(a(r)), ...simd(simdOp.load32Splat), ...memarg(2, 4 * u), ...set(s));
      channels.push(...multiplyAdd(true, acc(r, 0), s, b0), ...multiplyAdd(true, acc(r, 1), s, b1));
    }
  }
  for (let r = 0; r < ROWS; r++) channels.push(...addTo(a(r), 8));
  channels.push(...addTo(pw, 64), ...countDown(c));
  const perTap: number[] = [];
  for (let r = 0; r < ROWS; r++) perTap.push(...get(pind), op.i32Load, ...memarg(2, 4 * r), ...set(a(r)));
  perTap.push(...addTo(pind, 4 * ROWS), ...get(pairs), ...set(c), op.loop, 0x40, ...channels, op.end, ...countDown(t));
  body.push(...get(taps), ...set(t), op.loop, 0x40, ...perTap, op.end);
  return [...body, ...storeTile(ROWS, pc, ldc, acc)];
}

/** conv(pind, pw, pc, blocks, panels, taps, pairs, ldc, pbias): every tile, block by block of 6 pixels. */
function convBody(): number[] {
  const [pind, pw, pc, blocks, panels, taps, pairs, ldc, pbias] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [i, j] = [9, 10];
  const call = [
    ...[...get(pind), ...get(i), ...get(taps), op.i32Mul, ...i32(4 * ROWS), op.i32Mul, op.i32Add],
    ...[...get(pw), ...get(j), ...get(taps), op.i32Mul, ...get(pairs), op.i32Mul, ...i32(64), op.i32Mul, op.i32Add],
    ...[
      ...get(pc),
      ...get(i),
      ...get(ldc),
      op.i32Mul,
      ...i32(ROWS),
      op.i32Mul,
      op.i32Add,
      ...get(j),
      ...i32(4 * COLS),
      op.i32Mul,
      op.i32Add,
    ],
    ...get(taps),
    ...get(pairs),
    ...get(ldc),
    ...[...get(pbias), ...get(j), ...i32(4 * COLS), op.i32Mul, op.i32Add],
    op.call,
    0,
  ];
  const inner = [...call, ...get(j), ...i32(1), op.i32Add, ...tee(j), ...get(panels), op.i32LtU, op.brIf, 0];
  const outer = [...i32(0), ...set(j), op.loop, 0x40, ...inner, op.end];
  outer.push(...get(i), ...i32(1), op.i32Add, ...tee(i), ...get(blocks), op.i32LtU, op.brIf, 0);
  return [op.loop, 0x40, ...outer, op.end];
}

export function fmaConvModule(): Uint8Array<ArrayBuffer> {
  return wasmModule([
    {
      params: 7,
      locals: [
        [8, I32],
        [3 + 2 * ROWS, V128],
      ],
      body: tileBody(),
    },
    { params: 9, locals: [[2, I32]], body: convBody(), export: 'conv' },
  ]);
}

/** A convolution's geometry (stride 1, no dilation): NHWC input, [kh, kw, Cin, Cout] filter. */
export interface ConvGeometry {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  filterHeight: number;
  filterWidth: number;
  /** Padding before the first row and column. Unit: pixels. */
  padTop: number;
  padLeft: number;
}

const PAGE = 65536;
const roundUp = (n: number, to: number) => Math.ceil(n / to) * to;

/** The convolution through one compiled module and its own memory; inputs are copied in, the output out. */
export class FmaConv {
  private readonly memory: WebAssembly.Memory;
  private readonly run: (
    pind: number,
    pw: number,
    pc: number,
    blocks: number,
    panels: number,
    taps: number,
    pairs: number,
    ldc: number,
    pbias: number,
  ) => void;
  /** Each shape's pixel pointers, built once: the input is always copied to the same place for a shape. */
  private readonly pointers = new Map<string, Int32Array>();

  private constructor(instance: WebAssembly.Instance) {
    this.memory = instance.exports.memory as WebAssembly.Memory;
    this.run = instance.exports.conv as FmaConv['run'];
  }

  /** Null where the engine does not compile relaxed SIMD (an older browser, Node 20 without its flag). */
  static create(): FmaConv | null {
    const bytes = fmaConvModule();
    if (!WebAssembly.validate(bytes)) return null;
    return new FmaConv(new WebAssembly.Instance(new WebAssembly.Module(bytes)));
  }

  /** Whether `conv` takes this geometry: the kernel reads input channels in pairs. */
  static supports(g: ConvGeometry): boolean {
    return g.inChannels % 2 === 0 && g.inChannels > 0 && g.outChannels > 0;
  }

  /** out = conv(x, filter) + bias; out must hold batch × outHeight × outWidth × outChannels values. */
  conv(g: ConvGeometry, x: Float32Array, filter: Float32Array, bias: Float32Array | null, out: Float32Array): void {
    if (!FmaConv.supports(g)) throw new RangeError(`FmaConv needs an even number of input channels, got ${g.inChannels}`);
    const taps = g.filterHeight * g.filterWidth;
    const rows = g.batch * g.outHeight * g.outWidth;
    const blocks = Math.ceil(rows / ROWS);
    const panels = Math.ceil(g.outChannels / COLS);
    const width = panels * COLS;
    // Bytes: zeros (the padding's pixels and a missing bias) | input | pointers | filter | bias | output.
    const zeroBytes = roundUp(Math.max(g.inChannels, width) * 4, 16);
    const xAt = zeroBytes;
    const indAt = roundUp(xAt + x.length * 4, 16);
    const wAt = roundUp(indAt + blocks * taps * ROWS * 4, 16);
    const biasAt = wAt + panels * taps * g.inChannels * COLS * 4;
    const outAt = biasAt + width * 4;
    const end = outAt + blocks * ROWS * width * 4;
    if (end > this.memory.buffer.byteLength) this.memory.grow(Math.ceil((end - this.memory.buffer.byteLength) / PAGE));
    const heap = new Float32Array(this.memory.buffer);
    heap.fill(0, 0, zeroBytes / 4);
    heap.set(x, xAt / 4);
    new Int32Array(this.memory.buffer).set(this.pointersFor(g, xAt, blocks), indAt / 4);
    packFilter(g, filter, heap.subarray(wAt / 4, biasAt / 4));
    heap.fill(0, biasAt / 4, outAt / 4);
    if (bias) heap.set(bias, biasAt / 4);
    this.run(indAt, wAt, outAt, blocks, panels, taps, g.inChannels / 2, width * 4, biasAt);
    const result = heap.subarray(outAt / 4, outAt / 4 + rows * width);
    if (width === g.outChannels) out.set(result);
    else for (let r = 0; r < rows; r++) out.set(result.subarray(r * width, r * width + g.outChannels), r * g.outChannels);
  }

  private pointersFor(g: ConvGeometry, xAt: number, blocks: number): Int32Array {
    const key = [...Object.values(g), xAt].join(',');
    let table = this.pointers.get(key);
    if (!table) {
      // A handful of shapes per model; more means shapes that change from call to call.
      if (this.pointers.size >= 32) this.pointers.clear();
      table = pixelPointers(g, xAt, blocks);
      this.pointers.set(key, table);
    }
    return table;
  }
}

/** [block][tap][6]: the byte address of each output pixel's input at each tap, 0 (the zeros) in the padding and past the last pixel. */
function pixelPointers(g: ConvGeometry, xAt: number, blocks: number): Int32Array {
  const taps = g.filterHeight * g.filterWidth;
  const table = new Int32Array(blocks * taps * ROWS);
  const rows = g.batch * g.outHeight * g.outWidth;
  for (let row = 0; row < rows; row++) {
    const ox = row % g.outWidth;
    const oy = Math.floor(row / g.outWidth) % g.outHeight;
    const n = Math.floor(row / (g.outWidth * g.outHeight));
    const base = Math.floor(row / ROWS) * taps * ROWS + (row % ROWS);
    for (let i = 0; i < g.filterHeight; i++) {
      const iy = oy + i - g.padTop;
      for (let j = 0; j < g.filterWidth; j++) {
        const ix = ox + j - g.padLeft;
        const inside = iy >= 0 && iy < g.inHeight && ix >= 0 && ix < g.inWidth;
        table[base + (i * g.filterWidth + j) * ROWS] = inside ? xAt + ((n * g.inHeight + iy) * g.inWidth + ix) * g.inChannels * 4 : 0;
      }
    }
  }
  return table;
}

/** [kh, kw, Cin, Cout] into [panel of 8 output channels][tap][input channel][8], zeros past Cout. */
function packFilter(g: ConvGeometry, filter: Float32Array, packed: Float32Array): void {
  const k = g.filterHeight * g.filterWidth * g.inChannels;
  const cout = g.outChannels;
  for (let p = 0; p < Math.ceil(cout / COLS); p++) {
    const first = p * COLS;
    const count = Math.min(COLS, cout - first);
    const panel = p * k * COLS;
    for (let row = 0; row < k; row++) {
      const to = panel + row * COLS;
      const from = row * cout + first;
      for (let q = 0; q < count; q++) packed[to + q] = filter[from + q] as number;
      for (let q = count; q < COLS; q++) packed[to + q] = 0;
    }
  }
}

/** The geometry of a call ours takes, or null for the stock kernel. */
export function fmaConvGeometry(x: TensorInfo, filter: TensorInfo, attrs: ForwardAttrs, hasPrelu: boolean): ConvGeometry | null {
  if (x.dtype !== 'float32' || hasPrelu || (attrs.activation !== undefined && attrs.activation !== 'linear')) return null;
  const info = convInfo(x, filter, attrs);
  const unit = info.strideHeight === 1 && info.strideWidth === 1 && info.dilationHeight === 1 && info.dilationWidth === 1;
  if (info.dataFormat !== 'channelsLast' || !unit || info.padInfo.top < 0 || info.padInfo.left < 0) return null;
  const g: ConvGeometry = {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    outChannels: info.outChannels,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
  return FmaConv.supports(g) ? g : null;
}

/**
 * The wasm backend's XNNPACK thread count (BackendWasm's module), read per
 * call: a worker can start its backend again with another count. Null where
 * the backend is not wasm's (ours then stands aside).
 */
export function wasmThreads(backend: unknown): number | null {
  const count = (backend as { wasm?: { tfjs?: { getThreadsCount?: () => number } } }).wasm?.tfjs?.getThreadsCount?.();
  return typeof count === 'number' ? count : null;
}

/** A Conv2D or FusedConv2D kernelFunc for wasm: ours where the backend runs one thread and the call allows, else `stock`. */
export function makeFmaConv(conv: FmaConv, stock: KernelFunc): KernelFunc {
  return (args) => {
    const { x, filter, bias, preluActivationWeights } = args.inputs as ForwardInputs;
    const backend = args.backend;
    const g = fmaConvGeometry(x, filter, args.attrs as unknown as ForwardAttrs, preluActivationWeights !== undefined);
    // A bias is one value per output channel (tfjs-layers' Conv2D); any other broadcast goes to the stock kernel.
    const biasFits = bias === undefined || (g !== null && util.sizeFromShape(bias.shape) === g.outChannels);
    if (g === null || !biasFits || wasmThreads(backend) !== 1 || !hasHeap(backend)) return stock(args);
    // The output first: allocating can grow the heap, which detaches earlier views.
    const out = backend.makeOutput([g.batch, g.outHeight, g.outWidth, g.outChannels], 'float32');
    const biasValues = bias === undefined ? null : floatsOf(backend, bias);
    conv.conv(g, floatsOf(backend, x), floatsOf(backend, filter), biasValues, floatsOf(backend, out));
    return out;
  };
}
