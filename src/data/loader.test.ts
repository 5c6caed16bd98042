import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ManualClock, until } from '../clock';
import { PIXELS_PER_IMAGE, RECORD_BYTES, type Manifest } from './format';
import { loadDataset, type ShardCache } from './loader';

const BASE = 'http://test.local/data/';

/** Builds a shard whose image i has every pixel byte equal to (seed + i) % 256 and label i % 10. */
function makeShard(count: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(count * RECORD_BYTES);
  for (let i = 0; i < count; i++) {
    bytes[i * RECORD_BYTES] = i % 10;
    bytes.fill((seed + i) % 256, i * RECORD_BYTES + 1, (i + 1) * RECORD_BYTES);
  }
  return bytes;
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function fixture() {
  const files: Record<string, Uint8Array> = {
    'train-000.bin': makeShard(3, 0),
    'train-001.bin': makeShard(2, 100),
    'test-000.bin': makeShard(2, 200),
  };
  const entry = (file: string) => {
    const bytes = files[file] as Uint8Array;
    return { file, count: bytes.length / RECORD_BYTES, bytes: bytes.length, sha256: sha(bytes) };
  };
  const manifest: Manifest = {
    classes: ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'],
    image: { height: 32, width: 32, channels: 3 },
    splits: {
      train: { count: 5, shards: [entry('train-000.bin'), entry('train-001.bin')] },
      test: { count: 2, shards: [entry('test-000.bin')] },
    },
    mean: [120, 120, 120],
    std: [60, 60, 60],
  };
  const requested: string[] = [];
  const fetchStub = (async (input: string | URL | Request) => {
    const name = String(input).slice(BASE.length);
    requested.push(name);
    if (name === 'manifest.json') return new Response(JSON.stringify(manifest));
    const body = files[name];
    return body ? new Response(body as BodyInit) : new Response('not found', { status: 404 });
  }) as typeof fetch;
  return { files, manifest, fetchStub, requested };
}

describe('loadDataset', () => {
  it('streams every shard into per-split byte arrays, in order, without the label bytes', async () => {
    const { fetchStub } = fixture();
    const progress: number[] = [];
    const data = await loadDataset({ baseUrl: BASE, fetch: fetchStub, onProgress: (p) => progress.push(p.loadedImages) });
    expect(data.train.labels).toEqual(new Uint8Array([0, 1, 2, 0, 1]));
    expect(data.train.pixels.length).toBe(5 * PIXELS_PER_IMAGE);
    // Image 3 is the first image of the second shard: every byte is 100.
    expect(data.train.pixels[3 * PIXELS_PER_IMAGE]).toBe(100);
    expect(data.train.pixels[4 * PIXELS_PER_IMAGE - 1]).toBe(100);
    expect(data.test.pixels[PIXELS_PER_IMAGE]).toBe(201);
    expect(progress.at(-1)).toBe(7);
  });

  it('reads verified shards from the cache on the next visit instead of downloading them', async () => {
    const { fetchStub, requested } = fixture();
    const store = new Map<string, ArrayBuffer>();
    const cache: ShardCache = { get: async (k) => store.get(k), put: async (k, b) => void store.set(k, b) };
    await loadDataset({ baseUrl: BASE, fetch: fetchStub, cache });
    expect(store.size).toBe(3);
    requested.length = 0;
    const again = await loadDataset({ baseUrl: BASE, fetch: fetchStub, cache });
    expect(requested).toEqual(['manifest.json']);
    expect(again.train.labels).toEqual(new Uint8Array([0, 1, 2, 0, 1]));
  });

  it('downloads the next shard while the last one is written to the cache, never two writes at once, and skips the HTTP cache', async () => {
    const { fetchStub, requested } = fixture();
    const modes: (RequestCache | undefined)[] = [];
    const recording = ((input: string | URL | Request, init?: RequestInit) => {
      modes.push(init?.cache);
      return fetchStub(input, init);
    }) as typeof fetch;
    const events: string[] = [];
    let writing = 0;
    let mostAtOnce = 0;
    const gates: (() => void)[] = [];
    const cache: ShardCache = {
      get: async () => undefined,
      put: async (key) => {
        writing += 1;
        mostAtOnce = Math.max(mostAtOnce, writing);
        events.push(`put ${key.slice(BASE.length, key.indexOf('?'))} after ${requested.length} requests`);
        await new Promise<void>((resolve) => gates.push(resolve));
        writing -= 1;
      },
    };
    const loading = loadDataset({ baseUrl: BASE, fetch: recording, cache });
    // The first write is still waiting when the second shard is requested.
    await until(() => requested.length === 3);
    expect(events).toEqual(['put train-000.bin after 2 requests']);
    let done = false;
    void loading.then(() => (done = true));
    while (!done) {
      await until(() => gates.length > 0 || done);
      gates.shift()?.();
    }
    expect(mostAtOnce).toBe(1);
    expect(events).toHaveLength(3);
    // The manifest is revalidated; the shards, which our cache keeps, bypass the browser's HTTP cache.
    expect(modes).toEqual(['no-cache', 'no-store', 'no-store', 'no-store']);
  });

  it('revalidates shards through the HTTP cache where there is no shard cache', async () => {
    const { fetchStub } = fixture();
    const modes: (RequestCache | undefined)[] = [];
    const recording = ((input: string | URL | Request, init?: RequestInit) => {
      modes.push(init?.cache);
      return fetchStub(input, init);
    }) as typeof fetch;
    await loadDataset({ baseUrl: BASE, fetch: recording });
    expect(modes).toEqual(['no-cache', 'no-cache', 'no-cache', 'no-cache']);
  });

  it('ignores a corrupted cache entry and downloads the shard again', async () => {
    const { fetchStub, requested, manifest } = fixture();
    const store = new Map<string, ArrayBuffer>();
    const cache: ShardCache = { get: async (k) => store.get(k), put: async (k, b) => void store.set(k, b) };
    await loadDataset({ baseUrl: BASE, fetch: fetchStub, cache });
    const key = `${BASE}train-000.bin?sha256=${manifest.splits.train.shards[0]?.sha256}`;
    const bad = new Uint8Array(store.get(key) as ArrayBuffer);
    bad[10] = (bad[10] as number) ^ 0xff;
    requested.length = 0;
    await loadDataset({ baseUrl: BASE, fetch: fetchStub, cache });
    expect(requested).toEqual(['manifest.json', 'train-000.bin']);
  });

  it('names a missing shard', async () => {
    const { fetchStub, files } = fixture();
    delete files['train-001.bin'];
    await expect(loadDataset({ baseUrl: BASE, fetch: fetchStub })).rejects.toMatchObject({ code: 'shard-missing', file: 'train-001.bin' });
  });

  it('names a shard whose checksum does not match', async () => {
    const { fetchStub, files } = fixture();
    const shard = files['test-000.bin'] as Uint8Array;
    shard[500] = (shard[500] as number) ^ 1;
    await expect(loadDataset({ baseUrl: BASE, fetch: fetchStub })).rejects.toMatchObject({ code: 'shard-checksum', file: 'test-000.bin' });
  });

  it('names a shard that is cut short, with how much arrived', async () => {
    const { fetchStub, files } = fixture();
    files['train-000.bin'] = (files['train-000.bin'] as Uint8Array).subarray(0, RECORD_BYTES + 7);
    await expect(loadDataset({ baseUrl: BASE, fetch: fetchStub })).rejects.toMatchObject({
      code: 'shard-truncated',
      file: 'train-000.bin',
      message: expect.stringContaining(`${RECORD_BYTES + 7} of ${3 * RECORD_BYTES} bytes`),
    });
  });

  it('refuses a shard longer than the manifest says', async () => {
    const { fetchStub, files } = fixture();
    const longer = new Uint8Array(2 * RECORD_BYTES + 1);
    longer.set(files['test-000.bin'] as Uint8Array);
    files['test-000.bin'] = longer;
    await expect(loadDataset({ baseUrl: BASE, fetch: fetchStub })).rejects.toMatchObject({ code: 'shard-checksum', file: 'test-000.bin' });
  });

  it('explains a missing manifest and an invalid one', async () => {
    const missing = (async () => new Response('', { status: 404 })) as unknown as typeof fetch;
    await expect(loadDataset({ baseUrl: BASE, fetch: missing })).rejects.toMatchObject({ code: 'manifest-missing' });
    const { manifest } = fixture();
    const broken = { ...manifest, splits: { ...manifest.splits, train: { ...manifest.splits.train, count: 6 } } };
    const invalid = (async () => new Response(JSON.stringify(broken))) as unknown as typeof fetch;
    await expect(loadDataset({ baseUrl: BASE, fetch: invalid })).rejects.toMatchObject({ code: 'manifest-invalid' });
    const pathy = {
      ...manifest,
      splits: { ...manifest.splits, test: { count: 2, shards: [{ ...manifest.splits.test.shards[0], file: '../secret.bin' }] } },
    };
    const escaping = (async () => new Response(JSON.stringify(pathy))) as unknown as typeof fetch;
    await expect(loadDataset({ baseUrl: BASE, fetch: escaping })).rejects.toMatchObject({ code: 'manifest-invalid' });
  });

  it('reports a server that does not answer as a network error naming the file', async () => {
    const down = (async () => {
      throw new TypeError('Failed to fetch');
    }) as unknown as typeof fetch;
    await expect(loadDataset({ baseUrl: BASE, fetch: down })).rejects.toMatchObject({ code: 'network', file: 'manifest.json' });
  });

  it('reports a stalled shard, then its recovery, and cancels cleanly on abort', async () => {
    const { fetchStub, files } = fixture();
    const slow = files['train-001.bin'] as Uint8Array;
    let release: () => void = () => undefined;
    let gateReached = false;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const stallingFetch = (async (input: string | URL | Request, init?: RequestInit) => {
      if (!String(input).endsWith('train-001.bin')) return fetchStub(input, init);
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          gateReached = true;
          await gate;
          controller.enqueue(slow);
          controller.close();
        },
      });
      return new Response(body);
    }) as typeof fetch;

    const stalls: boolean[] = [];
    const clock = new ManualClock();
    const loading = loadDataset({
      baseUrl: BASE,
      fetch: stallingFetch,
      stallMs: 20,
      clock,
      onProgress: (p) => {
        if (p.stalled !== stalls.at(-1)) stalls.push(p.stalled);
      },
    });
    // Everything before the slow shard arrives at once; then its read waits, timed by our clock.
    await until(() => clock.pending > 0 && gateReached);
    expect(stalls).not.toContain(true);
    clock.advance(19);
    await new Promise((resolve) => setImmediate(resolve));
    expect(stalls).not.toContain(true);
    clock.advance(1);
    await until(() => stalls.at(-1) === true);
    release();
    const data = await loading;
    expect(stalls.slice(-2)).toEqual([true, false]);
    expect(data.train.labels).toHaveLength(5);

    const controller = new AbortController();
    const hanging = (async (input: string | URL | Request, init?: RequestInit) => {
      if (!String(input).endsWith('test-000.bin')) return fetchStub(input, init);
      return new Response(
        new ReadableStream({
          start(c) {
            init?.signal?.addEventListener('abort', () => c.error(new DOMException('aborted', 'AbortError')));
          },
        }),
      );
    }) as typeof fetch;
    const cancelled = loadDataset({ baseUrl: BASE, fetch: hanging, signal: controller.signal, clock: new ManualClock() });
    setTimeout(() => controller.abort(), 30);
    await expect(cancelled).rejects.toMatchObject({ code: 'load-cancelled', file: 'test-000.bin' });
  });
});
