/**
 * What a page does that a test may want to forbid: every request of its
 * context (workers and service workers included), every load, and every
 * error — uncaught exceptions, console errors, and Content Security Policy
 * refusals, which Chromium reports both on the console and as
 * `securitypolicyviolation` events (forwarded to the console here).
 */
import type { Page } from '@playwright/test';

export interface Watched {
  requests: string[];
  errors: string[];
  /** `load` events of the page's main frame: 2 after one reload. */
  loads: number;
}

export async function watchPage(page: Page): Promise<Watched> {
  const seen: Watched = { requests: [], errors: [], loads: 0 };
  page.context().on('request', (request) => seen.requests.push(request.url()));
  page.on('load', () => (seen.loads += 1));
  page.on('pageerror', (e) => seen.errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' || /Content Security Policy|Refused to/i.test(m.text())) seen.errors.push(m.text());
  });
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
  });
  return seen;
}

/** Requests that left `origin` (data: URLs stay in the page). */
export const foreignRequests = (seen: Watched, origin: string) =>
  seen.requests.filter((url) => !url.startsWith(`${origin}/`) && !url.startsWith('data:'));
