import { DataError } from '../errors';
import { systemClock, type Clock } from '../clock';
import { MANIFEST_FILE, PIXELS_PER_IMAGE, RECORD_BYTES, type Manifest, type ShardInfo, type SplitName } from './format';
import { parseManifest, type ClassCount } from './manifest';

/** One split held in memory as bytes: never a float copy of the whole set (50,000 images are 150 MB as bytes, 600 MB as floats). */
export interface SplitData {
  /** N × 32 × 32 × 3 bytes, image i at offset i × 3072, HWC order. */
  pixels: Uint8Array;
  labels: Uint8Array;
}

export interface Dataset {
  manifest: Manifest;
  /** The user's own data set's name (their folder's or zip's); absent for CIFAR-10. */
  ownName?: string;
  train: SplitData;
  test: SplitData;
}

export interface LoadProgress {
  loadedBytes: number;
  totalBytes: number;
  loadedImages: number;
  totalImages: number;
  /** Shard being read. */
  file: string;
  /** Shards served from the browser's cache so far. */
  cachedShards: number;
  /** True while the current shard has sent nothing for `STALL_MS`. */
  stalled: boolean;
}

/**
 * A shard that sends no byte for this long is reported as stalled, so the
 * page can offer Cancel and Retry instead of a progress bar that never moves.
 * Unit: ms. Long enough for a slow mobile connection's pauses.
 */
export const STALL_MS = 10_000;

/** Where verified shards are kept between visits; the Cache API in the browser, a Map in tests. */
export interface ShardCache {
  get(key: string): Promise<ArrayBuffer | undefined>;
  put(key: string, bytes: ArrayBuffer): Promise<void>;
}

export interface LoadOptions {
  /** Folder URL holding manifest.json and the shards, with a trailing slash. */
  baseUrl: string;
  fetch?: typeof fetch;
  cache?: ShardCache;
  onProgress?: (p: LoadProgress) => void;
  /** Aborting cancels the download; the promise rejects with a `load-cancelled` DataError. */
  signal?: AbortSignal;
  /** How many classes the manifest may list; CIFAR-10's ten by default. */
  classCount?: ClassCount;
  /** Overrides STALL_MS. */
  stallMs?: number;
  /** What stalls are timed by; the system clock by default. */
  clock?: Clock;
}

export async function loadDataset(opts: LoadOptions): Promise<Dataset> {
  const doFetch = opts.fetch ?? fetch;
  const manifestUrl = new URL(MANIFEST_FILE, opts.baseUrl).href;
  const response = await request(doFetch, manifestUrl, MANIFEST_FILE, opts.signal);
  if (!response.ok) {
    throw new DataError(
      'manifest-missing',
      `The data set index ${MANIFEST_FILE} could not be loaded (HTTP ${response.status}). Prepare the data with "npm run data".`,
      MANIFEST_FILE,
    );
  }
  let json: unknown;
  try {
    json = await response.json();
  } catch {
    throw new DataError('manifest-invalid', `${MANIFEST_FILE} is not valid JSON. Rebuild the data with "npm run data".`, MANIFEST_FILE);
  }
  const manifest = parseManifest(json, MANIFEST_FILE, opts.classCount);

  const splits: SplitName[] = ['train', 'test'];
  const progress: LoadProgress = {
    loadedBytes: 0,
    totalBytes: splits.reduce((sum, s) => sum + manifest.splits[s].shards.reduce((b, sh) => b + sh.bytes, 0), 0),
    loadedImages: 0,
    totalImages: manifest.splits.train.count + manifest.splits.test.count,
    file: '',
    cachedShards: 0,
    stalled: false,
  };
  const out = {} as Record<SplitName, SplitData>;
  const store = new ShardStore(opts.cache);
  for (const split of splits) {
    const info = manifest.splits[split];
    const data: SplitData = { pixels: new Uint8Array(info.count * PIXELS_PER_IMAGE), labels: new Uint8Array(info.count) };
    let offset = 0; // images already placed in this split
    for (const shard of info.shards) {
      progress.file = shard.file;
      const bytes = await readShard(doFetch, opts, shard, progress, store);
      unpackRecords(bytes, shard, manifest.classes.length, data, offset);
      offset += shard.count;
      progress.loadedImages += shard.count;
      opts.onProgress?.({ ...progress });
    }
    out[split] = data;
  }
  await store.flushed();
  return { manifest, train: out.train, test: out.test };
}

/**
 * Writes verified shards to the cache one at a time, each while the next one
 * downloads: a fresh visit spent about 40 % of its load waiting on these
 * writes (Chromium, 12 shards, 180 MB). At most one shard's bytes wait for
 * the disk. A failed write only costs a download on the next visit.
 */
class ShardStore {
  private last: Promise<void> = Promise.resolve();

  constructor(private readonly cache: ShardCache | undefined) {}

  /** Resolves when the previous write has ended and this one has started. */
  async put(key: string, bytes: ArrayBuffer): Promise<void> {
    if (!this.cache) return;
    await this.last;
    this.last = this.cache.put(key, bytes).catch(() => undefined);
  }

  flushed(): Promise<void> {
    return this.last;
  }
}

async function request(
  doFetch: typeof fetch,
  url: string,
  file: string,
  signal?: AbortSignal,
  cache: RequestCache = 'no-cache',
): Promise<Response> {
  try {
    return await doFetch(url, { signal, cache });
  } catch (error) {
    if (signal?.aborted) throw cancelled(file);
    throw new DataError('network', `${file} could not be downloaded: the server did not answer (${(error as Error).message}).`, file);
  }
}

