/** Vitest, not Playwright: checks the specs' sources, so that every spec gets the shared fixtures. */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const E2E = path.dirname(new URL(import.meta.url).pathname);
const SPECS = readdirSync(E2E).filter((name) => name.endsWith('.spec.ts'));

describe('e2e specs', () => {
  it('are there to check', () => {
    expect(SPECS.length).toBeGreaterThan(10);
  });

  it.each(SPECS)('%s takes test and expect from ./fixtures (whose page ends its routes)', (name) => {
    const source = readFileSync(path.join(E2E, name), 'utf8');
    expect(source).toMatch(/import \{[^}]*\btest\b[^}]*\} from '\.\/fixtures';/);
    expect(source).not.toMatch(/import \{[^}]*\b(test|expect)\b[^}]*\} from '@playwright\/test'/);
  });
});
