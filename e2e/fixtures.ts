/**
 * What the specs share: a page whose request routes end with its test, the
 * page's uncaught errors, collected from the start, the training worker
 * served with test code run before its own (a fault, a missing browser API),
 * and which part of the real data set the page loads.
 * Every spec takes `test` from here (fixtures.test.ts checks it).
 */
import { test as base, expect, type Page } from '@playwright/test';
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

export const test = base.extend<{
  /** Which part of the real data set every page of the test's context loads. */
  data: DataChoice;
  /** Uncaught errors of `page`, collected from before the test's first step. */
  pageErrors: string[];
  /** `patchWorker` for `page`; call it before the page loads. */
  patchWorker: (code: string | ((served: number) => string), options?: WorkerPatchOptions) => Promise<PatchedWorker>;
}>({
  data: ['sample', { option: true }],
  context: async ({ context, data }, provide) => {
    if (data === 'sample') {
      const body = JSON.stringify(servedSample());
      await context.route(MANIFEST, (route) => route.fulfill({ status: 200, contentType: 'application/json', body }));
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
