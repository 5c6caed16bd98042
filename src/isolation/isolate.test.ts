import { describe, expect, it } from 'vitest';
import { isolate, RELOADED_KEY, SERVICE_WORKER_WAIT_MS, type IsolationEnvironment } from './isolate';

const SCRIPT = 'https://school.example/app/coi-sw.js';

/** A browser as `isolate` sees it: by default secure, not isolated, with service workers and session storage. */
function browser(overrides: Partial<IsolationEnvironment> & { controller?: string; registerFails?: string; neverReady?: boolean } = {}) {
  const stored = new Map<string, string>();
  const calls = { registered: [] as { script: string; scope: string | undefined }[], reloads: 0, slept: [] as number[] };
  const { controller, registerFails, neverReady, ...rest } = overrides;
  // The clock: a sleep ends only when the test says so.
  const wakers: (() => void)[] = [];
  const env: IsolationEnvironment = {
    isolated: false,
    secure: true,
    serviceWorker: {
      controller: controller ? ({ scriptURL: controller } as ServiceWorker) : null,
      ready: neverReady ? new Promise<ServiceWorkerRegistration>(() => {}) : Promise.resolve({} as ServiceWorkerRegistration),
      register: async (script: string | URL, options?: RegistrationOptions) => {
        if (registerFails) throw new Error(registerFails);
        calls.registered.push({ script: String(script), scope: options?.scope });
        return {} as ServiceWorkerRegistration;
      },
    },
    session: {
      getItem: (key) => stored.get(key) ?? null,
      setItem: (key, value) => void stored.set(key, value),
      removeItem: (key) => void stored.delete(key),
    },
    reload: () => void (calls.reloads += 1),
    sleep: (ms) => {
      calls.slept.push(ms);
      return new Promise<void>((resolve) => wakers.push(resolve));
    },
    script: SCRIPT,
    scope: '/app/',
    ...rest,
  };
  return { env, calls, stored, wake: () => wakers.forEach((wake) => wake()) };
}

/** Whether `promise` settled within a few turns of the event loop. */
async function settles(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(() => (settled = true));
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
  return settled;
}

describe('isolate', () => {
  it('installs nothing where the server already isolates the page', async () => {
    const { env, calls } = browser({ isolated: true });
    expect(await isolate(env)).toEqual({ by: 'headers' });
    expect(calls.registered).toEqual([]);
  });

  it('says the service worker isolated the page where it serves it', async () => {
    const { env, stored } = browser({ isolated: true, controller: SCRIPT });
    stored.set(RELOADED_KEY, '1');
    expect(await isolate(env)).toEqual({ by: 'service-worker' });
    expect(stored.has(RELOADED_KEY)).toBe(false);
  });

  it('registers the service worker at the app’s base and reloads once, resolving never', async () => {
    const { env, calls, stored } = browser();
    expect(await settles(isolate(env))).toBe(false);
    expect(calls.registered).toEqual([{ script: SCRIPT, scope: '/app/' }]);
    expect(calls.reloads).toBe(1);
    expect(stored.get(RELOADED_KEY)).toBe('1');
  });

  it('does not reload a second time when the reload did not isolate the page', async () => {
    const { env, calls, stored } = browser();
    stored.set(RELOADED_KEY, '1');
    const result = await isolate(env);
    expect(result).toEqual({ by: null, why: expect.stringContaining('service worker is installed, but the page is still not isolated') });
    expect(calls.reloads).toBe(0);
    expect(stored.has(RELOADED_KEY)).toBe(false);
  });

  it('says why where no service worker can help: not HTTPS, none offered, registration refused', async () => {
    expect(await isolate(browser({ secure: false }).env)).toEqual({ by: null, why: expect.stringContaining('not served over HTTPS') });
    expect(await isolate(browser({ serviceWorker: undefined }).env)).toEqual({
      by: null,
      why: expect.stringContaining('offers no service worker'),
    });
    const refused = browser({ registerFails: 'The operation is insecure.' });
    expect(await isolate(refused.env)).toEqual({
      by: null,
      why: expect.stringContaining('could not be installed (The operation is insecure.)'),
    });
    expect(refused.calls.reloads).toBe(0);
  });

  it('gives up on a service worker that never starts, rather than leave the page blank', async () => {
    const stuck = browser({ neverReady: true });
    const result = isolate(stuck.env);
    expect(await settles(result)).toBe(false);
    expect(stuck.calls.slept).toEqual([SERVICE_WORKER_WAIT_MS]);
    stuck.wake();
    expect(await result).toEqual({ by: null, why: expect.stringContaining('service worker did not start within 10 s') });
    expect(stuck.calls.reloads).toBe(0);
  });
});
