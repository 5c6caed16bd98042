/**
 * A matrix product in our own WebAssembly, to measure how far the WASM
 * backend's convolutions (tfjs-backend-wasm 4.22: XNNPACK's SIMD128 kernels,
 * mul then add) are from what this CPU can do in a browser. With the relaxed
 * SIMD fused multiply-add (`f32x4.relaxed_madd`, Chromium ≥ 114) the same
 * register tiling may run twice as fast. `npm run bench -- --gemm` times both
 * against tfjs's matMul at the seed network's GEMM shapes.
 *
 * Not in the training step yet: this is the measurement that decides whether
 * the convolutions should move onto it (docs/benchmarks.md, "WASM GEMM").
 */
import {
  I32,
  V128,
  addTo,
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
} from '../kernels/backend/wasm-encode';

/** How the inner product accumulates: one fused multiply-add, or a multiply then an add. */
export type GemmArith = 'fma' | 'mul-add';

/** Rows of A per register tile; the tile is ROWS × 8 columns, 2·ROWS accumulators of 4 lanes (15 of 16 vector registers). */
const ROWS = 6;
/** Columns of B per register tile: two 4-lane vectors. */
const COLS = 8;
/** k steps per loop iteration: halves the loop's counter and branch. */
const UNROLL = 2;

/**
 * tile(pa, pb, pc, k, ldc): one ROWS × 8 tile of C = A·B over all k.
 * A is packed as [k][ROWS], B as [k][8]; C's rows are ldc bytes apart.
 */
function tileBody(arith: GemmArith): number[] {
  const [pa, pb, pc, k, ldc] = [0, 1, 2, 3, 4];
  const [b0, b1, s] = [5, 6, 7];
  const acc = (row: number, half: number) => 8 + 2 * row + half;
  const loop: number[] = [];
  for (let u = 0; u < UNROLL; u++) {
    loop.push(...get(pb), ...simd(simdOp.load), ...memarg(4, u * 4 * COLS), ...set(b0));
    loop.push(...get(pb), ...simd(simdOp.load), ...memarg(4, u * 4 * COLS + 16), ...set(b1));
    for (let r = 0; r < ROWS; r++) {
      loop.push(...get(pa), ...simd(simdOp.load32Splat), ...memarg(2, (u * ROWS + r) * 4), ...set(s));
      loop.push(...multiplyAdd(arith === 'fma', acc(r, 0), s, b0), ...multiplyAdd(arith === 'fma', acc(r, 1), s, b1));
    }
  }
  loop.push(...addTo(pa, 4 * ROWS * UNROLL), ...addTo(pb, 4 * COLS * UNROLL));
  loop.push(...get(k), ...i32(UNROLL), op.i32Sub, ...tee(k), op.brIf, 0);
  const body = [op.loop, 0x40, ...loop, op.end];
  // Locals start at zero, so the accumulators need no clearing.
  return [...body, ...storeTile(ROWS, pc, ldc, acc)];
}

/** gemm(pa, pb, pc, m, n, k): every tile of C (m × n, row-major); m a multiple of ROWS, n of 8, k of UNROLL. */
function gemmBody(): number[] {
  const [pa, pb, pc, m, n, k] = [0, 1, 2, 3, 4, 5];
  const [i, j] = [6, 7];
  const inner = [
    // A's panel for rows i…: i·k floats in; B's for columns j…: j·k floats in; C at row i, column j.
    ...[...get(pa), ...get(i), ...get(k), op.i32Mul, ...i32(4), op.i32Mul, op.i32Add],
    ...[...get(pb), ...get(j), ...get(k), op.i32Mul, ...i32(4), op.i32Mul, op.i32Add],
    ...[...get(pc), ...get(i), ...get(n), op.i32Mul, ...get(j), op.i32Add, ...i32(4), op.i32Mul, op.i32Add],
    ...get(k),
    ...[...get(n), ...i32(4), op.i32Mul],
    op.call,
    0,
    ...[...get(j), ...i32(COLS), op.i32Add, ...tee(j), ...get(n), op.i32LtU, op.brIf, 0],
  ];
  const outer = [...i32(0), ...set(j), op.loop, 0x40, ...inner, op.end];
  outer.push(...get(i), ...i32(ROWS), op.i32Add, ...tee(i), ...get(m), op.i32LtU, op.brIf, 0);
  return [op.loop, 0x40, ...outer, op.end];
}

