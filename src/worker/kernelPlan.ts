/**
 * Before a run, the convolution formulations for this device: timed on a
 * hardware GPU the first time (src/kernels/tuning/tune.ts), from IndexedDB
 * after that, and the static plan where timing would mislead (a software
 * renderer, a CPU backend) or where the page asked for it (`?tune=off`).
 */
import * as tf from '@tensorflow/tfjs';
import { systemClock, type Clock } from '../clock';
import { idbPlanCache } from '../store/kernelPlans';
import {
  clearPlan,
  convCases,
  deviceCaseTimer,
  memoryPlanCache,
  setPlanChoice,
  tunePlan,
  TUNABLE_RULES,
  kernelsInUse,
  wasmConvolutionsInWords,
} from '../kernels';
import type { CaseChoice, PlanCache } from '../kernels';
import type { BackendInfo, KernelPlanReport, TuneMode } from './protocol';

const TUNING = Object.freeze({
  /** No new shape is timed after this long, so the first run on a device waits a few seconds at most. Unit: ms. */
  budgetMs: 3000,
  /** Timed calls per candidate after its first (untimed, answer-checked) call. */
  reps: 3,
  /** Max relative error against the static plan's answer for a candidate to count (float32 sums of up to ~10⁵ products). */
  tolerance: 1e-3,
  /** Bump when a formulation changes, so every device times again instead of trusting old choices. */
  version: 1,
});

export class KernelPlanner {
  /** IndexedDB once the worker's storage is open; until then, and without it, a cache for this page only. */
  private cache: PlanCache = memoryPlanCache();

  constructor(private readonly clock: Clock = systemClock) {}

  attach(db: IDBDatabase | null): void {
    if (db) this.cache = idbPlanCache(db);
  }

  /** Sets the formulations `model`'s training step will use on the active backend, and says how they were chosen. */
  async prepare(model: tf.LayersModel, batchSize: number, backend: BackendInfo, mode: TuneMode): Promise<KernelPlanReport> {
    clearPlan(backend.name);
    const report = (status: KernelPlanReport['status'], reason: string, ms: number, choices: CaseChoice[]): KernelPlanReport => ({
      backend: backend.name,
      adapter: backend.adapter,
      status,
      reason,
      ms,
      choices,
      ours: kernelsInUse(backend.name),
    });
    const rules = backend.name === 'webgpu' || backend.name === 'webgl' ? TUNABLE_RULES[backend.name] : undefined;
    if (rules === undefined) {
      const convolutions = backend.name === 'wasm' ? `; ${wasmConvolutionsInWords(tf.backend())}` : '';
      return report('static', `${backend.name} runs on the CPU, where the static plan was measured${convolutions}`, 0, []);
    }
    const { cases, calls } = convCases(model, batchSize, backend.name, rules);
    const staticChoices = cases.map(({ shapeKey, op, layers, staticChoice }): CaseChoice => ({
      shapeKey,
      op,
      layers,
      method: staticChoice,
      source: 'static',
      timings: {},
      dropped: [],
    }));
    if (mode === 'off') return report('static', 'tuning is off (?tune=off)', 0, staticChoices);
    if (backend.software && mode !== 'on')
      return report(
        'static',
        `the adapter is a software renderer (${backend.adapter}), whose timings say nothing about a GPU (?tune=on times it anyway)`,
        0,
        staticChoices,
      );

    const start = this.clock.now();
    const timer = deviceCaseTimer(backend.name, calls, { clock: this.clock, reps: TUNING.reps, tolerance: TUNING.tolerance });
    let choices: CaseChoice[];
    try {
      choices = await tunePlan({
        cases,
        time: timer.time,
        cache: this.cache,
        cacheKey: (c) => `v${TUNING.version}|${backend.name}|${backend.adapter}|${c.op}|${c.shapeKey}`,
        clock: this.clock,
        budgetMs: TUNING.budgetMs,
        log: (message) => console.warn(message),
      });
    } catch (error) {
      clearPlan(backend.name);
      return report('static', `tuning failed (${error instanceof Error ? error.message : String(error)})`, 0, staticChoices);
    } finally {
      timer.dispose();
    }
    for (const c of choices) if (c.source !== 'static') setPlanChoice(backend.name, c.shapeKey, c.op, c.method);
    const ms = this.clock.now() - start;
    return report(choices.some((c) => c.source !== 'static') ? 'tuned' : 'static', summarize(choices, ms), ms, choices);
  }
}

function summarize(choices: CaseChoice[], ms: number): string {
  const count = (source: CaseChoice['source']) => choices.filter((c) => c.source === source).length;
  const parts = [
    count('tuned') > 0 ? `${count('tuned')} timed on this device in ${(ms / 1000).toFixed(1)} s` : '',
    count('cached') > 0 ? `${count('cached')} from this device's earlier timing` : '',
    count('static') > 0 ? `${count('static')} static` : '',
  ].filter(Boolean);
  return `${choices.length} convolution kernels: ${parts.join(', ')}`;
}
