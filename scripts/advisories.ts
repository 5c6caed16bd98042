/**
 * The security advisories that have reached this project's production
 * dependencies, and a check of package-lock.json against them.
 *
 * `npm audit` is the real check and `npm run audit` runs it first. This list
 * is the fallback for machines whose registry mirror refuses the audit
 * endpoint (ours answers 405): it cannot know of advisories published after it
 * was reviewed, so it keeps the known ones from coming back (a removed
 * `overrides` entry, a downgrade), nothing more.
 *
 * Each entry is copied from the GitHub Advisory Database
 * (https://github.com/advisories/<id>): package names and vulnerable ranges as
 * published there, in npm's semver range syntax.
 */
import semver from 'semver';

export const SEVERITIES = ['low', 'moderate', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface Advisory {
  id: string;
  severity: Severity;
  title: string;
  /** Every package the advisory names, each with its vulnerable versions. */
  affects: readonly { package: string; range: string }[];
}

/** The date the list below was last compared with the advisory database. */
export const REVIEWED = '2026-11-29';

export const ADVISORIES: readonly Advisory[] = [
  {
    // Reached us through tfjs-vis 1.5.1, which pins vega 5.20.0: fixed by the `overrides` in package.json.
    id: 'GHSA-7f2v-3qq3-vvjf',
    severity: 'high',
    title: 'Vega XSS via expressions abusing toString calls (VEGA_DEBUG)',
    affects: [
      { package: 'vega', range: '<6.2.0' },
      { package: 'vega-expression', range: '<5.2.1 || >=6.0.0 <6.1.0' },
      { package: 'vega-interpreter', range: '<1.2.1 || >=2.0.0 <2.2.1' },
    ],
  },
  {
    id: 'GHSA-m9rg-mr6g-75gm',
    severity: 'high',
    title: 'vega-functions XSS via the setdata function',
    affects: [{ package: 'vega-functions', range: '<6.1.1' }],
  },
  {
    // vega 5's d3 packages pulled d3-color 2.
    id: 'GHSA-36jr-mh4h-2g58',
    severity: 'high',
    title: 'd3-color vulnerable to ReDoS',
    affects: [{ package: 'd3-color', range: '<3.1.0' }],
  },
  {
    // tfjs-vis → glamor → fbjs → isomorphic-fetch 2 → node-fetch 1.
    id: 'GHSA-r683-j2x4-v87g',
    severity: 'high',
    title: 'node-fetch forwards secure headers to untrusted sites',
    affects: [{ package: 'node-fetch', range: '<2.6.7' }],
  },
];

export interface Finding {
  advisory: Advisory;
  package: string;
  version: string;
  /** Where in node_modules the vulnerable copy sits. */
  path: string;
}

/** The parts of an npm v2/v3 package-lock.json the check reads. */
export interface Lockfile {
  lockfileVersion?: number;
  packages?: Record<string, { version?: string; dev?: boolean; link?: boolean }>;
}

/** Installed packages that `npm install --omit=dev` would keep, as [path, name, version]. */
export function productionPackages(lock: Lockfile): [path: string, name: string, version: string][] {
  if (!lock.packages || (lock.lockfileVersion ?? 0) < 2) {
    throw new Error('package-lock.json has no "packages" section (lockfileVersion 2 or later is needed)');
  }
  const out: [string, string, string][] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    // "" is the project itself; links point at folders listed under their own path.
    if (path === '' || entry.dev || entry.link || !entry.version) continue;
    out.push([path, path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length), entry.version]);
  }
  return out;
}

/** Every (advisory, installed copy) pair where the installed version is in the vulnerable range. */
export function findVulnerable(lock: Lockfile, advisories: readonly Advisory[] = ADVISORIES): Finding[] {
  const findings: Finding[] = [];
  for (const [path, name, version] of productionPackages(lock)) {
    for (const advisory of advisories) {
      for (const affected of advisory.affects) {
        if (affected.package === name && semver.satisfies(version, affected.range, { includePrerelease: true })) {
          findings.push({ advisory, package: name, version, path });
        }
      }
    }
  }
  return findings;
}
