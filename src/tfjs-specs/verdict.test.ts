import { describe, expect, it } from 'vitest';
import type { SpecResult, SpecRun } from './run';
import { compareRuns } from './verdict';

function run(kernels: 'stock' | 'ours', results: [string, SpecResult['status']][]): SpecRun {
  return {
    backend: 'wasm',
    kernels,
    files: ['ops/conv2d_test'],
    planned: ['Conv2D'],
    replaced: kernels === 'ours' ? ['Conv2D'] : [],
    ownNames: [],
    fusedOptimizers: false,
    results: results.map(([name, status]) => ({
      name,
      file: 'ops/conv2d_test',
      status,
      errors: status === 'failed' ? [`${name} broke`] : [],
      ms: 1,
    })),
    seconds: 1,
  };
}

describe('compareRuns', () => {
  it('counts a spec that passes with stock and fails, is skipped or is missing with ours as a regression', () => {
    const v = compareRuns(
      run('stock', [
        ['a', 'passed'],
        ['b', 'passed'],
        ['c', 'passed'],
        ['d', 'passed'],
      ]),
      run('ours', [
        ['a', 'passed'],
        ['b', 'failed'],
        ['c', 'skipped'],
      ]),
    );
    expect(v.regressions).toEqual([
      { name: 'b', errors: ['b broke'] },
      { name: 'c', errors: [] },
      { name: 'd', errors: ['did not run with our kernels'] },
    ]);
    expect(v.summary).toBe('wasm: 4 specs, stock 4 passed, ours 1 passed, 3 regressions');
  });

  it('lists the specs the stock kernels fail without counting them, and those ours pass', () => {
    const v = compareRuns(
      run('stock', [
        ['a', 'passed'],
        ['b', 'failed'],
        ['c', 'failed'],
      ]),
      run('ours', [
        ['a', 'passed'],
        ['b', 'failed'],
        ['c', 'passed'],
      ]),
    );
    expect(v.regressions).toEqual([]);
    expect(v.stockFailures.map((s) => s.name)).toEqual(['b', 'c']);
    expect(v.fixedByOurs).toEqual(['c']);
    expect(v.summary).toBe('wasm: 3 specs, stock 1 passed, ours 2 passed, 0 regressions');
  });

  it('refuses a verdict on a run where no spec ran, or on runs that are not stock then ours', () => {
    expect(() => compareRuns(run('stock', []), run('ours', []))).toThrow(/no spec ran/);
    expect(() => compareRuns(run('ours', [['a', 'passed']]), run('stock', [['a', 'passed']]))).toThrow(/stock run, then ours/);
  });
});
