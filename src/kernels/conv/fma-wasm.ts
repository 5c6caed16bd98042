// The forward convolution (kernels `Conv2D`, `FusedConv2D`) on wasm, in our
// own WebAssembly with relaxed SIMD's fused multiply-add.
//
// Why: tfjs-backend-wasm 4.22 convolves through XNNPACK's SIMD128 kernels,
// which multiply and then add. On one thread here they run the seed
// network's products at 26–32 GFLOP/s; the same register tiling with
// `f32x4.relaxed_madd` runs them at 49–57 (`npm run bench -- --gemm`,
// docs/benchmarks.md "WASM GEMM"). The step's input gradient and weight
// gradient on wasm are forward convolutions too (conv/input-grad.ts,
// conv/filter-grad.ts 'conv'), so all three go through this kernel.
//
// How: an indirect GEMM. Each output pixel is a row; for each filter tap a
// pointer to the input pixel it reads (or to zeros, in the padding) is laid
// out once per shape. A tile of 6 pixels × 8 output channels lives in 12
// vector registers over all taps and input channels; the filter is packed
// as [8-channel panel][tap][input channel][8] per call. The module works in
// tfjs-backend-wasm's own memory (FmaConv), on the tensors where they lie.
//
// Where it runs: wasm with one thread per worker (the replica workers), when
// the engine compiles relaxed SIMD (Chromium ≥ 114), for stride 1, no
// dilation, NHWC, an even number of input channels, no activation. Everything
// else keeps the stock kernel: XNNPACK's threads win where a worker has several.
import { util } from '@tensorflow/tfjs';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { convInfo, type ForwardAttrs, type ForwardInputs } from './forward';
import { floatsOf, hasHeap } from '../backend/wasm-heap';
import { COLS, ROWS, fmaConvModule } from './fma-module';

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

/** The memory our module works in and its allocator: tfjs-backend-wasm's, so that tensors are read and written where they lie. */
export interface WasmHeap {
  memory: WebAssembly.Memory;
  /** Unit: bytes, returns a byte address. */
  malloc(bytes: number): number;
  free(at: number): void;
}

interface Emscripten {
  _malloc?: (bytes: number) => number;
  _free?: (at: number) => void;
  /** The threaded build's shared memory, made in JavaScript. */
  wasmMemory?: unknown;
  /** The other builds export theirs. */
  asm?: { memory?: unknown };
}

/** The wasm backend's heap (BackendWasm's emscripten module), or null for another backend. */
export function heapOf(backend: unknown): WasmHeap | null {
  const m = (backend as { wasm?: Emscripten }).wasm;
  const memory = m?.wasmMemory ?? m?.asm?.memory;
  const { _malloc: malloc, _free: free } = m ?? {};
  if (!(memory instanceof WebAssembly.Memory) || malloc === undefined || free === undefined) return null;
  // >>> 0: addresses past 2 GiB come back negative.
  return { memory, malloc: (bytes) => malloc(bytes) >>> 0, free };
}

