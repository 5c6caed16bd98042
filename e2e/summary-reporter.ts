/**
 * Ends the end-to-end run with one plain line, `e2e: N passed, N failed, N skipped`,
 * which CI logs and people can both read at a glance.
 */
import type { FullResult, Reporter, TestCase, TestResult } from '@playwright/test/reporter';

export default class SummaryReporter implements Reporter {
  private readonly outcomes = new Map<string, TestResult['status']>();

  onTestEnd(test: TestCase, result: TestResult): void {
    // Retries report the same test again; its last result counts.
    this.outcomes.set(test.id, result.status);
  }

  onEnd(_result: FullResult): void {
    const count = (statuses: TestResult['status'][]) => [...this.outcomes.values()].filter((s) => statuses.includes(s)).length;
    const passed = count(['passed']);
    const failed = count(['failed', 'timedOut', 'interrupted']);
    const skipped = count(['skipped']);
    console.log(`e2e: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  }

  printsToStdio(): boolean {
    return false;
  }
}
