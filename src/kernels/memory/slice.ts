// Slice (kernel `Slice`) in JavaScript over the wasm heap, a row at a time.
//
// Why: our im2col weight gradient cuts the kh·kw shifted windows out of the
// padded input (see conv/filter-grad.ts). tfjs-backend-wasm 4.22 does a
// slice that is not one contiguous block with a loop that computes every
// element's source offset anew: ~20 ns per element here, 39 ms for one
// [64, 32, 32, 32] window. Copying the runs along the innermost sliced axes
// does the same in a fraction of that.
import { util } from '@tensorflow/tfjs';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { hasHeap } from '../backend/wasm-heap';

/** Below this many output elements the stock kernel is as fast. */
const MIN_ELEMENTS = 1 << 14;
/** Runs at least this long are copied with TypedArray.set; shorter ones element by element (no subarray objects). */
const LONG_RUN = 256;

const at = (values: readonly number[], i: number) => values[i] as number;

/**
 * out = x[begin … begin + size) of a rank-4 `shape`. Runs are contiguous from
 * the innermost axis the slice cuts (k) inwards: size[k] times the whole axes
 * inside it; the axes outside k are looped over.
 */
export function slice4(
  x: Float32Array | Int32Array,
  shape: readonly number[],
  begin: readonly number[],
  size: readonly number[],
  out: Float32Array | Int32Array,
): void {
  const strides = [at(shape, 1) * at(shape, 2) * at(shape, 3), at(shape, 2) * at(shape, 3), at(shape, 3), 1];
  let k = 3;
  while (k > 0 && at(size, k) === at(shape, k)) k--;
  const run = at(size, k) * at(strides, k);
  const start = at(begin, k) * at(strides, k);
  const loops = [0, 1, 2].map((a) => (a < k ? at(size, a) : 1));
  let o = 0;
  for (let a = 0; a < at(loops, 0); a++)
    for (let b = 0; b < at(loops, 1); b++)
      for (let c = 0; c < at(loops, 2); c++) {
        let from = start;
        if (k > 0) from += (at(begin, 0) + a) * at(strides, 0);
        if (k > 1) from += (at(begin, 1) + b) * at(strides, 1);
        if (k > 2) from += (at(begin, 2) + c) * at(strides, 2);
        if (run >= LONG_RUN) out.set(x.subarray(from, from + run), o);
        else for (let i = 0; i < run; i++) out[o + i] = x[from + i] as number;
        o += run;
      }
}

/** A Slice kernelFunc: ours for float32 and int32 tensors of rank ≤ 4 in the wasm heap, `stock` otherwise. */
export function makeSlice(stock: KernelFunc): KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const attrs = args.attrs as unknown as { begin: number | number[]; size: number | number[] };
    const { backend } = args;
    if (!hasHeap(backend) || x.shape.length > 4 || (x.dtype !== 'float32' && x.dtype !== 'int32')) return stock(args);
    const [begin, size] = sliceParams(x.shape, attrs.begin, attrs.size);
    if (util.sizeFromShape(size) < MIN_ELEMENTS) return stock(args);
    const pad = 4 - x.shape.length;
    const ones = new Array<number>(pad).fill(1);
    const out = backend.makeOutput(size, x.dtype);
    // After allocating: a heap that grew would leave earlier views stale.
    slice4(
      backend.typedArrayFromHeap(x),
      [...ones, ...x.shape],
      [...ones.map(() => 0), ...begin],
      [...ones, ...size],
      backend.typedArrayFromHeap(out),
    );
    return out;
  };
}

/** begin and size as tfjs's slice op resolves them: numbers for every axis, −1 meaning "to the end". */
function sliceParams(shape: readonly number[], begin: number | number[], size: number | number[]): [number[], number[]] {
  const b = shape.map((_, i) => (Array.isArray(begin) ? (begin[i] ?? 0) : i === 0 ? begin : 0));
  const s = shape.map((dim, i) => {
    const given = Array.isArray(size) ? size[i] : i === 0 ? size : undefined;
    return given === undefined || given === -1 ? dim - at(b, i) : given;
  });
  return [b, s];
}
