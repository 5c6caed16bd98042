/**
 * The user's own classes, in the training worker: a dropped folder or zip
 * read, decoded and checked (src/data/ownImport.ts), stored in this browser
 * (src/data/ownStore.ts), loaded back as a Dataset, and exported as a zip
 * that the Python side reads like CIFAR-10's shard folder.
 */
import { zipSync } from 'fflate';
import { decodeToModelPixels } from '../classify/decode';
import { AppError } from '../errors';
import { MANIFEST_FILE } from '../data/format';
import { loadDataset, type Dataset, type LoadProgress } from '../data/loader';
import { ANY_CLASSES } from '../data/manifest';
import { importOwnDataSet, zipEntries, type DroppedFile } from '../data/ownImport';
import { openOwnDataStore, type OwnDataSetInfo } from '../data/ownStore';
import type { DroppedFileData, FromWorker } from './protocol';

/** Progress messages at most this often: a few thousand pictures decode in seconds. Unit: ms. */
const PROGRESS_EVERY_MS = 100;

/** A drop of one .zip is read as the zip's content; anything else as the files of a folder. */
async function dropEntries(files: readonly DroppedFileData[]): Promise<DroppedFile[]> {
  const only = files.length === 1 ? files[0] : undefined;
  if (only && /\.zip$/i.test(only.path)) return zipEntries(new Uint8Array(await only.file.arrayBuffer()), only.path);
  return files.map(({ path, file }) => ({ path, file }));
}

/** Reads, checks and stores the drop; the data set stored before stays until this one is written whole. */
export async function importDrop(name: string, files: readonly DroppedFileData[], post: (m: FromWorker) => void): Promise<OwnDataSetInfo> {
  const started = performance.now();
  const store = await openOwnDataStore(self.location.origin);
  let last = 0;
  const { built, report } = await importOwnDataSet(
    await dropEntries(files),
    (file, path) => decodeToModelPixels(file, path),
    (progress) => {
      const now = performance.now();
      if (now - last < PROGRESS_EVERY_MS && progress.decoded < progress.total) return;
      last = now;
      post({ type: 'import-progress', progress });
    },
  );
  try {
    return await store.save(built, { name, report, importedAt: Date.now(), seconds: (performance.now() - started) / 1000 });
  } catch (error) {
    throw new AppError(
      'storage-unavailable',
      `The pictures were read, but this browser would not store them (${(error as Error).message}); free some space or allow the site to store data, then drop them again.`,
    );
  }
}

/** The stored data set, loaded and verified as CIFAR-10's shards are; null when there is none. */
export async function loadOwnData(onProgress: (p: LoadProgress) => void): Promise<{ data: Dataset; info: OwnDataSetInfo } | null> {
  const store = await openOwnDataStore(self.location.origin);
  const info = await store.current();
  if (!info) return null;
  const data = await loadDataset({ baseUrl: info.baseUrl, fetch: store.fetch, classCount: ANY_CLASSES, onProgress });
  return { data, info };
}

/** The name of the data set kept in this browser, or null (none, or no Cache Storage). */
export async function storedOwnName(): Promise<string | null> {
  try {
    return (await (await openOwnDataStore(self.location.origin)).current())?.name ?? null;
  } catch {
    return null;
  }
}

/** The stored data set as a zip: manifest.json and the shards at its top, as `npm run data` lays out CIFAR-10's. */
export async function exportOwnData(): Promise<{ name: string; zip: ArrayBuffer }> {
  const store = await openOwnDataStore(self.location.origin);
  const info = await store.current();
  if (!info) throw new AppError('not-ready', 'No data set of your own is stored in this browser: drop a folder of class folders first.');
  const read = async (file: string) => {
    const response = await store.fetch(info.baseUrl + file);
    if (!response.ok)
      throw new AppError(
        'storage-unavailable',
        `${file} of "${info.name}" is no longer stored in this browser; import the pictures again.`,
      );
    return new Uint8Array(await response.arrayBuffer());
  };
  const manifestBytes = await read(MANIFEST_FILE);
  const manifest = JSON.parse(new TextDecoder().decode(manifestBytes)) as { splits: Record<string, { shards: { file: string }[] }> };
  const entries: Record<string, Uint8Array> = { [MANIFEST_FILE]: manifestBytes };
  for (const split of Object.values(manifest.splits)) for (const { file } of split.shards) entries[file] = await read(file);
  // Shards of random pixels barely compress: store them, as the hand-over zip does its weights.
  const zip = zipSync(entries, { level: 0 });
  return { name: `${info.name}-data.zip`, zip: zip.buffer as ArrayBuffer };
}
