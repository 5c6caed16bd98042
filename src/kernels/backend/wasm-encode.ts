/**
 * Just enough of WebAssembly's binary format to write small SIMD kernels
 * from TypeScript (conv/fma-wasm.ts; the bench's gemm.ts). Written here rather
 * than assembled from text: a WAT assembler (wabt.js) is a 1.5 MB download
 * for a dozen opcodes. Opcodes: the WebAssembly core specification (binary
 * format) and the SIMD and relaxed-SIMD proposals' opcode tables.
 */

export const I32 = 0x7f;
export const V128 = 0x7b;

export const op = {
  loop: 0x03,
  end: 0x0b,
  brIf: 0x0d,
  call: 0x10,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Load: 0x28,
  i32Const: 0x41,
  i32LtU: 0x49,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Mul: 0x6c,
  simd: 0xfd,
} as const;

/** Opcodes after the 0xfd prefix (LEB128-encoded). */
export const simdOp = {
  load: 0x00,
  load32Splat: 0x09,
  store: 0x0b,
  i32x4Splat: 0x11,
  i32x4LtS: 0x39,
  bitselect: 0x52,
  i32x4Add: 0xae,
  f32x4Add: 0xe4,
  f32x4Mul: 0xe6,
  f32x4RelaxedMadd: 0x105,
} as const;

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) return [...out, byte];
    out.push(byte | 0x80);
  }
}

export const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
export const get = (local: number) => [op.localGet, ...uleb(local)];
export const set = (local: number) => [op.localSet, ...uleb(local)];
export const tee = (local: number) => [op.localTee, ...uleb(local)];
export const i32 = (value: number) => [op.i32Const, ...sleb(value)];
export const simd = (code: number) => [op.simd, ...uleb(code)];
/** A memory access: alignment as log2 bytes, then the constant offset. */
export const memarg = (alignLog2: number, offset: number) => [...uleb(alignLog2), ...uleb(offset)];
/** `local += delta` for an i32 local. */
export const addTo = (local: number, delta: number) => [...get(local), ...i32(delta), op.i32Add, ...set(local)];
/** `local -= 1; br_if <depth> (local != 0)`: the tail of a counted loop. */
export const countDown = (local: number, depth = 0) => [...get(local), ...i32(1), op.i32Sub, ...tee(local), op.brIf, depth];

/** The multiply-accumulate `acc += s · b` on four lanes: fused (relaxed SIMD) or a multiply then an add. */
export function multiplyAdd(fused: boolean, acc: number, s: number, b: number): number[] {
  // relaxed_madd(a, b, c) = a·b + c, fused where the CPU has FMA.
  if (fused) return [...get(s), ...get(b), ...get(acc), ...simd(simdOp.f32x4RelaxedMadd), ...set(acc)];
  return [...get(acc), ...get(s), ...get(b), ...simd(simdOp.f32x4Mul), ...simd(simdOp.f32x4Add), ...set(acc)];
}

/**
 * Stores a register tile of `rows` rows × 8 floats (accumulators `acc(r, 0)`
 * and `acc(r, 1)`, four lanes each) at `pc`, rows `ldc` bytes apart; leaves
 * `pc` past the last row.
 */
export function storeTile(rows: number, pc: number, ldc: number, acc: (r: number, half: number) => number): number[] {
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    out.push(...get(pc), ...get(acc(r, 0)), ...simd(simdOp.store), ...memarg(4, 0));
    out.push(...get(pc), ...get(acc(r, 1)), ...simd(simdOp.store), ...memarg(4, 16));
    out.push(...get(pc), ...get(ldc), op.i32Add, ...set(pc));
  }
  return out;
}

export interface WasmFunction {
  /** Parameter count, all i32. */
  params: number;
  /** Extra locals by type, in order: [count, type]. */
  locals: [number, number][];
  body: number[];
  /** Exported under this name, if given. */
  export?: string;
}

/**
 * Where a module's memory comes from: its own ('own', exported as "memory":
 * one page to start, up to 4 GiB), or another module's, imported as
 * env.memory ('imported'; 'imported-shared' for a threaded build's shared
 * memory, whose import must declare a maximum: 4 GiB takes any).
 */
export type ModuleMemory = 'own' | 'imported' | 'imported-shared';

/** A module of `functions` (all returning nothing) over one memory. */
export function wasmModule(functions: WasmFunction[], memory: ModuleMemory = 'own'): Uint8Array<ArrayBuffer> {
  const section = (id: number, bytes: number[]) => [id, ...uleb(bytes.length), ...bytes];
  const text = (s: string) => vec([...new TextEncoder().encode(s)].map((b) => [b]));
  const types = functions.map((f) => [0x60, ...vec(Array<number[]>(f.params).fill([I32])), 0x00]);
  const exports = memory === 'own' ? [[...text('memory'), 0x02, 0]] : [];
  functions.forEach((f, i) => {
    if (f.export !== undefined) exports.push([...text(f.export), 0x00, ...uleb(i)]);
  });
  const code = functions.map((f) => {
    const body = [...vec(f.locals.map(([count, type]) => [...uleb(count), type])), ...f.body, op.end];
    return [...uleb(body.length), ...body];
  });
  // Limits: 0x00 min; 0x01 min max; 0x03 min max, shared. Unit: 64 KiB pages.
  const limits =
    memory === 'imported'
      ? [0x00, ...uleb(0)]
      : memory === 'imported-shared'
        ? [0x03, ...uleb(0), ...uleb(65536)]
        : [0x01, ...uleb(1), ...uleb(65536)];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec(types)),
    ...(memory === 'own' ? [] : section(2, vec([[...text('env'), ...text('memory'), 0x02, ...limits]]))),
    ...section(3, vec(functions.map((_, i) => uleb(i)))),
    ...(memory === 'own' ? section(5, vec([limits])) : []),
    ...section(7, vec(exports)),
    ...section(10, vec(code)),
  ]);
}
