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
 * Each entry is an advisory of the GitHub Advisory Database
 * (https://github.com/advisories/<id>), which npm audit reads: its severity
 * and the vulnerable ranges it publishes for each package, in npm's semver
 * range syntax. The list covers every package of our production tree that has
 * had an advisory we could find, so that a downgrade is caught too.
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

/** The date the list below was last compared with the advisory database (YYYY-MM-DD, UTC). */
export const REVIEWED = '2026-11-29';

/**
 * Past this many days since REVIEWED the fallback fails: advisories appear
 * every week, and a list nobody has looked at for a month would pass a tree
 * that `npm audit` would stop. Unit: days.
 */
export const MAX_AGE_DAYS = 30;

const DAY_MS = 24 * 60 * 60 * 1000;

/** Whole days from `reviewed` (a YYYY-MM-DD date, read as UTC midnight) to `now`. */
export function ageInDays(now: Date, reviewed: string = REVIEWED): number {
  const start = Date.parse(`${reviewed}T00:00:00Z`);
  if (!/^\d{4}-\d\d-\d\d$/.test(reviewed) || Number.isNaN(start)) throw new Error(`REVIEWED must be a YYYY-MM-DD date, not "${reviewed}"`);
  return Math.floor((now.getTime() - start) / DAY_MS);
}

/** Why the list can no longer stand in for `npm audit`, or undefined while it is recent enough. */
export function staleListMessage(now: Date, reviewed: string = REVIEWED): string | undefined {
  const age = ageInDays(now, reviewed);
  if (age <= MAX_AGE_DAYS) return undefined;
  return (
    `The advisory list in scripts/advisories.ts was last checked on ${reviewed}, ${age} days ago ` +
    `(more than ${MAX_AGE_DAYS}), so it may miss advisories published since. ` +
    'Run `npm audit --omit=dev` on a machine whose registry answers it, record any advisory it reports ' +
    'against a production dependency in ADVISORIES, and set REVIEWED to the day you checked.'
  );
}

export const ADVISORIES: readonly Advisory[] = [
  // The vega family: tfjs-vis 1.5.1 pins vega 5.20.0, vega-lite 4 and vega-embed 6; the `overrides` in
  // package.json lift them past all of these.
  {
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
    id: 'GHSA-829q-m3qg-ph8r',
    severity: 'high',
    title: 'Vega XSS via vlSelectionTuples array map calls',
    affects: [{ package: 'vega-selections', range: '<5.6.3 || >=6.0.0 <6.1.2' }],
  },
  {
    id: 'GHSA-963h-3v39-3pqf',
    severity: 'moderate',
    title: 'Vega XSS via RegExp.prototype[@@replace]',
    affects: [
      { package: 'vega', range: '<5.32.0' },
      { package: 'vega-functions', range: '<5.17.0' },
    ],
  },
  {
    id: 'GHSA-rcw3-wmx7-cphr',
    severity: 'moderate',
    title: 'Vega XSS via an event filter, without the expression interpreter',
    affects: [
      { package: 'vega', range: '<5.31.0' },
      { package: 'vega-functions', range: '<5.16.0' },
    ],
  },
  {
    id: 'GHSA-mp7w-mhcv-673j',
    severity: 'moderate',
    title: 'Vega XSS via the vlSelectionTuples function',
    affects: [
      { package: 'vega', range: '<5.26.0' },
      { package: 'vega-selections', range: '<5.4.2' },
    ],
  },
  {
    id: 'GHSA-w5m3-xh75-mp55',
    severity: 'moderate',
    title: 'Vega XSS in the lassoAppend function',
    affects: [
      { package: 'vega', range: '<5.23.0' },
      { package: 'vega-functions', range: '<5.13.1' },
    ],
  },
  {
    id: 'GHSA-4vq7-882g-wcg4',
    severity: 'moderate',
    title: 'Vega XSS via the scale expression function',
    affects: [
      { package: 'vega', range: '<5.23.0' },
      { package: 'vega-functions', range: '<5.13.1' },
    ],
  },
  {
    id: 'GHSA-6hwh-rqwf-cxxr',
    severity: 'moderate',
    title: 'vega-util prototype pollution through mergeConfig',
    affects: [{ package: 'vega-util', range: '<1.13.1' }],
  },
  {
    // vega 5's d3 packages pulled d3-color 2.
    id: 'GHSA-36jr-mh4h-2g58',
    severity: 'high',
    title: 'd3-color vulnerable to ReDoS',
    affects: [{ package: 'd3-color', range: '>=1.0.2 <3.1.0' }],
  },
  // tfjs-vis → glamor → fbjs → isomorphic-fetch 2 → node-fetch 1; the override to isomorphic-fetch 3 lifts it.
  {
    id: 'GHSA-r683-j2x4-v87g',
    severity: 'high',
    title: 'node-fetch forwards secure headers to untrusted sites',
    affects: [{ package: 'node-fetch', range: '<2.6.7 || >=3.0.0 <3.1.1' }],
  },
  {
    id: 'GHSA-w7rc-rwvf-8q5r',
    severity: 'low',
    title: "node-fetch's size option is not honoured after a redirect",
    affects: [{ package: 'node-fetch', range: '>=2.0.0 <2.6.1' }],
  },
  // The rest of the production tree, for packages that have had advisories; our versions are past them.
  {
    id: 'GHSA-394c-5j6w-4xmx',
    severity: 'high',
    title: 'ua-parser-js ReDoS',
    affects: [{ package: 'ua-parser-js', range: '<0.7.23' }],
  },
  {
    id: 'GHSA-fhg7-m89q-25r3',
    severity: 'high',
    title: 'ua-parser-js ReDoS',
    affects: [{ package: 'ua-parser-js', range: '>=0.7.30 <0.7.33 || >=0.8.0 <1.0.33' }],
  },
  {
    id: 'GHSA-8gh8-hqwg-xf34',
    severity: 'high',
    title: 'fast-json-patch prototype pollution',
    affects: [{ package: 'fast-json-patch', range: '<3.1.1' }],
  },
  {
    id: 'GHSA-fjxv-7rqg-78g4',
    severity: 'critical',
    title: 'form-data uses an unsafe random function to choose its boundary',
    affects: [{ package: 'form-data', range: '<2.5.4 || >=3.0.0 <3.0.4 || >=4.0.0 <4.0.4' }],
  },
  {
    id: 'GHSA-hmw2-7cc7-3qxx',
    severity: 'high',
    title: 'form-data CRLF injection through field names and filenames',
    affects: [{ package: 'form-data', range: '<2.5.6 || >=3.0.0 <3.0.5 || >=4.0.0 <4.0.6' }],
  },
  {
    id: 'GHSA-c2qf-rxjj-qqgw',
    severity: 'high',
    title: 'semver ReDoS',
    affects: [{ package: 'semver', range: '<5.7.2 || >=6.0.0 <6.3.1 || >=7.0.0 <7.5.2' }],
  },
  {
    id: 'GHSA-93q8-gq69-wqmw',
    severity: 'high',
    title: 'ansi-regex ReDoS',
    affects: [{ package: 'ansi-regex', range: '>=3.0.0 <3.0.1 || >=4.0.0 <4.1.1 || >=5.0.0 <5.0.1 || >=6.0.0 <6.0.1' }],
  },
  {
    id: 'GHSA-c4w7-xm78-47vh',
    severity: 'high',
    title: 'y18n prototype pollution',
    affects: [{ package: 'y18n', range: '<3.2.2 || >=4.0.0 <4.0.1 || >=5.0.0 <5.0.5' }],
  },
  {
    id: 'GHSA-p9pc-299p-vxgp',
    severity: 'moderate',
    title: 'yargs-parser prototype pollution',
    affects: [{ package: 'yargs-parser', range: '<5.0.1 || >=6.0.0 <13.1.2 || >=14.0.0 <15.0.1 || >=16.0.0 <18.1.1' }],
  },
  {
    id: 'GHSA-36hm-qxxp-pg3m',
    severity: 'high',
    title: 'Preact JSON VNode injection',
    affects: [{ package: 'preact', range: '>=10.26.5 <10.26.10 || >=10.27.0 <10.27.3 || >=10.28.0 <10.28.2' }],
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
