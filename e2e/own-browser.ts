/**
 * A Chromium of our own, driven over the DevTools protocol's pipe, for what
 * a Playwright-driven browser cannot show: a tab that the browser itself
 * hides. Under Playwright a page stays 'visible' with another tab in front
 * (its launch flags keep renderers from backgrounding, and its attachment
 * keeps the page visible even in a browser started without them); started
 * with the flags a user's browser has, and driven by raw protocol messages, a
 * tab behind another one is 'hidden' and throttled as it is for a user.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { chromiumPath } from '../scripts/browser';

type Message = {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: unknown;
  error?: { message: string };
  sessionId?: string;
};

export interface OwnTab {
  readonly targetId: string;
  /** Sends one protocol command to this tab and waits for its answer. */
  send<T = unknown>(method: string, params?: Record<string, unknown>): Promise<T>;
  /** The value of `expression` in the page, by value. */
  evaluate<T>(expression: string): Promise<T>;
}

export interface OwnBrowser {
  /** A new tab in the browser's one window, opened at about:blank and brought to the front. */
  newTab(): Promise<OwnTab>;
  /** Puts `tab` in front of the others, as a click on it in the tab strip does. */
  activate(tab: OwnTab): Promise<void>;
  /** Calls `listener` with each call of a page binding (Runtime.addBinding), tab by tab. */
  onBinding(listener: (tab: OwnTab, name: string, payload: string) => void): void;
  close(): Promise<void>;
}

/** Starts headless Chromium with only the flags these machines need, none that keep a hidden tab running. */
export async function launchOwnBrowser(): Promise<OwnBrowser> {
  const executable = chromiumPath();
  if (executable === undefined) throw new Error('No Chromium found: set CHROMIUM_PATH');
  const profile = mkdtempSync(join(tmpdir(), 'cifar-own-browser-'));
  const args = ['--headless=new', '--remote-debugging-pipe', '--no-sandbox', '--no-first-run', '--disable-background-networking'];
  const child: ChildProcess = spawn(executable, [...args, `--user-data-dir=${profile}`, 'about:blank'], {
    stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'],
  });
  const toBrowser = child.stdio[3] as Writable;
  const fromBrowser = child.stdio[4] as Readable;
  let nextId = 1;
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const tabs = new Map<string, OwnTab>();
  const bindingListeners: ((tab: OwnTab, name: string, payload: string) => void)[] = [];
  let buffered = '';
  fromBrowser.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    let end: number;
    // Messages are JSON separated by NUL bytes.
    while ((end = buffered.indexOf('\0')) >= 0) {
      const message = JSON.parse(buffered.slice(0, end)) as Message;
      buffered = buffered.slice(end + 1);
      if (message.id !== undefined) {
        const w = waiting.get(message.id);
        waiting.delete(message.id);
        if (message.error) w?.reject(new Error(message.error.message));
        else w?.resolve(message.result);
      } else if (message.method === 'Runtime.bindingCalled' && message.sessionId !== undefined) {
        const tab = tabs.get(message.sessionId);
        const { name, payload } = message.params as { name: string; payload: string };
        if (tab) for (const l of bindingListeners) l(tab, name, payload);
      }
    }
  });
  const send = <T>(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      toBrowser.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    });
  await send('Browser.getVersion');

  return {
    async newTab() {
      const { targetId } = await send<{ targetId: string }>('Target.createTarget', { url: 'about:blank' });
      const { sessionId } = await send<{ sessionId: string }>('Target.attachToTarget', { targetId, flatten: true });
      const tab: OwnTab = {
        targetId,
        send: (method, params) => send(method, params, sessionId),
        async evaluate<T>(expression: string) {
          const r = await send<{ result: { value: T }; exceptionDetails?: { text: string } }>(
            'Runtime.evaluate',
            { expression, returnByValue: true, awaitPromise: true },
            sessionId,
          );
          if (r.exceptionDetails) throw new Error(`in the page: ${r.exceptionDetails.text}`);
          return r.result.value;
        },
      };
      tabs.set(sessionId, tab);
      return tab;
    },
    async activate(tab) {
      await send('Target.activateTarget', { targetId: tab.targetId });
    },
    onBinding(listener) {
      bindingListeners.push(listener);
    },
    async close() {
      await send('Browser.close').catch(() => {});
      await new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
