import { expect, test } from './fixtures';

test('the built app runs a whole training under a strict CSP and talks only to its own origin', async ({ page, baseURL }) => {
  const origin = new URL(baseURL as string).origin;
  const requests: string[] = [];
  page.context().on('request', (request) => requests.push(request.url()));
  const cspMessages: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) cspMessages.push(message.text());
  });
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { __cspViolations: string[] }).__cspViolations = seen;
    document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.violatedDirective} ${e.blockedURI}`));
  });

  const response = await page.goto('/?preset=tiny&epochs=1&trainLimit=256&testLimit=100&autostart=1');
  const header = response?.headers()['content-security-policy'] ?? '';
  for (const directive of ["script-src 'self' 'wasm-unsafe-eval'", "connect-src 'self'", "worker-src 'self'", "object-src 'none'"]) {
    expect(header).toContain(directive);
  }
  await expect(page.locator('meta[http-equiv="Content-Security-Policy"]')).toHaveAttribute(
    'content',
    /script-src 'self' 'wasm-unsafe-eval'/,
  );

  await expect(page.getByTestId('status')).toHaveText('done', { timeout: 120_000 });
  // The charts are vega drawings: they must render without 'unsafe-eval'.
  for (const id of ['loss-chart', 'accuracy-chart', 'confusion-matrix']) {
    await expect(page.getByTestId(id)).toHaveAttribute('data-drawn', 'true');
    await expect(page.getByTestId(id).locator('canvas, svg').first()).toBeVisible();
  }
  expect(await page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations)).toEqual([]);
  // Vega's expression-sandbox escapes (GHSA-7f2v-3qq3-vvjf, GHSA-829q-m3qg-ph8r) need vega or a View on the page's globals.
  expect(await page.evaluate(() => ['VEGA_DEBUG', 'vega', 'vegaEmbed', 'view'].filter((name) => name in window))).toEqual([]);
  expect(cspMessages).toEqual([]);

  // The policy is really in force: an injected inline script does not run.
  const injected = await page.evaluate(async () => {
    const script = document.createElement('script');
    script.textContent = 'window.__inlineRan = true';
    document.head.append(script);
    await new Promise((resolve) => setTimeout(resolve, 100));
    return (window as unknown as { __inlineRan?: boolean }).__inlineRan ?? false;
  });
  expect(injected).toBe(false);
  const violations = await page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations);
  expect(violations.length).toBeGreaterThan(0);
  for (const v of violations) expect(v).toMatch(/^script-src(-elem)? inline$/);

  expect(requests.length).toBeGreaterThan(10);
  const foreign = requests.filter((url) => !url.startsWith(`${origin}/`) && !url.startsWith('blob:') && !url.startsWith('data:'));
  expect(foreign).toEqual([]);
});
