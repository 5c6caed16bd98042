import { describe, expect, it } from 'vitest';
import { BN_ACT_DISPATCHES, DEFAULT_LIMITS, failures, OUR_MODULES, REPEATS, type WgpuResult } from './report';

const repeated = (e: number) => Array.from({ length: REPEATS }, () => e);

/** A report that passes: default limits, every module of ours compiled cleanly, every check within the bar on every run. */
function passing(): WgpuResult {
  return {
    limits: 'default',
    matmul: 'tfjs',
    deviceLimits: { ...DEFAULT_LIMITS },
    adapter: { vendor: '', architecture: '', device: 'llvmpipe', description: '' },
    errors: { 'adam update': repeated(8e-6), 'tiny training step': repeated(4e-6) },
    digests: {
      'adam update': Array.from({ length: REPEATS }, () => '12:ab12'),
      'tiny training step': Array.from({ length: REPEATS }, () => '0:811c9dc5'),
    },
    bnActDispatches: BN_ACT_DISPATCHES,
    programs: { 'adam update': ['FusedAdam'], 'tiny training step': ['BnStatsProgram', 'MatMulSplitKProgram'] },
    modules: [
      ...OUR_MODULES.map((label) => ({ label, ours: true, errors: [], warnings: [] })),
      { label: 'MatMulPackedProgram', ours: false, errors: [], warnings: ['3:1 unused'] },
    ],
    uncaptured: [],
    controlErrors: ['the type of `x` is expected to be `i32`'],
  };
}

describe('failures', () => {
  it('passes a clean report, TensorFlow.js warnings included', () => {
    expect(failures(passing())).toEqual([]);
  });

  it('fails a check at or over 1e-4 on any run, and a NaN', () => {
    const r = passing();
    r.errors['adam update'] = [8e-6, 1e-4, 8e-6];
    r.errors['cross-entropy'] = repeated(Number.NaN);
    expect(failures(r)).toEqual([
      'adam update: relative error 0.0001 (must be < 0.0001)',
      'cross-entropy: relative error NaN (must be < 0.0001)',
    ]);
  });

  it('fails a check whose result changes from run to run, or that ran too few times', () => {
    const r = passing();
    r.errors['adam update'] = [8e-6, 8e-6, 8.000001e-6];
    r.errors['dropout mask'] = [1e-7];
    expect(failures(r)).toEqual([
      'adam update: not the same on every run (0.000008, 0.000008, 0.000008000001): a race between workgroups?',
      `dropout mask: ran 1 times (${REPEATS} asked)`,
    ]);
  });

  it('fails a check that read back different bits on one run, even with the same largest error', () => {
    const r = passing();
    r.digests['adam update'] = ['12:ab12', '12:ab13', '12:ab12'];
    expect(failures(r)).toEqual([
      'adam update: read back different bits on different runs (12:ab12, 12:ab13, 12:ab12): a race between workgroups?',
    ]);
  });

  it("lets the bits change between runs of a check that runs TensorFlow.js's split-K matmul (atomic adds), not of any other", () => {
    const r = passing();
    r.digests['tiny training step'] = ['30:1', '30:2', '30:3'];
    expect(failures(r)).toEqual([]);
    r.programs['tiny training step'] = ['BnStatsProgram'];
    expect(failures(r)).toEqual([
      'tiny training step: read back different bits on different runs (30:1, 30:2, 30:3): a race between workgroups?',
    ]);
  });

  it('fails when no check ran, or a kernel of ours was never compiled', () => {
    const r = passing();
    r.errors = {};
    r.modules = r.modules.filter((m) => m.label !== 'FusedMomentum');
    expect(failures(r)).toEqual(['no fused check ran', 'FusedMomentum was never compiled: no check ran it']);
  });

  it('fails on a warning of ours, an error of anyone, and a device error', () => {
    const r = passing();
    r.modules.push({ label: 'DropoutProgram', ours: true, errors: [], warnings: ['4:2 unreachable'] });
    r.modules.push({ label: 'Conv2DMMProgram', ours: false, errors: ['1:1 bad'], warnings: [] });
    r.uncaptured.push('buffer too small');
    expect(failures(r)).toEqual([
      'DropoutProgram: naga warning 4:2 unreachable',
      'Conv2DMMProgram: naga error 1:1 bad',
      'device error: buffer too small',
    ]);
  });

  it('fails when naga said nothing about invalid WGSL: then the compile check could not fail', () => {
    const r = passing();
    r.controlErrors = [];
    expect(failures(r)).toEqual(['naga reported nothing for invalid WGSL: its messages do not reach the harness']);
  });

  it('fails when the fused BatchNorm pass takes more dispatches than in Chromium', () => {
    const r = passing();
    r.bnActDispatches = 9;
    expect(failures(r)).toEqual(['fused BatchNorm + ELU took 9 dispatches (7 in Chromium)']);
  });

  it('fails a default-limits run whose device had more than the defaults; an adapter-limits run may', () => {
    const r = passing();
    r.deviceLimits.maxComputeWorkgroupsPerDimension = 1_048_576;
    expect(failures(r)).toEqual(['the device was to have the default maxComputeWorkgroupsPerDimension (65535), but had 1048576']);
    expect(failures({ ...r, limits: 'adapter' })).toEqual([]);
  });
});
