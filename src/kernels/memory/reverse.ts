// Reverse (kernel `Reverse`) in JavaScript over the wasm heap, a run at a time.
//
// Why: our input gradient on wasm flips the filter in both spatial axes
// (conv/input-grad.ts). tfjs-backend-wasm 4.22 reverses element by
// element with the index worked out anew for each: 7.3 ms for the seed
// network's [3, 3, 128, 128] filter, 14 ms per step over its six filters
// whatever the batch size, which every data-parallel worker pays in full.
// The axes inside the last reversed one stay in order, so whole runs of
// them are copied at once.
import { util } from '@tensorflow/tfjs';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { hasHeap } from '../backend/wasm-heap';

/** Runs at least this long are copied with TypedArray.set; shorter ones element by element (no subarray objects). */
const LONG_RUN = 64;

const at = (values: readonly number[], i: number) => values[i] as number;

/** out = x of a rank-4 `shape` read backwards along the axes where `reversed` is true. */
export function reverse4(
  x: Float32Array | Int32Array,
  shape: readonly number[],
  reversed: readonly boolean[],
  out: Float32Array | Int32Array,
): void {
  const strides = [at(shape, 1) * at(shape, 2) * at(shape, 3), at(shape, 2) * at(shape, 3), at(shape, 3), 1];
  let k = 3;
  while (k > 0 && !reversed[k]) k--;
  const run = at(strides, k);
  // Axes after k are in the run; axes up to k are looped over, k included.
  const loops = [0, 1, 2, 3].map((a) => (a <= k ? at(shape, a) : 1));
  const source = (axis: number, i: number) => (reversed[axis] ? at(shape, axis) - 1 - i : i) * at(strides, axis);
  let o = 0;
  for (let a = 0; a < at(loops, 0); a++)
    for (let b = 0; b < at(loops, 1); b++)
      for (let c = 0; c < at(loops, 2); c++)
        for (let d = 0; d < at(loops, 3); d++) {
          const from = source(0, a) + source(1, b) + source(2, c) + source(3, d);
          if (run >= LONG_RUN) out.set(x.subarray(from, from + run), o);
          else for (let i = 0; i < run; i++) out[o + i] = x[from + i] as number;
          o += run;
        }
}

/** A Reverse kernelFunc: ours for float32 and int32 tensors of rank ≤ 4 in the wasm heap, `stock` otherwise. */
export function makeReverse(stock: KernelFunc): KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const { dims } = args.attrs as unknown as { dims: number | number[] };
    const { backend } = args;
    if (!hasHeap(backend) || x.shape.length > 4 || x.shape.length === 0 || (x.dtype !== 'float32' && x.dtype !== 'int32')) {
      return stock(args);
    }
    const axes = util.parseAxisParam(dims, x.shape);
    const pad = 4 - x.shape.length;
    const shape = [...new Array<number>(pad).fill(1), ...x.shape];
    const reversed = shape.map((_, i) => i >= pad && axes.includes(i - pad));
    const out = backend.makeOutput(x.shape.slice(), x.dtype);
    // After allocating: a heap that grew would leave earlier views stale.
    reverse4(backend.typedArrayFromHeap(x), shape, reversed, backend.typedArrayFromHeap(out));
    return out;
  };
}
