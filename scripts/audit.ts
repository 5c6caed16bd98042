/**
 * `npm run audit`: are there high or critical advisories against the packages
 * the app ships (production dependencies)?
 *
 * Asks the registry first (`npm audit --omit=dev`). Where the registry refuses
 * or cannot be reached, it says so and checks package-lock.json against the
 * advisories recorded in scripts/advisories.ts instead, which is narrower:
 * only advisories someone has recorded there are found.
 *
 * Exit codes: 0 no high or critical advisory, 1 at least one, 2 bad command
 * line or unreadable lockfile, 3 the fallback's list is too old to rely on
 * (see MAX_AGE_DAYS in scripts/advisories.ts).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  ADVISORIES,
  MAX_AGE_DAYS,
  REVIEWED,
  findVulnerable,
  productionPackages,
  staleListMessage,
  type Lockfile,
  type Severity,
} from './advisories';

const ROOT = join(import.meta.dirname, '..');

const USAGE = `Usage: npm run audit -- [--offline]

Fails when a production dependency has a high or critical advisory.

  --offline   skip the registry; check package-lock.json against the
              advisories recorded in scripts/advisories.ts only (fails
              once that list is more than ${MAX_AGE_DAYS} days old)
  -h, --help  show this help
`;

const BLOCKING: readonly Severity[] = ['high', 'critical'];
/** npm audit usually answers in seconds; past this the registry is treated as unreachable. */
const NPM_AUDIT_TIMEOUT_MS = 120_000;

type RegistryAnswer = { kind: 'report'; counts: Record<Severity, number>; blocking: string[] } | { kind: 'unavailable'; reason: string };

/** Runs `npm audit --omit=dev --json` and tells a report apart from a refusal. */
function askRegistry(): RegistryAnswer {
  const run = spawnSync('npm', ['audit', '--omit=dev', '--json'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: NPM_AUDIT_TIMEOUT_MS,
  });
  if (run.error) return { kind: 'unavailable', reason: run.error.message };
  let json: {
    message?: string;
    metadata?: { vulnerabilities?: Partial<Record<Severity, number>> };
    vulnerabilities?: Record<string, { severity: Severity; range?: string }>;
  };
  try {
    json = JSON.parse(run.stdout) as typeof json;
  } catch {
    const line = run.stderr.split('\n').find((l) => l.includes('error')) ?? `npm exited with ${run.status}`;
    return { kind: 'unavailable', reason: line.trim() };
  }
  const counts = json.metadata?.vulnerabilities;
  if (!counts) return { kind: 'unavailable', reason: json.message ?? 'npm audit gave no report' };
  return {
    kind: 'report',
    counts: { low: counts.low ?? 0, moderate: counts.moderate ?? 0, high: counts.high ?? 0, critical: counts.critical ?? 0 },
    blocking: Object.entries(json.vulnerabilities ?? {})
      .filter(([, v]) => BLOCKING.includes(v.severity))
      .map(([name, v]) => `${v.severity}: ${name} ${v.range ?? ''}`.trim()),
  };
}

function checkLockfile(now: Date): number {
  let lock: Lockfile;
  try {
    lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as Lockfile;
    const packages = productionPackages(lock).length;
    process.stdout.write(
      `Checking ${packages} installed production packages against the ${ADVISORIES.length} advisories recorded in scripts/advisories.ts (reviewed ${REVIEWED}).\n`,
    );
  } catch (error) {
    process.stderr.write(`error: cannot read package-lock.json: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
  const findings = findVulnerable(lock);
  for (const f of findings) {
    process.stdout.write(
      `${f.advisory.severity}: ${f.package}@${f.version} (${f.path}): ${f.advisory.title}, https://github.com/advisories/${f.advisory.id}\n`,
    );
  }
  const blocking = findings.filter((f) => BLOCKING.includes(f.advisory.severity)).length;
  process.stdout.write(`${blocking} high or critical, ${findings.length - blocking} lower.\n`);
  const stale = staleListMessage(now);
  if (stale) process.stderr.write(`error: ${stale}\n`);
  return blocking > 0 ? 1 : stale ? 3 : 0;
}

/** `now` is a parameter so the age check of the advisory list reads no clock of its own. */
function main(argv: string[], now: Date): number {
  let values: { offline?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { offline: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }));
  } catch (error) {
    process.stderr.write(`error: ${error instanceof Error ? error.message.split('\n')[0] : String(error)} (see npm run audit -- --help)\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const { offline } = values;

  if (!offline) {
    const answer = askRegistry();
    if (answer.kind === 'report') {
      const { counts } = answer;
      process.stdout.write(
        `npm audit --omit=dev: ${counts.critical} critical, ${counts.high} high, ${counts.moderate} moderate, ${counts.low} low.\n`,
      );
      for (const line of answer.blocking) process.stdout.write(`${line}\n`);
      return counts.high + counts.critical > 0 ? 1 : 0;
    }
    process.stdout.write(`npm audit could not ask the registry (${answer.reason}).\n`);
  }
  return checkLockfile(now);
}

process.exitCode = main(process.argv.slice(2), new Date());
