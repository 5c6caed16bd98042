import { describe, expect, it } from 'vitest';
import { MAX_WASM_THREADS, planWasmThreads } from './wasmThreads';

describe('planWasmThreads', () => {
  it('asks for one thread per logical core on an isolated page', () => {
    expect(planWasmThreads({ crossOriginIsolated: true, hardwareConcurrency: 2 })).toEqual({ threads: 2, reason: null });
    expect(planWasmThreads({ crossOriginIsolated: true, hardwareConcurrency: 1 })).toEqual({ threads: 1, reason: null });
  });

  it('stops at the pool tfjs starts', () => {
    expect(planWasmThreads({ crossOriginIsolated: true, hardwareConcurrency: 32 }).threads).toBe(MAX_WASM_THREADS);
    expect(planWasmThreads({ crossOriginIsolated: true, hardwareConcurrency: 32 }, 12).threads).toBe(MAX_WASM_THREADS);
  });

  it('takes a requested count, for A/B runs', () => {
    expect(planWasmThreads({ crossOriginIsolated: true, hardwareConcurrency: 4 }, 1)).toEqual({ threads: 1, reason: null });
    expect(() => planWasmThreads({ crossOriginIsolated: true, hardwareConcurrency: 4 }, 0)).toThrow(RangeError);
    expect(() => planWasmThreads({ crossOriginIsolated: true, hardwareConcurrency: 4 }, 1.5)).toThrow(RangeError);
  });

  it('runs one thread and says why when the page is not cross-origin isolated', () => {
    const plan = planWasmThreads({ crossOriginIsolated: false, hardwareConcurrency: 8 }, 4);
    expect(plan.threads).toBe(1);
    expect(plan.reason).toMatch(/not cross-origin isolated.*Cross-Origin-Opener-Policy: same-origin.*Cross-Origin-Embedder-Policy/);
  });
});
