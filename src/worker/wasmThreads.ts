/**
 * How many threads the WASM backend runs, decided before it starts, and the
 * words that say so on the page.
 *
 * The threaded build needs SharedArrayBuffer, which browsers offer only to
 * cross-origin isolated pages (COOP `same-origin` + COEP `require-corp` or
 * `credentialless`, see docs/hosting.md). tfjs 4.22 would size its pool at
 * half the logical cores; the build patches that cap away
 * (build/vite-plugin-wasm-threads.ts), and we keep every logical core busy with
 * threads and, where there are several cores, workers training together.
 */
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { ISOLATED_BY_SERVICE_WORKER, type Isolation } from '../isolation/isolate';

/**
 * Most threads we ask for. tfjs-backend-wasm 4.22 starts 8 pthread workers
 * up front and caps its pool at 8 in its C++, so more would not run anyway.
 */
export const MAX_WASM_THREADS = 8;

/** What the scope offers, read from the worker's globals (a parameter so that tests can pass their own). */
export interface ThreadEnvironment {
  crossOriginIsolated: boolean;
  hardwareConcurrency: number;
  /** How the page came to be isolated, or why not, as the page found out (src/isolation/); null where unknown. */
  isolation?: Isolation | null;
}

export function currentThreadEnvironment(isolation: Isolation | null = null): ThreadEnvironment {
  const scope = globalThis as { crossOriginIsolated?: boolean; navigator?: { hardwareConcurrency?: number } };
  return {
    crossOriginIsolated: scope.crossOriginIsolated === true,
    hardwareConcurrency: scope.navigator?.hardwareConcurrency ?? 1,
    isolation,
  };
}

/**
 * Most workers training one model together (data parallelism, see
 * src/train/replicas.ts). On 2 cores two workers of one thread reached 1.56–1.72×
 * one thread's images/s, where two threads in one worker reached 1.39–1.51×
 * (README, "WASM"). More than two were not measured (this machine has two
 * cores), and each worker's share of a batch shrinks (64 / 2 = 32 images per
 * BatchNorm batch), so larger machines give each worker more threads instead.
 */
export const MAX_WASM_WORKERS = 2;

/** `threads` per worker, `workers` training together (the trainer worker included). */
export type WasmThreadPlan =
  | { threads: number; workers: number; reason: null; isolatedBy?: 'headers' | 'service-worker' }
  | { threads: 1; workers: 1; reason: string };

/** What a caller may ask for instead of the default plan. */
export interface WasmRequest {
  /** Threads in one worker, no others (the benchmark's A/B runs). */
  threads?: number;
  /** Workers training together (the page's `?workers=`), each with an equal share of the cores as threads. */
  workers?: number;
}

/**
 * Every logical core busy: MAX_WASM_WORKERS workers where there are that many
 * cores (or as many as asked for), each with an equal share of the cores as
 * threads (at least 1, at most MAX_WASM_THREADS); or the threads asked for in
 * one worker. One thread, with the reason, where the page is not isolated.
 */
export function planWasmThreads(env: ThreadEnvironment, request: WasmRequest = {}): WasmThreadPlan {
  if (!env.crossOriginIsolated) {
    const why =
      env.isolation?.by === null
        ? env.isolation.why
        : 'its server sends no Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp headers';
    return {
      threads: 1,
      workers: 1,
      reason: `the page is not cross-origin isolated (${why}), so the browser offers no shared memory for threads`,
    };
  }
  const isolatedBy = env.isolation?.by ?? undefined;
  const cores = Math.max(1, Math.floor(env.hardwareConcurrency));
  const whole = (n: number, what: string) => {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`A WASM ${what} count must be a whole number ≥ 1, got ${n}`);
    return n;
  };
  if (request.threads !== undefined)
    return { threads: Math.min(whole(request.threads, 'thread'), MAX_WASM_THREADS), workers: 1, reason: null, isolatedBy };
  const workers =
    request.workers !== undefined ? Math.min(whole(request.workers, 'worker'), MAX_WASM_THREADS) : Math.min(cores, MAX_WASM_WORKERS);
  return { threads: Math.max(1, Math.min(Math.floor(cores / workers), MAX_WASM_THREADS)), workers, reason: null, isolatedBy };
}

/**
 * Sets up the threads before `tf.setBackend('wasm')` (tfjs reads the count once,
 * when the backend starts). Returns the plan, for `describeWasm` afterwards.
 */
export function prepareWasmThreads(request: WasmRequest = {}, env: ThreadEnvironment = currentThreadEnvironment()): WasmThreadPlan {
  const plan = planWasmThreads(env, request);
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
  const threads = `${running} ${running === 1 ? 'thread' : 'threads'}`;
  const asked = running !== plan.threads ? ` (${plan.threads} asked for)` : '';
  const line = plan.workers > 1 ? `${simd}, ${plan.workers} workers × ${threads}${asked}` : `${simd}, ${threads}${asked}`;
  return plan.isolatedBy === 'service-worker' ? `${line}; ${ISOLATED_BY_SERVICE_WORKER}` : line;
}
