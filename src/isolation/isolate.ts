/**
 * Makes the page cross-origin isolated where its host did not: registers the
 * app's service worker (sw.ts), which adds the isolation headers, and
 * reloads once to come under it. Runs before the app renders (main.tsx);
 * the answer travels to the training worker, whose backend line says which
 * way isolation came, or why it did not.
 */

/** How the page came to be cross-origin isolated, or why it is not. */
export type Isolation = { by: 'headers' | 'service-worker' } | { by: null; why: string };

/** What `isolate` reads and does, as a parameter so that tests can pass their own. */
export interface IsolationEnvironment {
  /** `crossOriginIsolated` of the page. */
  isolated: boolean;
  /** `isSecureContext`: service workers exist only on HTTPS and localhost. */
  secure: boolean;
  /** `navigator.serviceWorker`, absent where the browser offers none (some private windows, file://). */
  serviceWorker: Pick<ServiceWorkerContainer, 'register' | 'ready' | 'controller'> | undefined;
  /** Remembers, across the one reload, that it was tried. */
  session: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> | undefined;
  reload(): void;
  /** Resolves after `ms` (setTimeout in the browser; tests pass their own clock). */
  sleep(ms: number): Promise<void>;
  /** The service worker's absolute URL, and its scope: the app's base path. */
  script: string;
  scope: string;
}

/** Said in the backend line where the page owes its isolation, and so its threads, to the app's service worker, not to its server. */
export const ISOLATED_BY_SERVICE_WORKER = 'isolated by the app’s service worker';

/** The session key marking that the page already reloaded once to come under the service worker. */
export const RELOADED_KEY = 'cifar10-isolation-reload';

/**
 * How long the service worker may take to install and take over before the
 * page runs without it: `navigator.serviceWorker.ready` never settles where
 * the worker fails to install, and the page must not stay blank. Its script is
 * one small file. Unit: ms.
 */
export const SERVICE_WORKER_WAIT_MS = 10_000;

const NO_HEADERS = 'the server sends no Cross-Origin-Opener-Policy and Cross-Origin-Embedder-Policy headers';

/**
 * Resolves with how the page is isolated; or, when it reloads the page to
 * come under the freshly installed service worker, never (the page is going).
 */
export async function isolate(env: IsolationEnvironment = browserEnvironment()): Promise<Isolation> {
  if (env.isolated) {
    env.session?.removeItem(RELOADED_KEY);
    return { by: env.serviceWorker?.controller?.scriptURL === env.script ? 'service-worker' : 'headers' };
  }
  if (!env.secure) {
    return { by: null, why: `${NO_HEADERS}, and the page is not served over HTTPS, where the app's service worker could add them` };
  }
  if (!env.serviceWorker || !env.session) {
    return { by: null, why: `${NO_HEADERS}, and this browser offers no service worker to add them (a private window?)` };
  }
  if (env.session.getItem(RELOADED_KEY) !== null) {
    env.session.removeItem(RELOADED_KEY);
    return { by: null, why: `${NO_HEADERS}; the app's service worker is installed, but the page is still not isolated` };
  }
  const container = env.serviceWorker;
  const started = (async () => {
    await container.register(env.script, { scope: env.scope });
    await container.ready;
    return true;
  })();
  // Past the wait, a late failure has nobody to tell.
  started.catch(() => undefined);
  try {
    if (!(await Promise.race([started, env.sleep(SERVICE_WORKER_WAIT_MS).then(() => false)]))) {
      return { by: null, why: `${NO_HEADERS}, and the app's service worker did not start within ${SERVICE_WORKER_WAIT_MS / 1000} s` };
    }
  } catch (error) {
    return { by: null, why: `${NO_HEADERS}, and the app's service worker could not be installed (${(error as Error).message})` };
  }
  env.session.setItem(RELOADED_KEY, '1');
  env.reload();
  return new Promise<never>(() => {});
}

function browserEnvironment(): IsolationEnvironment {
  const base = import.meta.env.BASE_URL;
  let session: Storage | undefined;
  try {
    session = sessionStorage;
  } catch {
    session = undefined; // storage blocked: the reload could not be remembered, so it is not tried
  }
  return {
    isolated: crossOriginIsolated,
    secure: isSecureContext,
    serviceWorker: 'serviceWorker' in navigator ? navigator.serviceWorker : undefined,
    session,
    reload: () => location.reload(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    script: new URL(`${base}coi-sw.js`, location.href).href,
    scope: base,
  };
}