type ConvEntry = (
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
type RelocateEntry = (dst: number, src: number, quads: number, x: number, zeros: number) => void;
type PackEntry = (dst: number, src: number, panels: number, rows: number, rowBytes: number) => void;

/**
 * One shape's pixel pointers in the heap, both as byte offsets from the
 * input (−1 in the padding) and as the addresses the kernel reads, last
 * rewritten for an input at `x` and zeros at `zeros`. Entries: a multiple of 4.
 */
interface PointerTable {
  /** malloc's address, to free. */
  block: number;
  relative: number;
  absolute: number;
  quads: number;
  x: number;
  zeros: number;
}

/** Byte addresses, in the heap, of a convolution's tensors; bias null for none. */
export interface ConvAddresses {
  x: number;
  filter: number;
  bias: number | null;
  out: number;
}

let relaxedSimdCompiles: boolean | undefined;

/**
 * The first 16-byte boundary at or after a malloc'd address (allocate 12
 * bytes more): emscripten's malloc aligns to 8, and a 16-byte load that
 * straddles two cache lines, as every other one of the packed filter's
 * would, is slower.
 */
const aligned = (at: number) => Math.ceil(at / 16) * 16;

/**
 * The convolution in tfjs-backend-wasm's own heap, through one module per
 * heap that imports its memory: it reads the input and the filter and
 * writes the output where the tensors lie. With a memory of its own, the
 * copies in and out and the work around them took ~27 ms of a ~450 ms seed
 * step at batch 64 on one thread; now ~10. What it adds to the heap (the
 * pointer tables, the packed filter) it allocates with the heap's malloc.
 */
export class FmaConv {
  private static readonly byMemory = new WeakMap<WebAssembly.Memory, FmaConv>();
  private readonly run: ConvEntry;
  private readonly relocate: RelocateEntry;
  private readonly pack: PackEntry;
  /** Each shape's pixel pointers, built once; a handful of shapes per model. */
  private readonly tables = new Map<string, PointerTable>();
  /** Zeros that the padding's pointers point at: as many as the widest row read or bias; `block` is malloc's. */
  private zeros = { block: 0, at: 0, bytes: 0 };

  private constructor(
    private readonly heap: WasmHeap,
    instance: WebAssembly.Instance,
  ) {
    this.run = instance.exports.conv as ConvEntry;
    this.relocate = instance.exports.relocate as RelocateEntry;
    this.pack = instance.exports.pack as PackEntry;
  }

  /** Whether the engine compiles relaxed SIMD (Chromium ≥ 114; Node 20 only with its flag). */
  static compiles(): boolean {
    return (relaxedSimdCompiles ??= WebAssembly.validate(fmaConvModule()));
  }

  /** The convolution for `heap`, compiled on first use; null where relaxed SIMD does not compile. */
  static forHeap(heap: WasmHeap): FmaConv | null {
    const known = FmaConv.byMemory.get(heap.memory);
    if (known) return known;
    const shared = typeof SharedArrayBuffer !== 'undefined' && heap.memory.buffer instanceof SharedArrayBuffer;
    const bytes = fmaConvModule(shared ? 'imported-shared' : 'imported');
    if (!WebAssembly.validate(bytes)) return null;
    const conv = new FmaConv(heap, new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory: heap.memory } }));
    FmaConv.byMemory.set(heap.memory, conv);
    return conv;
  }

  /** Whether `convAt` takes this geometry: the kernel reads input channels in pairs. */
  static supports(g: ConvGeometry): boolean {
    return g.inChannels % 2 === 0 && g.inChannels > 0 && g.outChannels > 0;
  }

  /** out = conv(x, filter) + bias, on tensors in the heap (NHWC input, [kh, kw, Cin, Cout] filter, NHWC output). */
  convAt(g: ConvGeometry, at: ConvAddresses): void {
    if (!FmaConv.supports(g)) throw new RangeError(`FmaConv needs an even number of input channels, got ${g.inChannels}`);
    const taps = g.filterHeight * g.filterWidth;
    const rows = g.batch * g.outHeight * g.outWidth;
    const blocks = Math.ceil(rows / ROWS);
    const panels = Math.ceil(g.outChannels / COLS);
    const width = panels * COLS;
    // Rows go straight into the output where they are exactly 8-channel panels wide, all but a last partial block.
    const direct = width === g.outChannels;
    const whole = direct ? Math.floor(rows / ROWS) : 0;
    const zeros = this.zerosFor(Math.max(g.inChannels, width) * 4);
    const table = this.tableFor(g, blocks, at.x, zeros);
    const filterFloats = panels * taps * g.inChannels * COLS;
    const scratchRows = (blocks - whole) * ROWS;
    const block = this.heap.malloc(4 * (filterFloats + width + scratchRows * width) + 12);
    const scratch = aligned(block);
    try {
      // After every malloc: a heap that grew has a new buffer.
      const heap = new Float32Array(this.heap.memory.buffer);
      const [wAt, biasAt] = [scratch, scratch + 4 * filterFloats];
      const outAt = biasAt + 4 * width;
      const filterRows = taps * g.inChannels;
      if (direct) this.pack(wAt, at.filter, panels, filterRows, 4 * g.outChannels);
      else packFilter(g, heap.subarray(at.filter / 4, at.filter / 4 + filterRows * g.outChannels), heap.subarray(wAt / 4, biasAt / 4));
      heap.fill(0, biasAt / 4, outAt / 4);
      if (at.bias !== null) heap.copyWithin(biasAt / 4, at.bias / 4, at.bias / 4 + g.outChannels);
      const [pairs, ldc] = [g.inChannels / 2, width * 4];
      if (whole > 0) this.run(table, wAt, at.out, whole, panels, taps, pairs, ldc, biasAt);
      if (whole === blocks) return;
      this.run(table + whole * taps * ROWS * 4, wAt, outAt, blocks - whole, panels, taps, pairs, ldc, biasAt);
      const done = whole * ROWS;
      if (direct) heap.copyWithin(at.out / 4 + done * width, outAt / 4, outAt / 4 + (rows - done) * width);
      else
        for (let r = 0; r < rows; r++)
          heap.copyWithin(at.out / 4 + r * g.outChannels, outAt / 4 + r * width, outAt / 4 + r * width + g.outChannels);
    } finally {
      this.heap.free(block);
    }
  }

  /** `convAt` on arrays of ours: copies them into the heap and the output back out. */
  conv(g: ConvGeometry, x: Float32Array, filter: Float32Array, bias: Float32Array | null, out: Float32Array): void {
    const base = this.heap.malloc(4 * (x.length + filter.length + (bias?.length ?? 0) + out.length));
    try {
      const heap = new Float32Array(this.heap.memory.buffer);
      const filterAt = base + 4 * x.length;
      const biasAt = filterAt + 4 * filter.length;
      const outAt = biasAt + 4 * (bias?.length ?? 0);
      heap.set(x, base / 4);
      heap.set(filter, filterAt / 4);
      if (bias) heap.set(bias, biasAt / 4);
      this.convAt(g, { x: base, filter: filterAt, bias: bias ? biasAt : null, out: outAt });
      out.set(new Float32Array(this.heap.memory.buffer, outAt, out.length));
    } finally {
      this.heap.free(base);
    }
  }

  private zerosFor(bytes: number): number {
    if (this.zeros.bytes < bytes) {
      if (this.zeros.bytes > 0) this.heap.free(this.zeros.block);
      const block = this.heap.malloc(bytes + 12);
      this.zeros = { block, at: aligned(block), bytes };
      // Nothing writes them afterwards: filled once.
      new Float32Array(this.heap.memory.buffer, this.zeros.at, bytes / 4).fill(0);
    }
    return this.zeros.at;
  }

  /** The shape's pointer table in the heap, pointing at `x` and `zeros`: rewritten only when either moved since its last call. */
  private tableFor(g: ConvGeometry, blocks: number, x: number, zeros: number): number {
    const key = Object.values(g).join(',');
    let table = this.tables.get(key);
    if (!table) {
      // More than a handful means shapes that change from call to call.
      if (this.tables.size >= 32) {
        for (const t of this.tables.values()) this.heap.free(t.block);
        this.tables.clear();
      }
      const offsets = pixelOffsets(g, blocks);
      const block = this.heap.malloc(2 * offsets.byteLength + 12);
      const relative = aligned(block);
      new Int32Array(this.heap.memory.buffer, relative, offsets.length).set(offsets);
      table = { block, relative, absolute: relative + offsets.byteLength, quads: offsets.length / 4, x: -1, zeros: -1 };
      this.tables.set(key, table);
    }
    if (table.x !== x || table.zeros !== zeros) {
      this.relocate(table.absolute, table.relative, table.quads, x, zeros);
      table.x = x;
      table.zeros = zeros;
    }
    return table.absolute;
  }
}

