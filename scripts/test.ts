/**
 * `npm test`: every suite, in two phases.
 *
 * 1. The unit tests alone: Vitest keeps both cores busy (94 s alone on the
 *    2-core CI machine), and each of its tests has a time limit that a
 *    starved run could overstep.
 * 2. The end-to-end tests, with the Python tests and the WGSL tests under
 *    wgpu beside them at a lower CPU priority (`nice`). A browser test waits
 *    on pages, servers and workers about a seventh of the time, so the two
 *    smaller suites run mostly in the gaps, and the e2e tests keep the
 *    cores whenever they want them. Neither of the two has a time limit.
 *
 * The side suites' output is held and printed whole after the e2e tests, so
 * it never interleaves with theirs; a line says when each ended. Any suite
 * that fails fails `npm test`, and a failed unit phase skips the rest.
 */
import { spawn } from 'node:child_process';
import { ensureShards } from './shards';

/** The suites that run beside the end-to-end tests: npm script names. */
const BESIDE_E2E = ['test:python', 'test:wgpu'] as const;

/** Their CPU priority: 0 is the default, 19 the lowest. 10 leaves them about a tenth of a core the e2e tests want. */
const BESIDE_NICENESS = 10;

interface Ended {
  script: string;
  code: number;
  seconds: number;
  /** Its output, when it was held back rather than shown as it came. */
  output: string;
}

function run(script: string, { held, niceness = 0 }: { held: boolean; niceness?: number }): Promise<Ended> {
  const started = performance.now();
  const npm = ['npm', 'run', '--silent', script];
  // `nice` is POSIX; elsewhere the suite runs at the normal priority.
  const [command, ...args] = niceness > 0 && process.platform !== 'win32' ? ['nice', '-n', String(niceness), ...npm] : npm;
  return new Promise((resolve) => {
    const child = spawn(command as string, args, { stdio: held ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
    const output: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => output.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => output.push(chunk));
    const end = (code: number) => {
      const seconds = (performance.now() - started) / 1000;
      if (held) console.log(`[npm test] ${script} ${verdict(code)} in ${seconds.toFixed(0)} s (its output follows the e2e tests)`);
      resolve({ script, code, seconds, output: Buffer.concat(output).toString() });
    };
    child.on('error', (error) => {
      output.push(Buffer.from(`${error.message}\n`));
      end(1);
    });
    // A suite killed by a signal has no exit code: it failed.
    child.on('close', (code) => end(code ?? 1));
  });
}

const verdict = (code: number) => (code === 0 ? 'passed' : `failed (exit ${code})`);

async function main(): Promise<number> {
  // Both phases read the shards; built once here, never by two suites at once.
  ensureShards();
  console.log(`npm test: test:unit, then test:e2e with ${BESIDE_E2E.join(' and ')} beside it (nice ${BESIDE_NICENESS})`);
  const unit = await run('test:unit', { held: false });
  if (unit.code !== 0) {
    console.log(`\ntest:unit ${verdict(unit.code)}: not running the other suites`);
    return 1;
  }
  const beside = BESIDE_E2E.map((script) => run(script, { held: true, niceness: BESIDE_NICENESS }));
  const e2e = await run('test:e2e', { held: false });
  const ended = await Promise.all(beside);
  for (const e of ended)
    process.stdout.write(`\n──── npm run ${e.script} (${e.seconds.toFixed(0)} s, ${verdict(e.code)}) ────\n${e.output}`);
  const all = [unit, ...ended, e2e];
  console.log(`\n${all.map((e) => `${e.script} ${verdict(e.code)} in ${e.seconds.toFixed(0)} s`).join('; ')}`);
  return all.every((e) => e.code === 0) ? 0 : 1;
}

process.exitCode = await main();
