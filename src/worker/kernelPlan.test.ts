import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock';
import { buildModel } from '../model/model';
import { KernelPlanner } from './kernelPlan';
import type { BackendInfo } from './protocol';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const info = (name: BackendInfo['name'], software: boolean): BackendInfo => ({
  name,
  adapter: software ? 'google / swiftshader' : 'nvidia / ada',
  fallbackReasons: [],
  forced: true,
  software,
});

describe('KernelPlanner', () => {
  const model = buildModel({ preset: 'tiny', color: 'rgb', seed: 1 });
  afterAll(() => model.dispose());

  it('keeps the static plan on a software renderer, listing it, and says how to time anyway', async () => {
    const plan = await new KernelPlanner(new ManualClock(1)).prepare(model, 16, info('webgl', true), 'auto');
    expect(plan.status).toBe('static');
    expect(plan.reason).toBe(
      'the adapter is a software renderer (google / swiftshader), whose timings say nothing about a GPU (?tune=on times it anyway)',
    );
    expect(plan.choices.length).toBeGreaterThan(0);
    for (const c of plan.choices) {
      expect(c.source).toBe('static');
      expect(['im2col', 'im2colNhwc', 'taps', 'conv', 'patches', 'stock']).toContain(c.method);
    }
  });

  it('times nothing when tuning is off, even on a hardware GPU', async () => {
    const plan = await new KernelPlanner(new ManualClock(1)).prepare(model, 16, info('webgl', false), 'off');
    expect(plan).toMatchObject({ status: 'static', reason: 'tuning is off (?tune=off)', ms: 0 });
  });

  it('has nothing to tune on the CPU backends', async () => {
    const plan = await new KernelPlanner(new ManualClock(1)).prepare(model, 16, info('wasm', false), 'on');
    expect(plan).toMatchObject({ status: 'static', choices: [] });
    // This test's tfjs backend is not wasm's, so the words name no thread count.
    expect(plan.reason).toBe(
      "wasm runs on the CPU, where the static plan was measured; convolutions on XNNPACK's kernels (ours runs where a worker has one)",
    );
  });
});
