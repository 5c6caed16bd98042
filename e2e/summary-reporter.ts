/**
 * Ends the end-to-end run with one plain line, `e2e: N passed, N failed, N skipped`,
 * which CI logs and people can both read at a glance. Under CI (scripts/ci.ts)
 * a skipped test fails the run: a test CI cannot run has not passed.
 */
import type { FullResult, Reporter, TestCase, TestResult } from '@playwright/test/reporter';
import { isCI } from '../scripts/ci';

export default class SummaryReporter implements Reporter {
  private readonly outcomes = new Map<string, { title: string; status: TestResult['status'] }>();

  onTestEnd(test: TestCase, result: TestResult): void {
    // Retries report the same test again; its last result counts.
    this.outcomes.set(test.id, { title: test.titlePath().slice(1).join(' › '), status: result.status });
  }

  // Async: Playwright takes a status override only from a promise.
  async onEnd(result: FullResult): Promise<{ status?: FullResult['status'] } | undefined> {
    const outcomes = [...this.outcomes.values()];
    const count = (statuses: TestResult['status'][]) => outcomes.filter((o) => statuses.includes(o.status)).length;
    const skipped = outcomes.filter((o) => o.status === 'skipped');
    console.log(`e2e: ${count(['passed'])} passed, ${count(['failed', 'timedOut', 'interrupted'])} failed, ${skipped.length} skipped`);
    if (skipped.length > 0 && isCI() && result.status === 'passed') {
      console.log(`e2e failed: under CI every test must run; skipped:\n${skipped.map((o) => `  ${o.title}`).join('\n')}`);
      return { status: 'failed' };
    }
    return undefined;
  }

  printsToStdio(): boolean {
    return false;
  }
}
