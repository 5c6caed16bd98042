import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import {
  ADVISORIES,
  MAX_AGE_DAYS,
  REVIEWED,
  ageInDays,
  findVulnerable,
  productionPackages,
  staleListMessage,
  type Lockfile,
} from './advisories';

const lockfile = (packages: Record<string, { version: string; dev?: boolean }>): Lockfile => ({
  lockfileVersion: 3,
  packages: { '': {}, ...packages },
});

const ids = (lock: Lockfile, severity?: string) =>
  findVulnerable(lock)
    .filter((f) => severity === undefined || f.advisory.severity === severity)
    .map((f) => `${f.advisory.id} ${f.package}@${f.version}`);

describe('recorded advisories', () => {
  it('are well formed: GHSA ids, valid ranges, no duplicates', () => {
    expect(new Set(ADVISORIES.map((a) => a.id)).size).toBe(ADVISORIES.length);
    for (const advisory of ADVISORIES) {
      expect(advisory.id).toMatch(/^GHSA(-[23456789cfghjmpqrvwx]{4}){3}$/);
      expect(advisory.affects.length).toBeGreaterThan(0);
      for (const { range } of advisory.affects) expect(semver.validRange(range), range).not.toBeNull();
    }
  });

  it("match none of this project's production dependencies", () => {
    const lock = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package-lock.json'), 'utf8')) as Lockfile;
    expect(productionPackages(lock).map(([, name]) => name)).toContain('vega');
    expect(findVulnerable(lock)).toEqual([]);
  });

  it('flag the tree tfjs-vis 1.5.1 brings without our overrides', () => {
    const before = lockfile({
      'node_modules/vega': { version: '5.20.0' },
      'node_modules/vega-functions': { version: '5.12.1' },
      'node_modules/vega-lite/node_modules/vega-expression': { version: '2.6.6' },
      'node_modules/d3-color': { version: '2.0.0' },
      'node_modules/isomorphic-fetch/node_modules/node-fetch': { version: '1.7.3' },
      'node_modules/node-fetch': { version: '2.6.13' },
    });
    expect(ids(before, 'high')).toEqual([
      'GHSA-7f2v-3qq3-vvjf vega@5.20.0',
      'GHSA-m9rg-mr6g-75gm vega-functions@5.12.1',
      'GHSA-7f2v-3qq3-vvjf vega-expression@2.6.6',
      'GHSA-36jr-mh4h-2g58 d3-color@2.0.0',
      'GHSA-r683-j2x4-v87g node-fetch@1.7.3',
    ]);
    expect(ids(before, 'moderate')).toContain('GHSA-w5m3-xh75-mp55 vega@5.20.0');
    expect(findVulnerable(before).find((f) => f.package === 'node-fetch')?.path).toBe(
      'node_modules/isomorphic-fetch/node_modules/node-fetch',
    );
  });

  it('draw the line at the first patched version', () => {
    expect(ids(lockfile({ 'node_modules/vega': { version: '6.1.2' } }))).toEqual(['GHSA-7f2v-3qq3-vvjf vega@6.1.2']);
    expect(ids(lockfile({ 'node_modules/vega': { version: '6.2.0' } }))).toEqual([]);
    expect(ids(lockfile({ 'node_modules/vega-expression': { version: '6.0.5' } }))).toHaveLength(1);
    expect(ids(lockfile({ 'node_modules/vega-expression': { version: '5.2.1' } }))).toEqual([]);
    expect(ids(lockfile({ 'node_modules/vega-expression': { version: '6.1.0' } }))).toEqual([]);
    expect(ids(lockfile({ 'node_modules/d3-color': { version: '3.1.0' } }))).toEqual([]);
  });

  it('leave development-only packages to the development audit', () => {
    expect(ids(lockfile({ 'node_modules/d3-color': { version: '2.0.0', dev: true } }))).toEqual([]);
  });

  it('refuse a lockfile without a packages section', () => {
    expect(() => findVulnerable({ lockfileVersion: 1 })).toThrow(/lockfileVersion 2/);
  });
});

describe('the age of the recorded list', () => {
  const reviewed = '2026-11-29';

  it('counts whole days from the review date, in UTC', () => {
    expect(ageInDays(new Date('2026-11-29T23:59:59Z'), reviewed)).toBe(0);
    expect(ageInDays(new Date('2026-12-01T00:00:00Z'), reviewed)).toBe(2);
    expect(() => ageInDays(new Date('2026-12-01T00:00:00Z'), '29/11/2026')).toThrow(/YYYY-MM-DD/);
  });

  it(`passes up to ${MAX_AGE_DAYS} days after the review`, () => {
    expect(staleListMessage(new Date('2026-12-01T12:00:00Z'), reviewed)).toBeUndefined();
    expect(staleListMessage(new Date('2026-12-29T23:59:59Z'), reviewed)).toBeUndefined();
  });

  it('fails from the day after, saying how old the list is and what to do', () => {
    const message = staleListMessage(new Date('2026-12-30T00:00:00Z'), reviewed);
    expect(message).toContain('last checked on 2026-11-29, 31 days ago');
    expect(message).toContain('npm audit --omit=dev');
    expect(message).toContain('set REVIEWED');
    expect(staleListMessage(new Date('2027-06-01T00:00:00Z'), reviewed)).toContain('184 days ago');
  });

  it('is read from REVIEWED, a real date', () => {
    expect(REVIEWED).toMatch(/^\d{4}-\d\d-\d\d$/);
    expect(ageInDays(new Date(`${REVIEWED}T00:00:00Z`))).toBe(0);
  });
});
