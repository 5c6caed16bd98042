import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { kernelsOn } from '../src/kernels/registry';

const bench = (...args: string[]) => spawnSync('npx', ['tsx', 'scripts/bench.ts', ...args], { encoding: 'utf8' });

describe('npm run bench -- --registry', () => {
  it('answers "what runs the weight gradient on WebGL, and why?" in one line per kernel, from the registry', () => {
    const result = bench('--registry', '--backend', 'webgl');
    expect(result.status).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(kernelsOn('webgl').length);
    expect(lines.find((l) => l.includes('Conv2DBackpropFilter'))).toMatch(
      /^webgl conv\/Conv2DBackpropFilter .+: im2col or the forward-conv program/,
    );
  });

  it('refuses a backend it does not know, in words', () => {
    const result = bench('--registry', '--backend', 'metal');
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/backend/);
  });
});
