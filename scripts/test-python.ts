/**
 * `npm run test:python`: the Python package's tests (python/tests) against the
 * app's own code. Builds the shards if they are missing (as the e2e tests do),
 * writes the app's reference outputs into a temporary folder
 * (scripts/export-reference.ts), then runs pytest with Debian's Python, which
 * has python3-torch and python3-pytest. Arguments go to pytest (e.g. -k parity).
 *
 * PYTHON overrides the interpreter (default /usr/bin/python3).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import ensureShards from '../e2e/global-setup';
import { DATA_DIR } from './convert';

const ARCHIVE = process.env.CIFAR10_ARCHIVE ?? '../shared/cifar10/cifar-10-binary.tar.gz';

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): number {
  const result = spawnSync(command, args, { stdio: 'inherit', env });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

function main(): number {
  ensureShards();
  const reference = mkdtempSync(join(tmpdir(), 'cifar-tab-reference-'));
  try {
    const exported = run('npx', ['tsx', 'scripts/export-reference.ts', '--out', reference, '--data', DATA_DIR]);
    if (exported !== 0) return exported;
    return run(process.env.PYTHON ?? '/usr/bin/python3', ['-m', 'pytest', '-q', 'python/tests', ...process.argv.slice(2)], {
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