/**
 * [block][tap][6]: the byte offset from the input of each output pixel's
 * input at each tap; −1 in the padding, past the last pixel, and in the
 * entries that round the length up to a multiple of 4 (for relocate).
 */
function pixelOffsets(g: ConvGeometry, blocks: number): Int32Array {
  const taps = g.filterHeight * g.filterWidth;
  const table = new Int32Array(Math.ceil((blocks * taps * ROWS) / 4) * 4).fill(-1);
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
        if (inside) table[base + (i * g.filterWidth + j) * ROWS] = ((n * g.inHeight + iy) * g.inWidth + ix) * g.inChannels * 4;
      }
    }
  }
  return table;
}

/** [kh, kw, Cin, Cout] into [panel of 8 output channels][tap][input channel][8], zeros past Cout: where Cout is not a multiple of 8. */
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
export function makeFmaConv(stock: KernelFunc): KernelFunc {
  return (args) => {
    const { x, filter, bias, preluActivationWeights } = args.inputs as ForwardInputs;
    const backend = args.backend;
    const g = fmaConvGeometry(x, filter, args.attrs as unknown as ForwardAttrs, preluActivationWeights !== undefined);
    // A bias is one value per output channel (tfjs-layers' Conv2D); any other broadcast goes to the stock kernel.
    const biasFits = bias === undefined || (g !== null && util.sizeFromShape(bias.shape) === g.outChannels);
    if (g === null || !biasFits || wasmThreads(backend) !== 1 || !hasHeap(backend)) return stock(args);
    const heap = heapOf(backend);
    const conv = heap && FmaConv.forHeap(heap);
    if (!conv) return stock(args);
    const out = backend.makeOutput([g.batch, g.outHeight, g.outWidth, g.outChannels], 'float32');
    const address = (t: TensorInfo) => floatsOf(backend, t).byteOffset;
    conv.convAt(g, { x: address(x), filter: address(filter), bias: bias === undefined ? null : address(bias), out: address(out) });
    return out;
  };
}
