import { describe, expect, it } from 'vitest';
import { WasmGemm, gemmModule } from './gemm';

/** A·B the plain way, in float64. */
function reference(a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let p = 0; p < k; p++)
      for (let j = 0; j < n; j++) c[i * n + j] = (c[i * n + j] as number) + (a[i * k + p] as number) * (b[p * n + j] as number);
  return c;
}

const values = (count: number, seed: number) => Float32Array.from({ length: count }, (_, i) => Math.sin(seed + 1.7 * i));

// Sizes that are, and are not, whole tiles (6 rows × 8 columns, k in steps of 2).
const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [6, 2, 8],
  [7, 5, 9],
  [13, 30, 17],
  [60, 27, 32],
];

describe('WasmGemm', () => {
  for (const arith of ['mul-add', 'fma'] as const) {
    it(`${arith}: matches the plain product, whole tiles or not`, () => {
      const gemm = WasmGemm.create(arith);
      // Node 20 compiles relaxed SIMD with the flag vite.config.ts passes to the test workers.
      expect(gemm).not.toBeNull();
      for (const [m, k, n] of SHAPES) {
        const a = values(m * k, m);
        const b = values(k * n, n);
        const got = (gemm as WasmGemm).multiply(a, b, m, k, n);
        const want = reference(a, b, m, k, n);
        expect(got.length).toBe(m * n);
        for (let i = 0; i < got.length; i++) expect(got[i]).toBeCloseTo(want[i] as number, 4);
      }
    });
  }

  it('reuses its memory for a smaller product after a larger one', () => {
    const gemm = WasmGemm.create('mul-add') as WasmGemm;
    gemm.multiply(values(300 * 64, 1), values(64 * 40, 2), 300, 64, 40);
    const a = values(7 * 3, 3);
    const b = values(3 * 5, 4);
    expect(Array.from(gemm.multiply(a, b, 7, 3, 5))).toEqual(Array.from(gemm.multiply(a, b, 7, 3, 5)));
    const want = reference(a, b, 7, 3, 5);
    gemm.multiply(a, b, 7, 3, 5).forEach((v, i) => expect(v).toBeCloseTo(want[i] as number, 5));
  });

  it('refuses inputs whose length does not match the shape', () => {
    const gemm = WasmGemm.create('mul-add') as WasmGemm;
    expect(() => gemm.multiply(new Float32Array(5), new Float32Array(6), 2, 3, 2)).toThrow(/2×3.*3×2/);
  });

  it('the fused module differs from the plain one only in its multiply-adds', () => {
    const fused = gemmModule('fma');
    const plain = gemmModule('mul-add');
    expect(WebAssembly.validate(plain)).toBe(true);
    // 2 halves × 6 rows × 2 unrolled steps: each relaxed_madd (0xfd 0x85 0x02) stands where f32x4.mul, f32x4.add (0xfd 0xe6 0x01 0xfd 0xe4 0x01) were.
    expect(plain.length - fused.length).toBe(24 * 3);
  });
});
