/**
 * Whether the tests run under CI, read the same way by every TypeScript
 * entry point (Playwright's config and reporter, the hand-over spec, the
 * Python runner). CI services set `CI=true`; our own `.ci/run` sets `CI=1`.
 * Any non-empty value other than `0` or `false` counts, so a guard written
 * for one spelling cannot sleep through the other. `python/tests/conftest.py`
 * reads it with the same rule.
 */
export function isCI(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = (env.CI ?? '').trim().toLowerCase();
  return value !== '' && value !== '0' && value !== 'false';
}
