// Chooses a formulation per convolution shape by timing the candidates on the
// device at hand, with a cache so a device is timed once. Pure: the timer, the
// cache and the clock come in from outside (tune-device.ts times on a tfjs
// backend; the unit tests inject fakes), so what wins is testable on any machine.
//
// Why time at all: the static rules in ../conv/rules.ts were measured on SwiftShader,
// a CPU, and a real GPU is bound by each dispatch's host cost instead, which
// moves the winners (see README, "WebGPU work per training step").
import type { Clock } from '../../clock';
import type { ConvOp } from './plan';

/** One convolution kernel of one shape whose formulation is to be chosen. */
export interface TuneCase {
  shapeKey: string;
  op: ConvOp;
  /** The layers with this shape, for people reading the plan. */
  layers: string[];
  /** Formulations that can run this call, the static rule's choice among them. */
  candidates: string[];
  staticChoice: string;
}

export interface Measurement {
  /** Per call. Unit: ms. */
  ms: number;
  /** GPU timestamp queries (with the host's encoding time as a floor) or a synchronised wall clock. */
  via: 'timestamp' | 'wall';
}

/** Times one candidate; throws (with a reason) when it cannot run or gives a wrong answer. */
export type CaseTimer = (c: TuneCase, method: string) => Promise<Measurement>;

export interface CachedChoice {
  method: string;
  /** Each timed candidate's ms per call. */
  timings: Record<string, number>;
  via: Measurement['via'];
}

/** Where choices outlive the page (IndexedDB in the app); keys already name the device and the shape. */
export interface PlanCache {
  get(key: string): Promise<CachedChoice | undefined>;
  put(key: string, value: CachedChoice): Promise<void>;
}

export type ChoiceSource = 'tuned' | 'cached' | 'static';

export interface CaseChoice {
  shapeKey: string;
  op: ConvOp;
  layers: string[];
  method: string;
  source: ChoiceSource;
  /** ms per call of each candidate timed (now or when cached). */
  timings: Record<string, number>;
  /** Candidates that failed, and why. */
  dropped: { method: string; reason: string }[];
  /** Why a 'static' choice was not timed. */
  note?: string;
}

export interface TuneOptions {
  cases: TuneCase[];
  time: CaseTimer;
  cache: PlanCache;
  /** The cache key of a case: must name the device, the backend and the kernels' version too. */
  cacheKey: (c: TuneCase) => string;
  clock: Clock;
  /** No new shape is timed once this much time has passed (a shape started is finished). Unit: ms. */
  budgetMs: number;
  /** Where dropped candidates and cache failures are told (console.warn in the app). */
  log: (message: string) => void;
}

/** Each case's choice: from the cache, else the fastest candidate that ran, else the static rule's. */
export async function tunePlan(options: TuneOptions): Promise<CaseChoice[]> {
  const { cases, clock, budgetMs } = options;
  const start = clock.now();
  const spent = () => clock.now() - start >= budgetMs;
  const choices: CaseChoice[] = [];
  for (const c of cases) choices.push(await chooseOne(c, options, spent));
  return choices;
}

async function chooseOne(c: TuneCase, options: TuneOptions, spent: () => boolean): Promise<CaseChoice> {
  const { time, cache, cacheKey, log } = options;
  const base = { shapeKey: c.shapeKey, op: c.op, layers: c.layers };
  const fallback = (note: string, dropped: CaseChoice['dropped'] = []): CaseChoice => ({
    ...base,
    method: c.staticChoice,
    source: 'static',
    timings: {},
    dropped,
    note,
  });
  if (c.candidates.length < 2) return fallback('only one formulation can run this shape');
  const key = cacheKey(c);
  const cached = await cache.get(key).catch((error: unknown) => {
    log(`kernel plan: the cache could not be read (${describe(error)}); timing instead`);
    return undefined;
  });
  if (cached !== undefined && c.candidates.includes(cached.method))
    return { ...base, method: cached.method, source: 'cached', timings: cached.timings, dropped: [] };
  if (spent()) return fallback('the tuning time budget was spent before this shape');

  const timings: Record<string, number> = {};
  const dropped: CaseChoice['dropped'] = [];
  let via: Measurement['via'] = 'wall';
  // A case once started is timed to the end: a choice among some candidates only would not be the fastest.
  for (const method of c.candidates) {
    try {
      const m = await time(c, method);
      if (!Number.isFinite(m.ms) || m.ms < 0) throw new Error(`it timed at ${m.ms} ms`);
      timings[method] = m.ms;
      via = m.via;
    } catch (error) {
      const reason = describe(error);
      dropped.push({ method, reason });
      log(`kernel plan: ${c.op} '${method}' dropped for ${c.shapeKey}: ${reason}`);
    }
  }
  const best = Object.entries(timings).sort((a, b) => a[1] - b[1])[0];
  if (best === undefined) return fallback('no candidate ran', dropped);
  await cache.put(key, { method: best[0], timings, via }).catch((error: unknown) => {
    log(`kernel plan: the choice could not be cached (${describe(error)})`);
  });
  return { ...base, method: best[0], source: 'tuned', timings, dropped };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A cache that lasts as long as the page: used where IndexedDB is not to be had. */
export function memoryPlanCache(): PlanCache {
  const entries = new Map<string, CachedChoice>();
  return {
    get: (key) => Promise.resolve(entries.get(key)),
    put: (key, value) => {
      entries.set(key, value);
      return Promise.resolve();
    },
  };
}