function cancelled(file: string): DataError {
  return new DataError(
    'load-cancelled',
    `Loading was cancelled during ${file}. Shards already verified are kept, so Retry continues from there.`,
    file,
  );
}

/** Awaits `next`, reporting a stall (and its end) while the server sends nothing for `stallMs`. */
async function watchStall<T>(next: Promise<T>, stallMs: number, clock: Clock, onStall: (stalled: boolean) => void): Promise<T> {
  let cancel = () => {};
  const stall = new Promise<typeof STALLED>((resolve) => (cancel = clock.after(stallMs, () => resolve(STALLED))));
  const first = await Promise.race([next, stall]).finally(() => cancel());
  if (first !== STALLED) return first as T;
  onStall(true);
  try {
    return await next;
  } finally {
    onStall(false);
  }
}

const STALLED = Symbol('stalled');

/** Returns the shard's verified bytes, from the cache when an earlier visit verified them. */
async function readShard(
  doFetch: typeof fetch,
  opts: LoadOptions,
  shard: ShardInfo,
  progress: LoadProgress,
  store: ShardStore,
): Promise<Uint8Array> {
  // The checksum is part of the key: a rebuilt data set never reads a stale shard.
  const key = new URL(`${shard.file}?sha256=${shard.sha256}`, opts.baseUrl).href;
  const cached = await opts.cache?.get(key).catch(() => undefined);
  if (cached && cached.byteLength === shard.bytes && (await sha256Hex(cached)) === shard.sha256) {
    progress.loadedBytes += shard.bytes;
    progress.cachedShards += 1;
    return new Uint8Array(cached);
  }

  const stallMs = opts.stallMs ?? STALL_MS;
  const clock = opts.clock ?? systemClock;
  const onStall = (stalled: boolean) => {
    progress.stalled = stalled;
    opts.onProgress?.({ ...progress });
  };
  // With a shard cache of our own, the browser's HTTP cache would only keep a second copy of 180 MB (and writing
  // it slows the download); without one (no Cache Storage), revalidating through it is the next best thing.
  const response = await watchStall(
    request(doFetch, new URL(shard.file, opts.baseUrl).href, shard.file, opts.signal, opts.cache ? 'no-store' : 'no-cache'),
    stallMs,
    clock,
    onStall,
  );
  if (response.status === 404) {
    throw new DataError('shard-missing', `Shard ${shard.file} was not found on the server (HTTP 404).`, shard.file);
  }
  if (!response.ok || !response.body) {
    throw new DataError('network', `Shard ${shard.file} could not be downloaded (HTTP ${response.status}).`, shard.file);
  }
  const buffer = new Uint8Array(shard.bytes);
  let received = 0;
  const reader = response.body.getReader();
  for (;;) {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await watchStall(reader.read(), stallMs, clock, onStall);
    } catch {
      if (opts.signal?.aborted) throw cancelled(shard.file);
      throw new DataError('network', `Shard ${shard.file} stopped downloading after ${received} of ${shard.bytes} bytes.`, shard.file);
    }
    if (chunk.done) break;
    if (received + chunk.value.byteLength > shard.bytes) {
      await reader.cancel();
      throw new DataError(
        'shard-checksum',
        `Shard ${shard.file} is larger than the ${shard.bytes} bytes the manifest lists: it does not match the data set.`,
        shard.file,
      );
    }
    buffer.set(chunk.value, received);
    received += chunk.value.byteLength;
    progress.loadedBytes += chunk.value.byteLength;
    opts.onProgress?.({ ...progress });
  }
  if (received < shard.bytes) {
    throw new DataError(
      'shard-truncated',
      `Shard ${shard.file} is cut short: ${received} of ${shard.bytes} bytes (${Math.floor(received / RECORD_BYTES)} of ${shard.count} images).`,
      shard.file,
    );
  }
  if ((await sha256Hex(buffer)) !== shard.sha256) {
    throw new DataError(
      'shard-checksum',
      `Shard ${shard.file} failed its checksum: the file is corrupt or from another version of the data set.`,
      shard.file,
    );
  }
  await store.put(key, buffer.buffer);
  return buffer;
}

function unpackRecords(bytes: Uint8Array, shard: ShardInfo, classes: number, into: SplitData, firstImage: number): void {
  for (let i = 0; i < shard.count; i++) {
    const record = i * RECORD_BYTES;
    const label = bytes[record] as number;
    // The checksum matched, so a bad label means the manifest itself was built from bad data.
    if (label >= classes) {
      throw new DataError('shard-checksum', `Shard ${shard.file} has an invalid label ${label} in image ${i}.`, shard.file);
    }
    into.labels[firstImage + i] = label;
    into.pixels.set(bytes.subarray(record + 1, record + RECORD_BYTES), (firstImage + i) * PIXELS_PER_IMAGE);
  }
}

export async function sha256Hex(bytes: ArrayBuffer | Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as BufferSource);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The browser's Cache Storage, or nothing where it is unavailable (insecure origin, private mode). */
export async function openBrowserShardCache(name = 'cifar10-shards-v1'): Promise<ShardCache | undefined> {
  if (typeof caches === 'undefined') return undefined;
  try {
    const cache = await caches.open(name);
    return {
      async get(key) {
        const hit = await cache.match(key);
        return hit ? hit.arrayBuffer() : undefined;
      },
      async put(key, bytes) {
        await cache.put(key, new Response(bytes, { headers: { 'content-type': 'application/octet-stream' } }));
      },
    };
  } catch {
    return undefined;
  }
}
