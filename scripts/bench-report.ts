/**
 * The tables `npm run bench` prints: plain Markdown, so a run can be pasted
 * into the README as it is.
 */
import { counterTable } from '../src/bench/counters';
import type { KernelProfile, KernelResult, TrainTiming } from '../src/bench/protocol';

export const ms = (v: number | null | undefined) =>
  v === null || v === undefined || !Number.isFinite(v) ? '—' : v >= 100 ? v.toFixed(0) : v.toFixed(1);
export const times = (a: number | null, b: number | null) => (a !== null && b !== null && b > 0 ? `${(a / b).toFixed(2)}×` : '—');

/** The smallest, middle and largest of a run's repeats: a figure of one run says so, a figure of several shows how far they went apart. */
export interface Spread {
  n: number;
  min: number;
  median: number;
  max: number;
}

/** Min, median (the mean of the middle two for an even count) and max of the finite values; null when there are none. */
export function spread(values: readonly number[]): Spread | null {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return null;
  const mid = Math.floor(n / 2);
  const median = n % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { n, min: sorted[0] as number, median, max: sorted[n - 1] as number };
}

/**
 * The spread of numerators[i] / denominators[i]: a speedup taken pair by pair
 * from measurements that took turns (interleaved rounds, alternating calls), so
 * a load spike that hit one pair does not skew the others. Unpaired tails are
 * left out.
 */
export function ratioSpread(numerators: readonly number[], denominators: readonly number[]): Spread | null {
  const n = Math.min(numerators.length, denominators.length);
  return spread(Array.from({ length: n }, (_, i) => (numerators[i] as number) / (denominators[i] as number)));
}

