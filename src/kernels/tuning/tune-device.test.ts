// Tuning on the cpu backend, through the same registered kernels and plan table as on a GPU.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../clock';
import { buildModel } from '../../model/model';
import { convShapeKey, clearPlan, planChoice, plannedFilterGradRule, setPlanChoice } from './plan';
import { registerTrainingKernels, TUNABLE_RULES, unregisterTrainingKernels } from '../register';
import { memoryPlanCache, tunePlan } from './tune';
import { convCases, deviceCaseTimer } from './tune-device';
import { backend_util } from '@tensorflow/tfjs';

beforeAll(async () => {
  await tf.setBackend('cpu');
  registerTrainingKernels('cpu');
});
afterAll(() => {
  clearPlan('cpu');
  unregisterTrainingKernels('cpu');
});

const rules = TUNABLE_RULES.cpu;
if (rules === undefined) throw new Error('cpu has tunable rules');

describe('convCases', () => {
  it('lists each trainable Conv2D shape of the seed network once, with the formulations that can run it', () => {
    const model = buildModel({ preset: 'seed', color: 'rgb', seed: 1 });
    const { cases, calls } = convCases(model, 8, 'cpu', rules);
    const convLayers = model.layers.filter((l) => l.getClassName() === 'Conv2D' && l.trainable);
    expect(cases.flatMap((c) => c.layers).sort()).toEqual(convLayers.map((l) => l.name).sort());
    expect(new Set(cases.map((c) => c.shapeKey)).size).toBe(cases.length);
    for (const c of cases) {
      expect(c.op).toBe('filterGrad');
      expect(c.shapeKey.startsWith('8×')).toBe(true);
      expect(c.candidates).toEqual(expect.arrayContaining(['im2col', 'conv', 'stock']));
      expect(c.candidates).toContain(c.staticChoice);
      expect(calls.has(c.shapeKey)).toBe(true);
    }
    model.dispose();
  });
});

describe('deviceCaseTimer', () => {
  it('times each candidate through the plan table, puts the table back, and frees what it made', async () => {
    const model = buildModel({ preset: 'tiny', color: 'rgb', seed: 1 });
    const { cases, calls } = convCases(model, 4, 'cpu', rules);
    const before = tf.memory().numTensors;
    const timer = deviceCaseTimer('cpu', calls, { clock: new ManualClock(1), reps: 2, tolerance: 1e-3 });
    const c = cases[0];
    if (c === undefined) throw new Error('the tiny network has a convolution');
    for (const method of c.candidates) {
      const m = await timer.time(c, method);
      expect(m.via).toBe('wall');
      expect(m.ms).toBeGreaterThan(0);
      expect(planChoice('cpu', c.shapeKey, 'filterGrad')).toBeUndefined();
    }
    timer.dispose();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('drops a candidate whose answer differs from the static plan’s', async () => {
    const model = buildModel({ preset: 'tiny', color: 'rgb', seed: 1 });
    const { cases, calls } = convCases(model, 4, 'cpu', rules);
    // A tolerance below zero makes every answer "differ": the check, not the kernels, is under test.
    const timer = deviceCaseTimer('cpu', calls, { clock: new ManualClock(1), reps: 1, tolerance: -1 });
    const choices = await tunePlan({
      cases: cases.slice(0, 1),
      time: timer.time,
      cache: memoryPlanCache(),
      cacheKey: (c) => c.shapeKey,
      clock: new ManualClock(1),
      budgetMs: 1e9,
      log: () => {},
    });
    timer.dispose();
    expect(choices[0]?.source).toBe('static');
    expect(choices[0]?.dropped.map((d) => d.method)).toEqual(cases[0]?.candidates);
    for (const d of choices[0]?.dropped ?? [])
      expect(d.reason).toMatch(/^its answer differs from the static plan's \(max relative error \d\.\de[-+]\d+\)$/);
    model.dispose();
  });
});

describe('the plan table', () => {
  const info = backend_util.computeConv2DInfo([4, 8, 8, 16], [3, 3, 16, 32], 1, 1, 'same');
  const rule = plannedFilterGradRule('test', () => 'stock');

  it('overrides the static rule for its shape only, and only with a formulation that can run', () => {
    expect(rule(info, ['im2col', 'taps', 'stock'])).toBe('stock');
    setPlanChoice('test', convShapeKey(info), 'filterGrad', 'taps');
    expect(rule(info, ['im2col', 'taps', 'stock'])).toBe('taps');
    expect(rule(info, ['im2col', 'stock'])).toBe('stock');
    const other = backend_util.computeConv2DInfo([8, 8, 8, 16], [3, 3, 16, 32], 1, 1, 'same');
    expect(rule(other, ['im2col', 'taps', 'stock'])).toBe('stock');
    clearPlan('test');
    expect(rule(info, ['im2col', 'taps', 'stock'])).toBe('stock');
  });
});
