import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../clock';
import { memoryPlanCache, tunePlan, type CaseTimer, type PlanCache, type TuneCase, type TuneOptions } from './tune';

const conv = (shapeKey: string, candidates = ['im2col', 'taps', 'patches', 'stock'], staticChoice = 'patches'): TuneCase => ({
  shapeKey,
  op: 'filterGrad',
  layers: [`conv ${shapeKey}`],
  candidates,
  staticChoice,
});

/** A timer that takes `ms[method]` of the injected clock per candidate, and records what it was asked. */
function fakeTimer(clock: ManualClock, ms: Record<string, number>, failures: Record<string, string> = {}) {
  const calls: string[] = [];
  const time: CaseTimer = (c, method) => {
    calls.push(`${c.shapeKey}/${method}`);
    const failure = failures[method];
    if (failure !== undefined) return Promise.reject(new Error(failure));
    const t = ms[method] ?? 1;
    clock.advance(t);
    return Promise.resolve({ ms: t, via: 'wall' });
  };
  return { time, calls };
}

function options(overrides: Partial<TuneOptions> & Pick<TuneOptions, 'cases' | 'time' | 'clock'>): TuneOptions & { logged: string[] } {
  const logged: string[] = [];
  return {
    cache: memoryPlanCache(),
    cacheKey: (c) => `dev|${c.op}|${c.shapeKey}`,
    budgetMs: 3000,
    log: (m) => logged.push(m),
    logged,
    ...overrides,
  };
}

describe('tunePlan', () => {
  it('keeps the fastest candidate of each shape, with every candidate’s time', async () => {
    const clock = new ManualClock();
    const { time } = fakeTimer(clock, { im2col: 4, taps: 2.5, patches: 3, stock: 9 });
    const [choice] = await tunePlan(options({ cases: [conv('a')], time, clock }));
    expect(choice).toMatchObject({ method: 'taps', source: 'tuned', timings: { im2col: 4, taps: 2.5, patches: 3, stock: 9 }, dropped: [] });
  });

  it('a cache hit skips timing, on this or a later page', async () => {
    const clock = new ManualClock();
    const cache = memoryPlanCache();
    const first = fakeTimer(clock, { im2col: 1, taps: 2, patches: 3, stock: 4 });
    await tunePlan(options({ cases: [conv('a')], time: first.time, clock, cache }));
    expect(first.calls).toHaveLength(4);

    const again = fakeTimer(clock, { im2col: 9, taps: 9, patches: 0.5, stock: 9 });
    const [choice] = await tunePlan(options({ cases: [conv('a')], time: again.time, clock, cache }));
    expect(again.calls).toEqual([]);
    expect(choice).toMatchObject({ method: 'im2col', source: 'cached', timings: { im2col: 1 } });
  });

  it('drops a failing candidate with its reason logged, and chooses among the rest', async () => {
    const clock = new ManualClock();
    const { time } = fakeTimer(clock, { im2col: 3, taps: 2, stock: 5 }, { patches: 'disagrees with the static plan by 0.9' });
    const o = options({ cases: [conv('a')], time, clock });
    const [choice] = await tunePlan(o);
    expect(choice?.method).toBe('taps');
    expect(choice?.dropped).toEqual([{ method: 'patches', reason: 'disagrees with the static plan by 0.9' }]);
    expect(choice?.timings).not.toHaveProperty('patches');
    expect(o.logged).toEqual(["kernel plan: filterGrad 'patches' dropped for a: disagrees with the static plan by 0.9"]);
  });

  it('keeps the static choice, uncached, when no candidate runs', async () => {
    const clock = new ManualClock();
    const cache = memoryPlanCache();
    const { time } = fakeTimer(clock, {}, { im2col: 'x', taps: 'x', patches: 'x', stock: 'x' });
    const [choice] = await tunePlan(options({ cases: [conv('a')], time, clock, cache }));
    expect(choice).toMatchObject({ method: 'patches', source: 'static', note: 'no candidate ran' });
    expect(choice?.dropped).toHaveLength(4);
    expect(await cache.get('dev|filterGrad|a')).toBeUndefined();
  });

  it('does not time a shape that has only one formulation', async () => {
    const clock = new ManualClock();
    const { time, calls } = fakeTimer(clock, {});
    const [choice] = await tunePlan(options({ cases: [conv('5x5', ['conv'], 'conv')], time, clock }));
    expect(calls).toEqual([]);
    expect(choice).toMatchObject({ method: 'conv', source: 'static' });
  });

  it('is bounded: no shape is started once the budget is spent, and a shape started is timed to the end', async () => {
    const clock = new ManualClock();
    const cache = memoryPlanCache();
    // 1000 ms per candidate: a ends at 4000 ms, b starts before the 4500 ms budget and ends at 8000, c is not started.
    const { time, calls } = fakeTimer(clock, { im2col: 1000, taps: 1000, patches: 1000, stock: 1000 });
    const choices = await tunePlan(options({ cases: [conv('a'), conv('b'), conv('c')], time, clock, cache, budgetMs: 4500 }));
    expect(calls).toEqual(['a', 'b'].flatMap((s) => ['im2col', 'taps', 'patches', 'stock'].map((m) => `${s}/${m}`)));
    expect(choices.map((c) => c.source)).toEqual(['tuned', 'tuned', 'static']);
    expect(choices[2]).toMatchObject({ method: 'patches', note: 'the tuning time budget was spent before this shape' });
    expect(await cache.get('dev|filterGrad|b')).toBeDefined();
    expect(await cache.get('dev|filterGrad|c')).toBeUndefined();
  });

  it('a cache that fails is logged and tuning goes on without it', async () => {
    const clock = new ManualClock();
    const broken: PlanCache = { get: () => Promise.reject(new Error('quota')), put: () => Promise.reject(new Error('quota')) };
    const { time } = fakeTimer(clock, { im2col: 2, taps: 1, patches: 3, stock: 4 });
    const o = options({ cases: [conv('a')], time, clock, cache: broken });
    const [choice] = await tunePlan(o);
    expect(choice).toMatchObject({ method: 'taps', source: 'tuned' });
    expect(o.logged).toEqual([
      'kernel plan: the cache could not be read (quota); timing instead',
      'kernel plan: the choice could not be cached (quota)',
    ]);
  });

  it('ignores a cached choice the shape can no longer run', async () => {
    const clock = new ManualClock();
    const cache = memoryPlanCache();
    await cache.put('dev|filterGrad|a', { method: 'retired', timings: { retired: 0.1 }, via: 'wall' });
    const { time, calls } = fakeTimer(clock, { im2col: 2, taps: 1, patches: 3, stock: 4 });
    const [choice] = await tunePlan(options({ cases: [conv('a')], time, clock, cache }));
    expect(calls).toHaveLength(4);
    expect(choice).toMatchObject({ method: 'taps', source: 'tuned' });
  });
});
