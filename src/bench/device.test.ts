import { describe, expect, it } from 'vitest';
import { DEVICE_BENCH_DEFAULTS, benchmarkDevice, deviceCompareJob, parseDeviceBenchOptions } from './device';
import type { CompareJob, CompareResult, TrainTiming } from './protocol';

describe('device benchmark options', () => {
  it('defaults to the seed preset at batch 64 on WebGPU, WebGL and WASM', () => {
    expect(parseDeviceBenchOptions('')).toEqual({
      preset: 'seed',
      batchSize: 64,
      steps: 10,
      backends: ['webgpu', 'webgl', 'wasm'],
      tune: 'auto',
    });
    expect(DEVICE_BENCH_DEFAULTS.backends).not.toContain('cpu');
  });

  it('reads the URL and refuses what it does not know, naming it', () => {
    expect(parseDeviceBenchOptions('?preset=tiny&batchSize=8&steps=1&backends=wasm,webgpu&tune=on')).toEqual({
      preset: 'tiny',
      batchSize: 8,
      steps: 1,
      backends: ['wasm', 'webgpu'],
      tune: 'on',
    });
    expect(() => parseDeviceBenchOptions('?tune=always')).toThrow('tune must be one of auto, on, off, got "always"');
    expect(() => parseDeviceBenchOptions('?steps=0')).toThrow(/steps must be a whole number/);
    expect(() => parseDeviceBenchOptions('?batchSize=2.5')).toThrow(/batchSize/);
    expect(() => parseDeviceBenchOptions('?preset=huge')).toThrow(/preset must be one of/);
    expect(() => parseDeviceBenchOptions('?backends=webgpu,metal')).toThrow(/backends must be/);
    expect(() => parseDeviceBenchOptions('?speed=fast')).toThrow('Unknown benchmark setting "speed"');
  });
});

const timing = (job: CompareJob['runs'][number], msPerStep: number, error?: string): TrainTiming => ({
  job,
  firstStepMs: 100,
  warmupMs: null,
  steps: 2,
  msPerStep,
  lastLoss: 2.3,
  gatherMsPerStep: 0,
  fastestRoundMsPerStep: msPerStep,
  roundMsPerStep: [msPerStep],
  oursFilterGradient: job.mode === 'ours',
  registered: [],
  adapter: `${job.backend} adapter`,
  ...(error ? { error } : {}),
});

describe('benchmarkDevice', () => {
  it('compares ours with the baseline on each backend in turn and reports the speedup, or none where one could not train', async () => {
    const jobs: CompareJob[] = [];
    const compare = async (job: CompareJob): Promise<CompareResult> => {
      jobs.push(job);
      const [ours, baseline] = job.runs as [CompareJob['runs'][number], CompareJob['runs'][number]];
      return job.runs[0]?.backend === 'wasm'
        ? { kind: 'compare', runs: [timing(ours, 50), timing(baseline, Number.NaN, 'Kernel not registered')] }
        : { kind: 'compare', runs: [timing(ours, 100), timing(baseline, 250)] };
    };
    const options = parseDeviceBenchOptions('?preset=tiny&steps=3&backends=webgpu,wasm');
    const about = { date: '2026-12-02T00:00:00.000Z', userAgent: 'test', cores: 2 };
    const report = await benchmarkDevice(options, compare, about);

    expect(jobs).toEqual([deviceCompareJob(options, 'webgpu'), deviceCompareJob(options, 'wasm')]);
    expect(jobs[0]?.runs.map((r) => r.mode)).toEqual(['ours', 'baseline']);
    expect(jobs[0]).toMatchObject({ rounds: 3, warmupSteps: 1, profile: true });
    expect(report).toMatchObject({ kind: 'cifar10-device-bench', version: 1, cores: 2, options });
    expect(report.results.map((r) => [r.backend, r.adapter, r.speedup])).toEqual([
      ['webgpu', 'webgpu adapter', 2.5],
      ['wasm', 'wasm adapter', null],
    ]);
  });
});
