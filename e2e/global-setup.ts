/** Playwright's global setup: the end-to-end tests need shards built from the real archive. */
import { ensureShards } from '../scripts/shards';

export default function globalSetup(): void {
  ensureShards();
}
