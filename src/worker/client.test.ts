import { afterEach, describe, expect, it, vi } from 'vitest';
import { TrainerClient } from './client';
import type { FromWorker } from './protocol';

/** Stands in for the browser's Worker: the test fires its handlers by hand. */
class FakeWorker {
  static made: FakeWorker[] = [];
  static nth(i: number): FakeWorker {
    const worker = FakeWorker.made[i];
    if (!worker) throw new Error(`no worker ${i} was made`);
    return worker;
  }
  onmessage: ((event: MessageEvent<FromWorker>) => void) | null = null;
  onerror: ((event: ErrorEvent) => void) | null = null;
  terminated = false;
  constructor() {
    FakeWorker.made.push(this);
  }
  postMessage(): void {}
  terminate(): void {
    this.terminated = true;
  }
  /** What the worker's script would post, if anyone still listens. */
  post(message: FromWorker): void {
    this.onmessage?.({ data: message } as MessageEvent<FromWorker>);
  }
  crash(message: string): void {
    this.onerror?.({ message, preventDefault: () => undefined } as ErrorEvent);
  }
}

afterEach(() => {
  vi.unstubAllGlobals();
  FakeWorker.made = [];
});

describe('TrainerClient', () => {
  it('ends a crashed worker, so nothing it posts later overwrites the error', () => {
    vi.stubGlobal('Worker', FakeWorker);
    const client = new TrainerClient();
    const seen: FromWorker[] = [];
    client.subscribe((m) => seen.push(m));
    const first = FakeWorker.nth(0);

    first.crash('simulated crash');
    first.post({ type: 'status', status: 'ready' });

    expect(first.terminated).toBe(true);
    expect(seen.map((m) => m.type)).toEqual(['error', 'status']);
    expect(seen[0]).toMatchObject({ type: 'error', error: { code: 'worker-crashed' } });
    expect(seen[1]).toEqual({ type: 'status', status: 'error' });

    // Restart brings a fresh worker whose messages reach the page.
    client.restart();
    const second = FakeWorker.nth(1);
    second.post({ type: 'status', status: 'ready' });
    expect(seen.at(-1)).toEqual({ type: 'status', status: 'ready' });
  });
});
