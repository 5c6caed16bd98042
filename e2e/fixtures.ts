/**
 * What the specs share: a page whose request routes end with its test, the
 * page's uncaught errors, collected from the start, the training worker
 * served with test code run before its own (a fault, a missing browser API),
 * which part of the real data set the page loads, and whether the page finds
 * an earlier visit's preset costs.
 * Every spec takes `test` from here (fixtures.test.ts checks it).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test as base, expect, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { COSTS_DIR_ENV } from './global-setup';
import { MANIFEST, servedSample, type DataChoice } from './sample-data';

export { FULL_LOADED, SAMPLE_LOADED } from './sample-data';

/** The bundled training worker, whatever its content hash. */
const TRAINER_WORKER = /\/assets\/trainer\.worker-[\w-]+\.js$/;

/** The messages of `page`'s uncaught errors from now on; a test expects it empty at the points it chooses. */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return errors;
}

export interface WorkerPatchOptions {
  /**
   * Forbids the browser to keep the patched script, so a worker started
   * later (Restart) is requested, and patched, again.
   */
  noStore?: boolean;
}

/** How many training workers the page has requested so far. */
export interface PatchedWorker {
  readonly served: number;
}

/**
 * Serves every training worker of `page` with `code` run before the worker's
 * own script. `code` may depend on how many workers have been served,
 * counting this one from 1, to patch only the first.
 */
async function patchWorker(
  page: Page,
  code: string | ((served: number) => string),
  { noStore = false }: WorkerPatchOptions = {},
): Promise<PatchedWorker> {
  let served = 0;
  await page.route(TRAINER_WORKER, async (route) => {
    served += 1;
    const prefix = typeof code === 'string' ? code : code(served);
    const response = await route.fetch();
    const body = prefix + (await response.text());
    await route.fulfill(noStore ? { response, body, headers: { ...response.headers(), 'cache-control': 'no-store' } } : { response, body });
  });
  return {
    get served() {
      return served;
    },
  };
}

/** Where the page keeps the preset costs it measured (src/ui/presetCosts.ts, cacheKey). */
const COST_KEY_PREFIX = 'cifar10-in-a-tab:cost:';

/**
 * `earlier-visit`: every page of the test's context finds the preset costs
 * that one page of this Playwright worker measured on this machine, as a
 * returning visitor's page does (src/ui/usePresetCosts.ts), and measures only
 * what they lack. A first visit's measurement trains each preset for a few
 * seconds after the data loads: about 16 s on both cores here, which every
 * spec that lingers on a page without training would otherwise compete with.
 * `first-visit`: the page measures, as on a first visit (e2e/costs.spec.ts).
 */
export type PresetCostChoice = 'earlier-visit' | 'first-visit';

/** Every page of `context` reads the sample's manifest instead of the served one. */
async function serveSample(context: BrowserContext): Promise<void> {
  const body = JSON.stringify(servedSample());
  await context.route(MANIFEST, (route) => route.fulfill({ status: 200, contentType: 'application/json', body }));
}

/** Opens a page of the built app with the sample data, lets it measure every preset's cost on WASM, and returns what it stored. */
async function measureOnce(browser: Browser, baseURL: string): Promise<[string, string][]> {
  const context = await browser.newContext({ baseURL });
  try {
    await serveSample(context);
    const page = await context.newPage();
    await page.goto('/?backend=wasm');
    await expect(page.locator('[data-testid="preset-costs"] tbody tr[data-images-per-second]')).toHaveCount(4, { timeout: 240_000 });
    const stored = await page.evaluate((prefix) => Object.entries(localStorage).filter(([key]) => key.startsWith(prefix)), COST_KEY_PREFIX);
    expect(stored, 'one stored cost per preset').toHaveLength(4);
    return stored;
  } finally {
    await context.close();
  }
}

/** How long a worker waits for another's measurement before its test fails. Unit: ms. */
const COSTS_WAIT_MS = 240_000;

/**
 * The preset costs of this run: measured by the first Playwright worker that
 * needs them and written to the run's folder; the others find them there (the
 * workers run side by side, and a measurement costs ~27 CPU-seconds). The
 * first to create the lock measures; the rest wait for its file.
 */
async function sharedCosts(browser: Browser, baseURL: string): Promise<[string, string][]> {
  const dir = process.env[COSTS_DIR_ENV];
  if (!dir) return measureOnce(browser, baseURL);
  const file = path.join(dir, 'costs.json');
  const read = () => {
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as [string, string][];
    } catch {
      return undefined;
    }
  };
  let measuring = false;
  try {
    mkdirSync(path.join(dir, 'lock'));
    measuring = true;
  } catch {
    // Another worker holds the lock: it is measuring, or has measured.
  }
  if (measuring) {
    const costs = await measureOnce(browser, baseURL);
    // Written whole, then renamed: a reader never sees half a file.
    writeFileSync(`${file}.part`, JSON.stringify(costs));
    renameSync(`${file}.part`, file);
    return costs;
  }
  await expect.poll(read, { message: 'the preset costs another worker measures', timeout: COSTS_WAIT_MS, intervals: [500] }).toBeDefined();
  return read() as [string, string][];
}

export const test = base.extend<
  {
    /** Which part of the real data set every page of the test's context loads. */
    data: DataChoice;
    /** Whether the test's pages find the preset costs of an earlier visit. */
    presetCosts: PresetCostChoice;
    /** Uncaught errors of `page`, collected from before the test's first step. */
    pageErrors: string[];
    /** `patchWorker` for `page`; call it before the page loads. */
    patchWorker: (code: string | ((served: number) => string), options?: WorkerPatchOptions) => Promise<PatchedWorker>;
  },
  {
    /** The preset costs this machine measured, from the first test of this worker that asks (measured then, once). */
    measuredCosts: () => Promise<[string, string][]>;
  }
>({
  data: ['sample', { option: true }],
  presetCosts: ['earlier-visit', { option: true }],
  measuredCosts: [
    async ({ browser }, provide, workerInfo) => {
      let measured: Promise<[string, string][]> | undefined;
      const baseURL = workerInfo.project.use.baseURL;
      if (!baseURL) throw new Error('The project has no baseURL to measure the preset costs at');
      await provide(() => (measured ??= sharedCosts(browser, baseURL)));
    },
    { scope: 'worker' },
  ],
  context: async ({ context, data, presetCosts, measuredCosts }, provide) => {
    if (data === 'sample') await serveSample(context);
    if (presetCosts === 'earlier-visit') {
      // Before any script of each page: what the earlier visit left in this origin's localStorage.
      await context.addInitScript(
        (entries) => {
          for (const [key, value] of entries) if (localStorage.getItem(key) === null) localStorage.setItem(key, value);
        },
        await measuredCosts(),
      );
    }
    await provide(context);
  },
  // A route handler still awaiting `route.fetch()` when its test ends (a shard the page was still loading)
  // fails the run with "1 error was not a part of any test". Routes end here, before the page closes,
  // and whatever their handlers were still doing is dropped.
  page: async ({ page }, provide) => {
    await provide(page);
    await page.unrouteAll({ behavior: 'ignoreErrors' });
  },
  // `provide` is Playwright's `use`, renamed so the React hooks lint does not take it for React's.
  pageErrors: async ({ page }, provide) => {
    await provide(collectPageErrors(page));
  },
  patchWorker: async ({ page }, provide) => {
    await provide((code, options) => patchWorker(page, code, options));
  },
});

export { expect };
