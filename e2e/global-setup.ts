/** Playwright's global setup: the end-to-end tests need shards built from the real archive. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensureShards } from '../scripts/shards';

/** The environment variable naming the folder where this run's measured preset costs are shared (e2e/fixtures.ts). */
export const COSTS_DIR_ENV = 'E2E_PRESET_COSTS_DIR';

export default function globalSetup(): void {
  ensureShards();
  // Where the first Playwright worker to need them leaves the preset costs it measured, for the others
  // (e2e/fixtures.ts); the workers inherit this process's environment. One folder per run.
  process.env[COSTS_DIR_ENV] = mkdtempSync(path.join(tmpdir(), 'e2e-costs-'));
}
