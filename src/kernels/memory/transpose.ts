// Transpose (kernel `Transpose`) in JavaScript over the wasm heap, in tiles.
//
// Why: our weight gradient turns x [B, H, W, C] into [C, H, W, B] (see
// conv/filter-grad.ts), once per convolution per step. tfjs-backend-wasm
// 4.22's Transpose walks the output in order and computes each element's
// source offset, so for that permutation every read lands 128 KB from the
// previous one (batch 64, 32×32×32) and misses the cache. Going through the
// tensor in 16×16 tiles of the two axes that are innermost in the input and in
// the output reads and writes whole cache lines. Where the innermost axis
// stays innermost, the stock kernel already reads and writes rows in order and
// keeps the call.
import { util } from '@tensorflow/tfjs';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { hasHeap } from '../backend/wasm-heap';

const TILE = 16;
/** Below this many elements the stock kernel is as fast and ours is not worth a call. */
export const MIN_ELEMENTS = 1 << 14;

/** `perm` and `shape` padded in front to rank 4 (leading axes of size 1 keep their place). */
function toRank4(shape: readonly number[], perm: readonly number[]): { shape: number[]; perm: number[] } {
  const pad = 4 - shape.length;
  return {
    shape: [...new Array<number>(pad).fill(1), ...shape],
    perm: [...Array.from({ length: pad }, (_, i) => i), ...perm.map((p) => p + pad)],
  };
}

const at = (values: readonly number[], i: number) => values[i] as number;

/** Row-major strides of a rank-4 shape. */
const strides4 = (shape: readonly number[]) => [at(shape, 1) * at(shape, 2) * at(shape, 3), at(shape, 2) * at(shape, 3), at(shape, 3), 1];

/** out = x transposed by `perm`, both dense row-major arrays of a rank-4 `shape` (before the permutation). */
export function transpose4(
  x: Float32Array | Int32Array,
  shape: readonly number[],
  perm: readonly number[],
  out: Float32Array | Int32Array,
): void {
  const inStrides = strides4(shape);
  const outStrides = strides4(perm.map((p) => at(shape, p)));
  // Stride in the output of each input axis.
  const outStrideOf = [0, 0, 0, 0];
  perm.forEach((p, i) => (outStrideOf[p] = at(outStrides, i)));
  const inner = 3; // the input's innermost axis
  const outer = at(perm, 3); // the input axis that is innermost in the output
  if (outer === inner) throw new Error('transpose4: the innermost axis stays innermost; the stock kernel copies those rows');
  // The other two input axes are looped over outside the tiles.
  const [p, q] = [0, 1, 2].filter((axis) => axis !== outer) as [number, number];
  const nI = at(shape, inner);
  const nO = at(shape, outer);
  const inO = at(inStrides, outer);
  const outI = at(outStrideOf, inner);
  for (let ip = 0; ip < at(shape, p); ip++) {
    for (let iq = 0; iq < at(shape, q); iq++) {
      const inBase = ip * at(inStrides, p) + iq * at(inStrides, q);
      const outBase = ip * at(outStrideOf, p) + iq * at(outStrideOf, q);
      for (let o0 = 0; o0 < nO; o0 += TILE) {
        const o1 = Math.min(nO, o0 + TILE);
        for (let i0 = 0; i0 < nI; i0 += TILE) {
          const i1 = Math.min(nI, i0 + TILE);
          for (let i = i0; i < i1; i++) {
            const dst = outBase + i * outI;
            for (let o = o0; o < o1; o++) out[dst + o] = x[inBase + o * inO + i] as number;
          }
        }
      }
    }
  }
}

/** A Transpose kernelFunc: ours for float32 and int32 tensors of rank ≤ 4 in the wasm heap, `stock` otherwise. */
export function makeTranspose(stock: KernelFunc): KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const { perm } = args.attrs as unknown as { perm: number[] };
    const { backend } = args;
    if (
      !hasHeap(backend) ||
      x.shape.length > 4 ||
      (x.dtype !== 'float32' && x.dtype !== 'int32') ||
      util.sizeFromShape(x.shape) < MIN_ELEMENTS ||
      perm[perm.length - 1] === perm.length - 1
    )
      return stock(args);
    const r4 = toRank4(x.shape, perm);
    const out = backend.makeOutput(
      perm.map((p) => at(x.shape, p)),
      x.dtype,
    );
    // After allocating: a heap that grew would leave earlier views stale.
    transpose4(backend.typedArrayFromHeap(x), r4.shape, r4.perm, backend.typedArrayFromHeap(out));
    return out;
  };
}
