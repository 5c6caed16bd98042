/**
 * The verdict on a backend: every spec that passes with the stock kernels
 * must pass with ours. Specs the stock kernels fail are listed, not counted.
 */
import type { SpecResult, SpecRun } from './run';

export interface Verdict {
  backend: string;
  specs: number;
  stockPassed: number;
  oursPassed: number;
  /** Passed with the stock kernels; failed, skipped or missing with ours. */
  regressions: { name: string; errors: string[] }[];
  /** Failed (or skipped) with the stock kernels: no verdict on these. */
  stockFailures: { name: string; errors: string[] }[];
  /** Failed with stock, passed with ours. */
  fixedByOurs: string[];
  /** e.g. "wasm: 412 specs, stock 405 passed, ours 405 passed, 0 regressions". */
  summary: string;
}

export function compareRuns(stock: SpecRun, ours: SpecRun): Verdict {
  if (stock.backend !== ours.backend) throw new Error(`runs of two backends: ${stock.backend}, ${ours.backend}`);
  if (stock.kernels !== 'stock' || ours.kernels !== 'ours') throw new Error('compareRuns takes the stock run, then ours');
  if (stock.results.length === 0) throw new Error(`no spec ran on ${stock.backend}: a verdict on nothing`);
  const missingFiles = stock.files.filter((f) => !ours.files.includes(f));
  if (missingFiles.length > 0) throw new Error(`our run left out ${missingFiles.join(', ')}`);
  const oursByName = new Map(ours.results.map((r) => [r.name, r]));
  const passed = (r: SpecResult | undefined) => r?.status === 'passed';
  const regressions = stock.results
    .filter((s) => passed(s) && !passed(oursByName.get(s.name)))
    .map((s) => ({ name: s.name, errors: oursByName.get(s.name)?.errors ?? ['did not run with our kernels'] }));
  const stockFailures = stock.results.filter((s) => !passed(s)).map((s) => ({ name: s.name, errors: s.errors }));
  const fixedByOurs = stockFailures.filter((s) => passed(oursByName.get(s.name))).map((s) => s.name);
  const stockPassed = stock.results.filter(passed).length;
  const oursPassed = ours.results.filter(passed).length;
  const specs = stock.results.length;
  const summary =
    `${stock.backend}: ${specs} specs, stock ${stockPassed} passed, ours ${oursPassed} passed, ` +
    `${regressions.length} regression${regressions.length === 1 ? '' : 's'}`;
  return { backend: stock.backend, specs, stockPassed, oursPassed, regressions, stockFailures, fixedByOurs, summary };
}

/** The verdict in lines for a log: the summary, each regression with its error, each spec the stock kernels fail. */
export function describeVerdict(v: Verdict): string[] {
  return [
    v.summary,
    ...v.regressions.map((r) => `  REGRESSION ${r.name}: ${r.errors.join(' | ')}`),
    ...v.stockFailures.map((s) => `  fails with stock too (ignored): ${s.name}: ${s.errors.join(' | ')}`),
    ...v.fixedByOurs.map((name) => `  fails with stock, passes with ours: ${name}`),
  ];
}

/** What the two runs covered and what they took: the files, the kernels, and seconds per file (both runs together). */
export function describeRuns(stock: SpecRun, ours: SpecRun): string[] {
  const own = ours.ownNames.length > 0 ? `; ours under names of our own, which no tfjs spec calls: ${ours.ownNames.join(', ')}` : '';
  const optimizers = ours.fusedOptimizers ? ' and the fused Adam/momentum updates' : '';
  const msByFile = new Map<string, number>();
  for (const r of [...stock.results, ...ours.results]) msByFile.set(r.file, (msByFile.get(r.file) ?? 0) + r.ms);
  return [
    `  ${stock.files.length} spec files for ${ours.replaced.join(', ') || 'nothing'}${optimizers}${own}` +
      ` (stock ${stock.seconds.toFixed(1)} s, ours ${ours.seconds.toFixed(1)} s)`,
    ...[...msByFile].map(([file, ms]) => `    ${file}: ${(ms / 1000).toFixed(1)} s`),
  ];
}
