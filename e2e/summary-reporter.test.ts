/** Vitest, not Playwright: the reporter's verdict on skipped tests, with stand-in results. */
import type { FullResult, TestCase, TestResult } from '@playwright/test/reporter';
import { afterEach, describe, expect, it, vi } from 'vitest';
import SummaryReporter from './summary-reporter';

async function ended(statuses: TestResult['status'][], ci: string | undefined) {
  vi.stubEnv('CI', ci ?? '');
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
  const reporter = new SummaryReporter();
  statuses.forEach((status, i) => {
    const test = { id: `t${i}`, titlePath: () => ['', 'built', 'x.spec.ts', `test ${i}`] } as unknown as TestCase;
    reporter.onTestEnd(test, { status } as TestResult);
  });
  return reporter.onEnd({ status: 'passed' } as FullResult);
}

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('SummaryReporter', () => {
  it.each(['1', 'true'])('fails a run with a skipped test under CI=%s', async (ci) => {
    expect(await ended(['passed', 'skipped'], ci)).toEqual({ status: 'failed' });
    expect(vi.mocked(console.log).mock.calls.flat().join('\n')).toContain('skipped:\n  built › x.spec.ts › test 1');
  });

  it('leaves a run with a skipped test as it was outside CI', async () => {
    expect(await ended(['passed', 'skipped'], undefined)).toBeUndefined();
  });

  it('leaves a run without skips as it was under CI', async () => {
    expect(await ended(['passed', 'passed'], '1')).toBeUndefined();
    expect(vi.mocked(console.log).mock.calls.flat()).toContain('e2e: 2 passed, 0 failed, 0 skipped');
  });
});
