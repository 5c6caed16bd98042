// Tile as plain JavaScript over the backend's memory (generic readSync/write),
// for wasm.
//
// Why: BatchNorm's gradient in tfjs-core tiles its per-channel vectors to the
// activation's full shape, and tfjs-backend-wasm 4.22's Tile computes every
// output element's source index separately: 120 ms for [1,1,1,32] →
// [64,32,32,32] (2 M floats) — the single largest kernel of a wasm training
// step of the seed network (417 of ~1,600 ms, tf.profile, batch 64). Copying
// whole blocks and doubling them with copyWithin takes 3–4 ms for the same.
// Composing it from other kernels would need one Concat per doubling, each
// a JS loop over the output too, for nothing over this.
import type { DataType, KernelBackend, KernelFunc, TensorInfo } from '@tensorflow/tfjs';

type Numeric = Float32Array | Int32Array | Uint8Array;

/** `src` (shape `shape`) tiled `reps` times per axis; axes are expanded innermost first. */
export function tileValues(src: Numeric, shape: readonly number[], reps: readonly number[]): Numeric {
  let cur = src;
  const curShape = [...shape];
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    const r = reps[axis] ?? 1;
    if (r === 1) continue;
    let outer = 1;
    for (let i = 0; i < axis; i++) outer *= curShape[i] ?? 1;
    const block = cur.length / Math.max(outer, 1);
    const next = new (cur.constructor as new (n: number) => Numeric)(cur.length * r);
    if (block > 0) {
      for (let o = 0; o < outer; o++) {
        const start = o * block * r;
        next.set(cur.subarray(o * block, (o + 1) * block), start);
        let filled = block;
        while (filled < block * r) {
          const n = Math.min(filled, block * r - filled);
          next.copyWithin(start + filled, start, start + n);
          filled += n;
        }
      }
    }
    cur = next;
    curShape[axis] = (curShape[axis] ?? 1) * r;
  }
  return cur === src ? src.slice() : cur;
}

/** A Tile kernelFunc that runs ours for numeric dtypes and `stock` for strings. */
export function makeTile(stock: KernelFunc | undefined): KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const { reps } = args.attrs as unknown as { reps: number[] };
    if (x.dtype === 'string' || x.dtype === 'complex64') {
      if (stock === undefined) throw new Error(`Tile of ${x.dtype} needs the backend's own kernel, which is missing`);
      return stock(args);
    }
    const backend = args.backend as KernelBackend;
    const values = tileValues(backend.readSync(x.dataId) as Numeric, x.shape, reps);
    const shape = x.shape.map((s, i) => s * (reps[i] ?? 1));
    return { dataId: backend.write(values, shape, x.dtype as DataType), shape, dtype: x.dtype };
  };
}
