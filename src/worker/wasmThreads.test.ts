import { describe, expect, it } from 'vitest';
import { MAX_WASM_THREADS, MAX_WASM_WORKERS, planWasmThreads } from './wasmThreads';

describe('planWasmThreads', () => {
  it('keeps every logical core busy on an isolated page: two workers where there are two cores, their threads sharing the rest', () => {
    expect(planWasmThreads({ crossOriginIsolated: true, hardwareConcurrency: 1 })).toEqual({ threads: 1, workers: 1, reason: null });
    expect(planWasmThreads({ crossOriginIsolated: true, hardwareConcurrency: 2 })).toEqual({ threads: 1, workers: 2, reason: null });
    expect(planWasmThreads({ crossOriginIsolated: true, hardwareConcurrency: 8 })).toEqual({ threads: 4, workers: 2, reason: null });
    expect(planWasmThreads({ crossOriginIsolated: true, hardwareConcurrency: 5 })).toEqual({ threads: 2, workers: 2, reason: null });
    expect(MAX_WASM_WORKERS).toBe(2);
  });

  it('stops at the pool tfjs starts', () => {
    expect(planWasmThreads({ crossOriginIsolated: true, hardwareConcurrency: 32 }).threads).toBe(MAX_WASM_THREADS);
    expect(planWasmThreads({ crossOriginIsolated: true, hardwareConcurrency: 32 }, { threads: 12 }).threads).toBe(MAX_WASM_THREADS);
  });

  it('takes a requested thread count in one worker, for A/B runs', () => {
    expect(planWasmThreads({ crossOriginIsolated: true, hardwareConcurrency: 4 }, { threads: 1 })).toEqual({
      threads: 1,
      workers: 1,
      reason: null,
    });
    expect(() => planWasmThreads({ crossOriginIsolated: true, hardwareConcurrency: 4 }, { threads: 0 })).toThrow(RangeError);
    expect(() => planWasmThreads({ crossOriginIsolated: true, hardwareConcurrency: 4 }, { threads: 1.5 })).toThrow(RangeError);
  });

  it('takes a requested worker count, sharing the cores among them as threads', () => {
    const isolated = (cores: number) => ({ crossOriginIsolated: true, hardwareConcurrency: cores });
    expect(planWasmThreads(isolated(2), { workers: 1 })).toEqual({ threads: 2, workers: 1, reason: null });
    expect(planWasmThreads(isolated(8), { workers: 4 })).toEqual({ threads: 2, workers: 4, reason: null });
    expect(planWasmThreads(isolated(2), { workers: 4 })).toEqual({ threads: 1, workers: 4, reason: null });
    expect(planWasmThreads(isolated(64), { workers: 100 }).workers).toBe(MAX_WASM_THREADS);
    expect(() => planWasmThreads(isolated(4), { workers: 0 })).toThrow(RangeError);
  });

  it('runs one thread and says why when the page is not cross-origin isolated', () => {
    const plan = planWasmThreads({ crossOriginIsolated: false, hardwareConcurrency: 8 }, { workers: 4 });
    expect(plan.threads).toBe(1);
    expect(plan.workers).toBe(1);
    expect(plan.reason).toMatch(/not cross-origin isolated.*Cross-Origin-Opener-Policy: same-origin.*Cross-Origin-Embedder-Policy/);
  });

  it('carries which way the page was isolated, and gives the page’s own reason where it was not', () => {
    const byWorker = planWasmThreads({ crossOriginIsolated: true, hardwareConcurrency: 2, isolation: { by: 'service-worker' } });
    expect(byWorker).toEqual({ threads: 1, workers: 2, reason: null, isolatedBy: 'service-worker' });
    const why = 'the server sends no isolation headers, and this browser offers no service worker to add them (a private window?)';
    const plan = planWasmThreads({ crossOriginIsolated: false, hardwareConcurrency: 2, isolation: { by: null, why } });
    expect(plan.reason).toBe(`the page is not cross-origin isolated (${why}), so the browser offers no shared memory for threads`);
  });
});
