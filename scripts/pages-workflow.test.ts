/**
 * The GitHub Pages workflow builds what CI builds and tests: its commands are
 * the ones CI runs (the publish step needs GitHub and runs only there).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const workflow = readFileSync('.github/workflows/pages.yml', 'utf8');
const runs = [...workflow.matchAll(/^\s+- run: (.+)$/gm)].map((m) => (m[1] as string).trim());

describe('the Pages workflow', () => {
  it('installs, converts the data and builds with the project’s own commands, and publishes dist/', () => {
    expect(runs).toEqual(['npm ci --no-audit --no-fund', 'npm run data', 'npm run build']);
    expect(workflow).toMatch(/upload-pages-artifact@v\d+\s+with:\s+path: dist\s/);
  });

  it('builds exactly as the end-to-end tests’ server does, which e2e/static-host.spec.ts serves as Pages would', () => {
    expect(readFileSync('playwright.config.ts', 'utf8')).toContain('command: `npm run build && npx vite preview');
    expect(readFileSync('.ci/run', 'utf8')).toContain('npm ci --no-audit --no-fund');
    expect(readFileSync('e2e/static-host.spec.ts', 'utf8')).toMatch(/serveStatic\('dist', '\/[\w-]+\/'\)/);
  });
});
