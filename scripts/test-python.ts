/**
 * `npm run test:python`: the Python package's tests (python/tests) against the
 * app's own code. Builds the shards if they are missing (as the e2e tests do),
 * writes the app's reference outputs into a temporary folder
 * (scripts/export-reference.ts), then runs pytest with Debian's Python, which
 * has python3-torch and python3-pytest. Arguments go to pytest (e.g. -k parity,
 * or python/tests/test_ddp.py to run that file alone).
 *
 * PYTHON overrides the interpreter (default /usr/bin/python3). Without torch
 * and pytest there, the tests cannot run: outside CI that is said and the
 * command ends as skipped (exit 0); under CI (scripts/ci.ts) it fails.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ensureShards } from './shards';
import { isCI } from './ci';
import { DATA_DIR } from './convert';

const ARCHIVE = process.env.CIFAR10_ARCHIVE ?? '../shared/cifar10/cifar-10-binary.tar.gz';

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): number {
  const result = spawnSync(command, args, { stdio: 'inherit', env });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';

/** Why PYTHON cannot run the tests, or '' when it can. */
function missingPython(): string {
  const probe = spawnSync(PYTHON, ['-c', 'import torch, pytest, numpy'], { encoding: 'utf8' });
  if (probe.status === 0) return '';
  const why = probe.error?.message ?? probe.stderr.trim().split('\n').pop() ?? `exit ${probe.status}`;
  return `${PYTHON} cannot import torch, pytest and numpy (${why}); apt-get install -y python3-torch python3-pytest, or set PYTHON=`;
}

function main(): number {
  const missing = missingPython();
  if (missing) {
    if (isCI()) {
      console.error(`test:python failed: ${missing}. CI must run the Python tests.`);
      return 1;
    }
    console.log(`test:python skipped: ${missing}.`);
    return 0;
  }
  ensureShards();
  const reference = mkdtempSync(join(tmpdir(), 'cifar-tab-reference-'));
  try {
    const exported = run('npx', ['tsx', 'scripts/export-reference.ts', '--out', reference, '--data', DATA_DIR]);
    if (exported !== 0) return exported;
    const args = process.argv.slice(2);
    // pytest runs every test of a folder named beside one of its files, so a named test file
    // (or file::test) replaces the default folder rather than joining it.
    const named = args.some((arg) => /\.py(::|$)/.test(arg));
    return run(PYTHON, ['-m', 'pytest', '-q', ...(named ? [] : ['python/tests']), ...args], {
      ...process.env,
      CIFAR_TAB_REFERENCE: reference,
      CIFAR_TAB_DATA: resolve(DATA_DIR),
      CIFAR_TAB_ARCHIVE: resolve(ARCHIVE),
      // No bytecode files in the source tree.
      PYTHONDONTWRITEBYTECODE: '1',
    });
  } finally {
    rmSync(reference, { recursive: true, force: true });
  }
}

process.exit(main());
