// The WebAssembly of our relaxed-SIMD convolution (fma-wasm.ts runs it), as
// bytes written from TypeScript with ../backend/wasm-encode.ts: an indirect
// GEMM whose register tile is 6 output pixels × 8 output channels, 12 vector
// registers accumulating with `f32x4.relaxed_madd` over every tap and input
// channel; plus the two helpers that lay out a shape's pixel pointers and pack
// the filter.
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
  type ModuleMemory,
} from '../backend/wasm-encode';

/** Output pixels per register tile. */
export const ROWS = 6;
/** Output channels per register tile: two 4-lane vectors. */
export const COLS = 8;

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

/**
 * relocate(dst, src, quads, x, zeros): a pointer table for an input at x,
 * four entries at a time: zeros where the relative table says −1, else
 * x + offset. Tensors move in the heap from call to call (173 of 200 calls
 * of a seed step found their input elsewhere), and a seed table has up to
 * ~600,000 entries: too many for a JavaScript loop on every call.
 */
function relocateBody(): number[] {
  const [dst, src, quads, x, zeros] = [0, 1, 2, 3, 4];
  const [vx, vz, v0] = [5, 6, 7];
  const load = (at: number) => [...get(at), ...simd(simdOp.load), ...memarg(4, 0)];
  const body = [...get(x), ...simd(simdOp.i32x4Splat), ...set(vx), ...get(zeros), ...simd(simdOp.i32x4Splat), ...set(vz)];
  body.push(...i32(0), ...simd(simdOp.i32x4Splat), ...set(v0));
  // bitselect(a, b, mask) takes a's bits where the mask is set: the zeros where the offset is negative.
  const step = [...get(dst), ...get(vz), ...load(src), ...get(vx), ...simd(simdOp.i32x4Add)];
  step.push(...load(src), ...get(v0), ...simd(simdOp.i32x4LtS), ...simd(simdOp.bitselect), ...simd(simdOp.store), ...memarg(4, 0));
  step.push(...addTo(src, 16), ...addTo(dst, 16), ...countDown(quads));
  return [...body, op.loop, 0x40, ...step, op.end];
}

/**
 * pack(dst, src, panels, rows, rowBytes): a [rows][Cout] filter into
 * [panel][row][8] where Cout is a multiple of 8, one 8-float run at a time.
 * The weight gradient's composed filter is the whole dy (2M floats for a
 * seed layer at batch 64): a loop in JavaScript spent ~5 ms a step on them.
 */
function packBody(): number[] {
  const [dst, src, panels, rows, rowBytes] = [0, 1, 2, 3, 4];
  const [from, r] = [5, 6];
  const copy = (offset: number) => [
    ...get(dst),
    ...get(from),
    ...simd(simdOp.load),
    ...memarg(4, offset),
    ...simd(simdOp.store),
    ...memarg(4, offset),
  ];
  const row = [...copy(0), ...copy(16), ...addTo(dst, 32), ...get(from), ...get(rowBytes), op.i32Add, ...set(from), ...countDown(r)];
  const panel = [...get(src), ...set(from), ...get(rows), ...set(r), op.loop, 0x40, ...row, op.end];
  panel.push(...addTo(src, 32), ...countDown(panels));
  return [op.loop, 0x40, ...panel, op.end];
}

export function fmaConvModule(memory: ModuleMemory = 'imported'): Uint8Array<ArrayBuffer> {
  return wasmModule(
    [
      {
        params: 7,
        locals: [
          [8, I32],
          [3 + 2 * ROWS, V128],
        ],
        body: tileBody(),
      },
      { params: 9, locals: [[2, I32]], body: convBody(), export: 'conv' },
      { params: 5, locals: [[3, V128]], body: relocateBody(), export: 'relocate' },
      { params: 5, locals: [[2, I32]], body: packBody(), export: 'pack' },
    ],
    memory,
  );
}
