import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** `npm run test:python` with an interpreter that has no PyTorch (`false` exits 1 for any arguments). */
function runWithoutTorch(ci: string | undefined) {
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHON: '/bin/false' };
  delete env.CI;
  if (ci !== undefined) env.CI = ci;
  return spawnSync('npx', ['tsx', 'scripts/test-python.ts'], { env, encoding: 'utf8' });
}

describe('test:python without PyTorch', () => {
  it.each(['1', 'true'])('fails under CI=%s', (ci) => {
    const result = runWithoutTorch(ci);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('CI must run the Python tests');
  });

  it('says it skipped, and exits 0, outside CI', () => {
    const result = runWithoutTorch(undefined);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('test:python skipped: /bin/false cannot import torch');
  });
});
