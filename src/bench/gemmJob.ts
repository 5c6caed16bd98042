/**
 * The seed network's convolutions as the matrix products an im2col
 * formulation makes of them, each timed three ways on one thread: tfjs's
 * matMul (XNNPACK's SIMD128 kernel), and ours (gemm.ts) with and without the
 * relaxed-SIMD fused multiply-add. Forward: patches [B·H·W, 9·Cin] × filter
 * [9·Cin, Cout]; weight gradient: patchesᵀ [9·Cin, B·H·W] × dy [B·H·W, Cout].
 * (The input gradient is a forward product of the same size.)
 */
import * as tf from '@tensorflow/tfjs';
import { randomValues } from '../kernels/testing';
import { WasmGemm } from './gemm';
import { median } from './ops';
import { seedConvShapes, type GemmJob, type GemmRow } from './protocol';

/** ms per call of `f`: one untimed call, then the median of `reps`. */
function timeCalls(reps: number, f: () => void): number {
  f();
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const start = performance.now();
    f();
    times.push(performance.now() - start);
  }
  return median(times);
}

/** Ours compiled once per job: with the fused multiply-add (null where relaxed SIMD is off) and without. */
type Ours = { fma: WasmGemm | null; mulAdd: WasmGemm };

function timeProduct(job: GemmJob, ours: Ours, name: string, m: number, k: number, n: number): GemmRow {
  const a = randomValues(m * k, m);
  const b = randomValues(k * n, n);
  const ta = tf.tensor2d(a, [m, k]);
  const tb = tf.tensor2d(b, [k, n]);
  // WASM kernels run to completion inside the call: the call's time is the product's.
  const tfjs = timeCalls(job.reps, () => tf.matMul(ta, tb).dispose());
  tf.dispose([ta, tb]);
  const time = (gemm: WasmGemm | null) => {
    if (!gemm) return { ms: null, pack: 0 };
    const pack = timeCalls(job.reps, () => gemm.load(a, b, m, k, n));
    return { ms: timeCalls(job.reps, () => gemm.run()), pack };
  };
  const fma = time(ours.fma);
  const mulAdd = time(ours.mulAdd);
  return { name, m, k, n, tfjs, fma: fma.ms, mulAdd: mulAdd.ms as number, pack: mulAdd.pack };
}

export function runGemmJob(job: GemmJob, log: (text: string) => void): GemmRow[] {
  const mulAdd = WasmGemm.create('mul-add');
  if (!mulAdd) throw new Error('This engine cannot compile WebAssembly SIMD; the GEMM job needs it');
  const ours = { fma: WasmGemm.create('fma'), mulAdd };
  const rows: GemmRow[] = [];
  for (const s of seedConvShapes(job.batch)) {
    const pixels = s.batch * s.height * s.width;
    const taps = s.kernel * s.kernel * s.inChannels;
    const layer = `${s.inChannels}→${s.outChannels} ${s.height}²`;
    for (const [part, m, k, n] of [
      ['forward', pixels, taps, s.outChannels],
      ['weight gradient', taps, pixels, s.outChannels],
    ] as const) {
      const row = timeProduct(job, ours, `${layer}, ${part}`, m, k, n);
      log(`${row.name}: tfjs ${row.tfjs.toFixed(1)} ms, ours fma ${row.fma?.toFixed(1) ?? '—'} ms, mul+add ${row.mulAdd.toFixed(1)} ms`);
      rows.push(row);
    }
  }
  return rows;
}
