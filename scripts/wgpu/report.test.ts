import { describe, expect, it } from 'vitest';
import { BN_ACT_DISPATCHES, failures, OUR_MODULES, type WgpuResult } from './report';

/** A report that passes: every module of ours compiled cleanly, every check within the bar. */
function passing(): WgpuResult {
  return {
    adapter: { vendor: '', architecture: '', device: 'llvmpipe', description: '' },
    errors: { 'adam update': 8e-6, 'tiny training step': 4e-6 },
    bnActDispatches: BN_ACT_DISPATCHES,
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

  it('fails a check at or over 1e-4, and a NaN', () => {
    const r = passing();
    r.errors['adam update'] = 1e-4;
    r.errors['cross-entropy'] = Number.NaN;
    expect(failures(r)).toEqual([
      'adam update: relative error 0.0001 (must be < 0.0001)',
      'cross-entropy: relative error NaN (must be < 0.0001)',
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
});
