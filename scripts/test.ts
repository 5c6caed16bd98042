/**
 * `npm test`: every suite. The unit tests, the Python tests and the WGSL
 * tests under wgpu run side by side — none of them keeps both cores of a
 * 2-core machine busy alone (Vitest's import phase and pytest's single
 * process leave one idle much of the time), so together they end about a
 * minute sooner than one after another. Each one's output is printed whole
 * when it ends, so the three never interleave. The end-to-end tests come
 * last, without these beside them: they keep every core busy themselves
 * (two at a time, playwright.config.ts), and a slower browser only makes
 * them slower.
 */
import { spawn, spawnSync } from 'node:child_process';

/** The suites that run side by side: npm script names. */
const SIDE_BY_SIDE = ['test:unit', 'test:python', 'test:wgpu'] as const;

interface Ended {
  script: string;
  code: number;
  seconds: number;
}

function runCaptured(script: string): Promise<Ended> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', '--silent', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    const output: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk));
    const end = (code: number) => {
      const seconds = (performance.now() - started) / 1000;
      process.stdout.write(`\n──── npm run ${script} (${seconds.toFixed(0)} s, exit ${code}) ────\n`);
      process.stdout.write(Buffer.concat(output));
      resolve({ script, code, seconds });
    };
    child.on('error', (error) => {
      output.push(Buffer.from(`${error.message}\n`));
      end(1);
    });
    // A suite killed by a signal has no exit code: it failed.
    child.on('close', (code) => end(code ?? 1));
  });
}

async function main(): Promise<number> {
  console.log(`npm test: ${SIDE_BY_SIDE.join(', ')} side by side, then test:e2e`);
  const ended = await Promise.all(SIDE_BY_SIDE.map(runCaptured));
  const failed = ended.filter((e) => e.code !== 0);
  console.log(
    `\n${ended.map((e) => `${e.script} ${e.code === 0 ? 'passed' : `failed (exit ${e.code})`} in ${e.seconds.toFixed(0)} s`).join('; ')}`,
  );
  if (failed.length > 0) {
    console.log(`not running test:e2e: ${failed.map((e) => e.script).join(', ')} failed`);
    return 1;
  }
  const e2e = spawnSync('npm', ['run', '--silent', 'test:e2e'], { stdio: 'inherit' });
  return e2e.status ?? 1;
}

process.exitCode = await main();