/** "2.61× / 2.80× / 3.02× (min / median / max of 5)", or "one run" wording for a single value. */
export function spreadText(s: Spread | null, format: (v: number) => string): string {
  if (s === null) return '—';
  if (s.n === 1) return `${format(s.median)} (one measurement, no spread)`;
  return `${format(s.min)} / ${format(s.median)} / ${format(s.max)} (min / median / max of ${s.n})`;
}

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join(' | ')} |`;
  return [
    line(header),
    `| ${widths.map((w, i) => (i === 0 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`,
    ...rows.map(line),
  ].join('\n');
}

/** One profiled step per run, its kernels slowest first. */
export function printProfile(r: TrainTiming, name: string): void {
  if (!r.profile) return;
  const total = r.profile.reduce((s, k) => s + k.ms, 0);
  const calls = r.profile.reduce((s, k) => s + k.calls, 0);
  console.log(`\nOne profiled step, ${name}: ${calls} kernel calls, ${ms(total)} ms of kernel time\n`);
  console.log(
    table(
      ['kernel', 'calls', 'ms', 'share'],
      r.profile.slice(0, 16).map((k) => [k.name, String(k.calls), ms(k.ms), `${((100 * k.ms) / total).toFixed(1)}%`]),
    ),
  );
}

/**
 * The same kernels side by side across runs (e.g. 1 and 2 threads): ms of
 * each kernel name in one profiled step of each run, and how much faster the
 * last run is than the first. A kernel whose ratio stays near 1× does not use
 * the threads. The last row is the mean timed step (not profiled), for what
 * lies outside the kernels.
 */
export function printProfileComparison(runs: { name: string; profile: KernelProfile[]; stepMs: number }[]): void {
  const first = runs[0];
  const last = runs[runs.length - 1];
  if (!first || !last || runs.length < 2) return;
  const names = first.profile.map((k) => k.name);
  for (const r of runs) for (const k of r.profile) if (!names.includes(k.name)) names.push(k.name);
  const at = (r: { profile: KernelProfile[] }, name: string) => r.profile.find((k) => k.name === name)?.ms ?? 0;
  const total = (r: { profile: KernelProfile[] }) => r.profile.reduce((s, k) => s + k.ms, 0);
  const rows = names.map((name) => [
    name,
    String(first.profile.find((k) => k.name === name)?.calls ?? 0),
    ...runs.map((r) => ms(at(r, name))),
    times(at(first, name), at(last, name)),
  ]);
  rows.push(['all kernels', '', ...runs.map((r) => ms(total(r))), times(total(first), total(last))]);
  rows.push(['timed step (mean)', '', ...runs.map((r) => ms(r.stepMs)), times(first.stepMs, last.stepMs)]);
  console.log(`\nOne profiled step of each, ms by kernel (tf.profile: wall time of each kernel call)\n`);
  console.log(table(['kernel', 'calls', ...runs.map((r) => r.name), `${first.name} / ${last.name}`], rows));
}

/**
 * The speedup of the summed kernels, repetition by repetition: the r-th calls
 * of every shape added up, stock over ours. Null where the backend has no
 * stock kernel or a row lacks its calls.
 */
export function kernelSumSpread(result: KernelResult): Spread | null {
  const reps = Math.min(...result.rows.map((r) => Math.min(r.oursRepsMs.length, r.stockRepsMs?.length ?? 0)));
  if (result.rows.length === 0 || reps === 0) return null;
  const sumOf = (pick: (row: KernelResult['rows'][number]) => number[]) =>
    Array.from({ length: reps }, (_, k) => result.rows.reduce((s, row) => s + (pick(row)[k] as number), 0));
  return ratioSpread(
    sumOf((row) => row.stockRepsMs ?? []),
    sumOf((row) => row.oursRepsMs),
  );
}

/** Our weight gradient per seed convolution, one column per kernel job (e.g. per thread count). */
export function printKernelTable(
  results: { label: string; result: KernelResult }[],
  title: string,
): { ours: number; stock: number | null }[] {
  const first = results[0]?.result;
  if (!first) return [];
  const sums = results.map(({ result }) => ({
    ours: result.rows.reduce((s, r) => s + r.oursMs, 0),
    stock: result.rows.every((r) => r.stockMs !== null) ? result.rows.reduce((s, r) => s + (r.stockMs as number), 0) : null,
  }));
  const rows = first.rows.map((row, i) => [
    `${row.shape.inChannels}→${row.shape.outChannels}, ${row.shape.height}×${row.shape.width}`,
    ...results.flatMap(({ result }) => {
      const r = result.rows[i];
      return [`${ms(r?.oursMs)} (${r?.method ?? '?'})`, ms(r?.stockMs), times(r?.stockMs ?? null, r?.oursMs ?? null)];
    }),
  ]);
  rows.push(['sum', ...sums.flatMap((s) => [ms(s.ours), ms(s.stock), times(s.stock, s.ours)])]);
  console.log(`\n${title}\n`);
  console.log(
    table(
      ['in→out channels, size', ...results.flatMap(({ label }) => [`ours${label} (formulation)`, `tfjs default${label}`, 'speedup'])],
      rows,
    ),
  );
  for (const { label, result } of results) {
    const bySum = kernelSumSpread(result);
    if (bySum)
      console.log(`sum of the ${result.rows.length}${label}, stock / ours call by call: ${spreadText(bySum, (v) => `${v.toFixed(2)}×`)}`);
  }
  const methods = Object.keys(first.rows[0]?.methodMs ?? {});
  if (methods.length > 0) {
    console.log(`\nEach formulation on each convolution, ms per call\n`);
    console.log(
      table(
        ['in→out channels, size', ...results.flatMap(({ label }) => methods.map((m) => `${m}${label}`))],
        first.rows.map((row, i) => [
          `${row.shape.inChannels}→${row.shape.outChannels}, ${row.shape.height}×${row.shape.width}`,
          ...results.flatMap(({ result }) => methods.map((m) => ms(result.rows[i]?.methodMs?.[m]))),
        ]),
      ),
    );
  }
  return sums;
}

/**
 * WebGPU / WebGL calls per timed step of each run (src/bench/counters.ts); nothing on wasm and cpu.
 * `warmup`: untimed steps after the first; with none, the timed steps include
 * the second step, which on WebGPU creates a few more buffers than later ones
 * (seed, batch 16: 215 against 207 from the third step on).
 */
export function printCounters(
  backend: string,
  runs: { name: string; countsPerStep?: TrainTiming['countsPerStep'] }[],
  steps: number,
  warmup: number,
): void {
  const counted = counterTable(backend, runs);
  if (!counted) return;
  const over = `${steps} timed ${steps === 1 ? 'step' : 'steps'}`;
  console.log(
    `\n${backend === 'webgpu' ? 'WebGPU' : 'WebGL'} calls per training step (counted in each worker over the ${over}, loss readbacks included as each mode makes them)\n`,
  );
  console.log(table(counted.header, counted.rows));
  if (warmup === 0)
    console.log('\nThese include the second step, which may still create buffers the later ones do not: --warmup 1 for steady state.');
}
