/**
 * How many threads the WASM backend runs, decided before it starts, and the
 * words that say so on the page.
 *
 * The threaded build needs SharedArrayBuffer, which browsers offer only to
 * cross-origin isolated pages (COOP `same-origin` + COEP `require-corp` or
 * `credentialless`, see docs/hosting.md). tfjs 4.22 would size its pool at
 * half the logical cores; the build patches that cap away
 * (vite-plugin-wasm-threads.ts), and we ask for one thread per logical core.
 */
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';

/**
 * Most threads we ask for. tfjs-backend-wasm 4.22 starts 8 pthread workers
 * up front and caps its pool at 8 in its C++, so more would not run anyway.
 */
export const MAX_WASM_THREADS = 8;

/** What the scope offers, read from the worker's globals (a parameter so that tests can pass their own). */
export interface ThreadEnvironment {
  crossOriginIsolated: boolean;
  hardwareConcurrency: number;
}

export function currentThreadEnvironment(): ThreadEnvironment {
  const scope = globalThis as { crossOriginIsolated?: boolean; navigator?: { hardwareConcurrency?: number } };
  return { crossOriginIsolated: scope.crossOriginIsolated === true, hardwareConcurrency: scope.navigator?.hardwareConcurrency ?? 1 };
}

export type WasmThreadPlan = { threads: number; reason: null } | { threads: 1; reason: string };

/**
 * One thread per logical core (at most MAX_WASM_THREADS), or `requested`
 * (for A/B runs of the benchmark); one thread, with the reason, where the
 * page is not isolated.
 */
export function planWasmThreads(env: ThreadEnvironment, requested?: number): WasmThreadPlan {
  if (!env.crossOriginIsolated) {
    return {
      threads: 1,
      reason:
        'the page is not cross-origin isolated (its server sends no Cross-Origin-Opener-Policy: same-origin and ' +
        'Cross-Origin-Embedder-Policy: require-corp headers), so the browser offers no shared memory for threads',
    };
  }
  const cores = Math.max(1, Math.floor(env.hardwareConcurrency));
  const wanted = requested ?? cores;
  if (!Number.isInteger(wanted) || wanted < 1) throw new RangeError(`A WASM thread count must be a whole number ≥ 1, got ${wanted}`);
  return { threads: Math.min(wanted, MAX_WASM_THREADS), reason: null };
}

/**
 * Sets up the threads before `tf.setBackend('wasm')` (tfjs reads the count once,
 * when the backend starts). Returns the plan, for `describeWasm` afterwards.
 */
export function prepareWasmThreads(requested?: number, env: ThreadEnvironment = currentThreadEnvironment()): WasmThreadPlan {
  const plan = planWasmThreads(env, requested);
  // Without isolation tfjs's own probe already finds no SharedArrayBuffer; said
  // explicitly so that the single-threaded build is chosen for a known reason.
  if (plan.reason !== null) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  setThreadsCount(plan.threads);
  return plan;
}

/** The backend line's words, read after the backend started: SIMD or not, and the threads really running. */
export function describeWasm(plan: WasmThreadPlan): string {
  const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT') ? 'SIMD' : 'no SIMD';
  if (plan.reason !== null) return `${simd}, single-threaded: ${plan.reason}`;
  if (!tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT')) return `${simd}, single-threaded: this browser's WebAssembly has no threads`;
  const running = getThreadsCount();
  if (running !== plan.threads) return `${simd}, ${running} ${running === 1 ? 'thread' : 'threads'} (${plan.threads} asked for)`;
  return `${simd}, ${running} ${running === 1 ? 'thread' : 'threads'}`;
}
