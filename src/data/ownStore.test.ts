import { describe, expect, it } from 'vitest';
import { loadDataset } from './loader';
import { ANY_CLASSES } from './manifest';
import { buildDataSet } from './ownDataSet';
import type { ImportReport } from './ownImport';
import { OwnDataStore, type KeyedStore } from './ownStore';
import { PIXELS_PER_IMAGE } from './format';

/** Cache Storage's behaviour for what the store uses: whole responses by URL. */
class MapStore implements KeyedStore {
  readonly entries = new Map<string, ArrayBuffer>();
  failPutsAfter = Infinity;
  async match(key: string) {
    const bytes = this.entries.get(key);
    return bytes ? new Response(bytes.slice(0)) : undefined;
  }
  async put(key: string, response: Response) {
    if (this.failPutsAfter-- <= 0) throw new DOMException('Quota exceeded', 'QuotaExceededError');
    this.entries.set(key, await response.arrayBuffer());
  }
  async delete(key: string) {
    return this.entries.delete(key);
  }
  async keys() {
    return [...this.entries.keys()].map((url) => ({ url }));
  }
}

const picture = (value: number) => new Uint8Array(PIXELS_PER_IMAGE).fill(value);
const classes = (names: string[], perClass: number) =>
  names.map((name, c) => ({ name, images: Array.from({ length: perClass }, (_, i) => picture(c * 50 + i)) }));
const report = (names: string[]): ImportReport => ({
  root: 'drop',
  counts: names.map((name) => ({ name, count: 5 })),
  skippedFiles: [],
  unreadable: [],
  skippedClasses: [],
});

describe('OwnDataStore', () => {
  it('keeps a data set that the loader reads back whole, checksums and class names included', async () => {
    const store = new OwnDataStore(new MapStore(), 'https://example.org');
    const built = await buildDataSet(classes(['oak', 'maple', 'birch'], 5));
    const info = await store.save(built, { name: 'leaves', report: report(['oak', 'maple', 'birch']), importedAt: 1234, seconds: 1 });
    expect(await store.current()).toEqual(info);
    const data = await loadDataset({ baseUrl: info.baseUrl, fetch: store.fetch, classCount: ANY_CLASSES });
    expect(data.manifest.classes).toEqual(['oak', 'maple', 'birch']);
    expect(data.train.labels.length + data.test.labels.length).toBe(15);
    expect(Math.max(...data.train.labels, ...data.test.labels)).toBe(2);
  });

  it('has nothing before the first import', async () => {
    expect(await new OwnDataStore(new MapStore(), 'https://example.org').current()).toBeNull();
  });

  it('replaces the data set before, deleting its shards once the new one is in place', async () => {
    const map = new MapStore();
    const store = new OwnDataStore(map, 'https://example.org');
    const first = await store.save(await buildDataSet(classes(['a', 'b'], 4)), {
      name: 'first',
      report: report(['a', 'b']),
      importedAt: 1,
      seconds: 1,
    });
    const second = await store.save(await buildDataSet(classes(['x', 'y', 'z'], 4)), {
      name: 'second',
      report: report(['x', 'y', 'z']),
      importedAt: 2,
      seconds: 1,
    });
    expect((await store.current())?.name).toBe('second');
    expect([...map.entries.keys()].some((k) => k.startsWith(first.baseUrl))).toBe(false);
    expect([...map.entries.keys()].filter((k) => k.startsWith(second.baseUrl)).length).toBeGreaterThan(1);
  });

  it('keeps the data set before whole when writing the new one fails', async () => {
    const map = new MapStore();
    const store = new OwnDataStore(map, 'https://example.org');
    const first = await store.save(await buildDataSet(classes(['a', 'b'], 4)), {
      name: 'first',
      report: report(['a', 'b']),
      importedAt: 1,
      seconds: 1,
    });
    map.failPutsAfter = 1;
    await expect(
      store.save(await buildDataSet(classes(['x', 'y'], 4)), { name: 'second', report: report(['x', 'y']), importedAt: 2, seconds: 1 }),
    ).rejects.toThrow('Quota');
    expect((await store.current())?.name).toBe('first');
    const data = await loadDataset({ baseUrl: first.baseUrl, fetch: store.fetch, classCount: ANY_CLASSES });
    expect(data.manifest.classes).toEqual(['a', 'b']);
  });

  it('answers 404 for what it does not hold, which the loader reports as a missing index', async () => {
    const store = new OwnDataStore(new MapStore(), 'https://example.org');
    await expect(
      loadDataset({ baseUrl: 'https://example.org/__own-data__/gone/', fetch: store.fetch, classCount: ANY_CLASSES }),
    ).rejects.toMatchObject({
      code: 'manifest-missing',
    });
  });
});
