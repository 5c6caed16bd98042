/**
 * The user's own data set, kept in the browser between visits: its manifest
 * and shards in Cache Storage under URLs of their own, so the loader reads it
 * exactly as it reads CIFAR-10 (checksums included) through `ownDataFetch`.
 * One data set at a time: a new import is written in full under a new folder
 * before the pointer moves to it, so a failed import leaves the last one whole.
 */
import { AppError } from '../errors';
import { MANIFEST_FILE } from './format';
import type { BuiltDataSet } from './ownDataSet';
import type { ImportReport } from './ownImport';
import { sha256Hex } from './loader';

/** The part of the Cache API this store uses: a browser `Cache`, or a Map-backed one in tests. */
export interface KeyedStore {
  match(key: string): Promise<Response | undefined>;
  put(key: string, response: Response): Promise<void>;
  delete(key: string): Promise<boolean>;
  keys(): Promise<readonly { url: string }[]>;
}

/** What the page shows of the stored data set. */
export interface OwnDataSetInfo {
  /** The dropped folder's or zip's name. */
  name: string;
  /** Folder of the manifest and shards, with a trailing slash. */
  baseUrl: string;
  /** ms since 1970. */
  importedAt: number;
  /** From the drop to the shards built: reading, decoding, checking (not the writes to storage). Unit: s. */
  seconds: number;
  report: ImportReport;
}

/** Cache Storage's name for it; `-v1`: a new layout gets a new name rather than misreading the old one. */
export const OWN_DATA_CACHE = 'own-data-sets-v1';

/** Never fetched from a server: keys only, under the page's own origin so that Cache Storage accepts them. */
const ROOT = '/__own-data__/';

export class OwnDataStore {
  constructor(
    private readonly store: KeyedStore,
    /** The page's origin, e.g. https://example.org. */
    private readonly origin: string,
  ) {}

  private get pointerUrl(): string {
    return `${this.origin}${ROOT}current.json`;
  }

  /** The stored data set, or null when there is none (never imported, or cleared by the browser). */
  async current(): Promise<OwnDataSetInfo | null> {
    const hit = await this.store.match(this.pointerUrl);
    if (!hit) return null;
    try {
      return (await hit.json()) as OwnDataSetInfo;
    } catch {
      return null;
    }
  }

  /** Writes the data set under a new folder, then points to it, then deletes the one before. */
  async save(built: BuiltDataSet, { name, report, importedAt, seconds }: Omit<OwnDataSetInfo, 'baseUrl'>): Promise<OwnDataSetInfo> {
    const manifestText = JSON.stringify(built.manifest);
    const id = (await sha256Hex(new TextEncoder().encode(manifestText))).slice(0, 16);
    const baseUrl = `${this.origin}${ROOT}${id}/`;
    const previous = await this.current();
    for (const shard of built.shards) {
      await this.store.put(baseUrl + shard.file, new Response(shard.bytes as Uint8Array<ArrayBuffer>));
    }
    await this.store.put(baseUrl + MANIFEST_FILE, new Response(manifestText, { headers: { 'content-type': 'application/json' } }));
    const info: OwnDataSetInfo = { name, baseUrl, importedAt, seconds, report };
    await this.store.put(this.pointerUrl, new Response(JSON.stringify(info), { headers: { 'content-type': 'application/json' } }));
    if (previous && previous.baseUrl !== baseUrl) await this.deleteFolder(previous.baseUrl);
    return info;
  }

  /** Deletes everything under a folder the pointer no longer names (also a half-written import). */
  private async deleteFolder(baseUrl: string): Promise<void> {
    for (const { url } of await this.store.keys()) if (url.startsWith(baseUrl)) await this.store.delete(url);
  }

  /** A fetch for `loadDataset` that answers from the store, 404 for what it lacks. */
  readonly fetch = (async (input: RequestInfo | URL): Promise<Response> => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    return (await this.store.match(url)) ?? new Response(null, { status: 404 });
  }) as typeof fetch;
}

/** The browser's store, or an error the page can show where Cache Storage is missing (an insecure origin, some private modes). */
export async function openOwnDataStore(origin: string): Promise<OwnDataStore> {
  if (typeof caches === 'undefined') {
    throw new AppError(
      'storage-unavailable',
      'This browser gives the page no Cache Storage (an http:// address other than localhost, or a private window), so your pictures cannot be kept; open the page over https.',
    );
  }
  return new OwnDataStore(await caches.open(OWN_DATA_CACHE), origin);
}