/** The module's bytes: memory "memory" (its own, growable) and function "gemm". */
export function gemmModule(arith: GemmArith): Uint8Array<ArrayBuffer> {
  return wasmModule([
    { params: 5, locals: [[3 + 2 * ROWS, V128]], body: tileBody(arith) },
    { params: 6, locals: [[2, I32]], body: gemmBody(), export: 'gemm' },
  ]);
}

const PAGE = 65536;
const roundUp = (n: number, to: number) => Math.ceil(n / to) * to;

/**
 * C = A·B for row-major float32 matrices through one compiled module. Each
 * product is packed into the module's memory (`load`), computed (`run`) and
 * read out (`result`) as three calls, so a benchmark can time the kernel
 * alone and the packing apart.
 */
export class WasmGemm {
  private readonly memory: WebAssembly.Memory;
  private readonly gemm: (pa: number, pb: number, pc: number, m: number, n: number, k: number) => void;
  private shape = { m: 0, n: 0, k: 0, mp: 0, np: 0, kp: 0, pb: 0, pc: 0 };

  private constructor(instance: WebAssembly.Instance) {
    this.memory = instance.exports.memory as WebAssembly.Memory;
    this.gemm = instance.exports.gemm as WasmGemm['gemm'];
  }

  /** The product with `arith`, or null where this engine cannot compile it (relaxed SIMD off or missing). */
  static create(arith: GemmArith): WasmGemm | null {
    const bytes = gemmModule(arith);
    if (!WebAssembly.validate(bytes)) return null;
    return new WasmGemm(new WebAssembly.Instance(new WebAssembly.Module(bytes)));
  }

  /** Packs A (m × k) and B (k × n), zero-padded to whole tiles. */
  load(a: Float32Array, b: Float32Array, m: number, k: number, n: number): void {
    if (a.length !== m * k || b.length !== k * n) throw new RangeError(`A must hold ${m}×${k} values and B ${k}×${n}`);
    const mp = roundUp(m, ROWS);
    const np = roundUp(n, COLS);
    const kp = roundUp(Math.max(k, 1), UNROLL);
    const pb = mp * kp * 4;
    const pc = pb + kp * np * 4;
    const bytes = pc + mp * np * 4;
    if (bytes > this.memory.buffer.byteLength) this.memory.grow(Math.ceil((bytes - this.memory.buffer.byteLength) / PAGE));
    const heap = new Float32Array(this.memory.buffer, 0, bytes / 4);
    heap.fill(0, 0, pc / 4);
    // A: per block of ROWS rows, k steps of ROWS values.
    for (let i = 0; i < m; i++) {
      const panel = Math.floor(i / ROWS) * kp * ROWS + (i % ROWS);
      for (let p = 0; p < k; p++) heap[panel + p * ROWS] = a[i * k + p] as number;
    }
    // B: per block of 8 columns, k steps of 8 values.
    for (let p = 0; p < k; p++) {
      for (let j = 0; j < n; j++) heap[pb / 4 + Math.floor(j / COLS) * kp * COLS + p * COLS + (j % COLS)] = b[p * n + j] as number;
    }
    this.shape = { m, n, k, mp, np, kp, pb, pc };
  }

  run(): void {
    const { mp, np, kp, pb, pc } = this.shape;
    this.gemm(0, pb, pc, mp, np, kp);
  }

  /** C (m × n, row-major) of the last `run`. */
  result(): Float32Array {
    const { m, n, np, pc } = this.shape;
    const out = new Float32Array(m * n);
    const c = new Float32Array(this.memory.buffer, pc, this.shape.mp * np);
    for (let i = 0; i < m; i++) out.set(c.subarray(i * np, i * np + n), i * n);
    return out;
  }

  multiply(a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float32Array {
    this.load(a, b, m, k, n);
    this.run();
    return this.result();
  }
}
