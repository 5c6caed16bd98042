import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { expect, SAMPLE_LOADED, test } from './fixtures';
import { SHORT_RUN } from './dashboard';

/** An accessibility scan (axe-core) of the page's main states: no serious or critical violation. */

/**
 * The rules whose outcome depends on colour. The dark scheme changes colours only (the same elements, the
 * charts drawn again in other colours), so its scan runs these; the light one runs every rule. A full scan
 * of the results costs several CPU-seconds here.
 */
const COLOUR_RULES = ['color-contrast', 'link-in-text-block'];

async function seriousViolations(page: Page, rules?: string[]) {
  const builder = new AxeBuilder({ page });
  const { violations } = await (rules ? builder.withRules(rules) : builder).analyze();
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ rule: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }));
}

/** Both colour schemes, scanned in turn (the charts are drawn again in each): every rule in the light one, the colour rules in the dark one. */
async function inBothSchemes(page: Page) {
  const found: Record<string, Awaited<ReturnType<typeof seriousViolations>>> = {};
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    // The charts follow the scheme: wait until they are drawn again in its axis colour.
    for (const chart of await page.locator('.chart[data-drawn="true"] svg').all())
      await expect(chart.locator('.role-axis-label text').first()).toHaveAttribute('fill', scheme === 'dark' ? '#c3c9d3' : '#3d4554');
    found[scheme] = await seriousViolations(page, scheme === 'dark' ? COLOUR_RULES : undefined);
  }
  return found;
}

test('loading, training and results pass an accessibility scan, in the light and the dark scheme', async ({ page, pageErrors }) => {
  // Load, train, then six scans: on a busy machine this takes well over the default three minutes.
  test.setTimeout(420_000);
  await page.goto(`/?${SHORT_RUN}`);
  await expect(page.getByTestId('status')).toHaveText('loading');
  expect(await inBothSchemes(page), 'loading').toEqual({ light: [], dark: [] });

  await expect(page.getByTestId('data-status')).toContainText(SAMPLE_LOADED, { timeout: 120_000 });
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await expect.poll(async () => Number(await page.getByTestId('step').textContent()), { timeout: 60_000 }).toBeGreaterThan(0);
  expect(await inBothSchemes(page), 'training').toEqual({ light: [], dark: [] });

  await expect(page.getByTestId('status')).toHaveText('done', { timeout: 180_000 });
  await expect(page.getByTestId('per-class-chart')).toHaveAttribute('data-drawn', 'true');
  // With the matrix's table and a cell's images open too.
  await page.locator('summary', { hasText: 'The matrix as a table' }).click();
  await page.getByTestId('confusion-table').getByRole('button').first().click();
  await expect(page.getByTestId('cell-images')).toBeVisible();
  expect(await inBothSchemes(page), 'results').toEqual({ light: [], dark: [] });
  expect(pageErrors).toEqual([]);
});
