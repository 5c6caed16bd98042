/**
 * A dropped folder or zip of the user's own classes → a data set in CIFAR-10's
 * layout, with a report of everything left out: the layout (folderLayout.ts),
 * every picture decoded to 32 × 32 as the classifier decodes a dropped one
 * (src/classify/decode.ts, injected so Node tests run without a browser), the
 * classes checked again on what decoded, then the shards (ownDataSet.ts).
 */
import { unzipSync } from 'fflate';
import { DataSetError } from '../errors';
import { checkClasses, readLayout, type PathEntry, type SkipReason, type SkippedClass } from './folderLayout';
import { buildDataSet, type BuiltDataSet } from './ownDataSet';

/** A file of the drop, with its path below what was dropped. */
export interface DroppedFile extends PathEntry {
  /** Absent for a folder entry. */
  file?: Blob;
}

/** Turns one picture into the model's 32 × 32 × 3 bytes, or throws an error whose message names the file and why. */
export type DecodePicture = (file: Blob, name: string) => Promise<{ pixels: Uint8Array }>;

export interface ImportReport {
  /** The folders that held the class folders, or "". */
  root: string;
  /** Pictures kept per class, in the data set's class order. */
  counts: { name: string; count: number }[];
  /** Files that are not part of any class, by path. */
  skippedFiles: { path: string; reason: SkipReason }[];
  /** Files that did not decode, by path, with the decoder's words. */
  unreadable: { path: string; message: string }[];
  /** Classes left out (empty, or too few pictures once decoded). */
  skippedClasses: SkippedClass[];
}

export interface ImportProgress {
  /** Unit: files. */
  decoded: number;
  total: number;
}

/** Largest zip content read, summed over its files as the zip declares them. Unit: bytes (1 GiB). */
export const MAX_ZIP_CONTENT_BYTES = 1024 ** 3;

/** The files of a zip as drop entries; refused whole when its declared content is larger than MAX_ZIP_CONTENT_BYTES. */
export function zipEntries(zip: Uint8Array, name: string): DroppedFile[] {
  let declared = 0;
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(zip, {
      filter: (info) => {
        declared += info.originalSize;
        if (declared > MAX_ZIP_CONTENT_BYTES) {
          throw new DataSetError(`"${name}" holds more than ${MAX_ZIP_CONTENT_BYTES / 1024 ** 3} GB of files; split it into smaller zips.`);
        }
        return true;
      },
    });
  } catch (error) {
    if (error instanceof DataSetError) throw error;
    throw new DataSetError(`"${name}" is not a zip this page can read (${error instanceof Error ? error.message : String(error)}).`);
  }
  return Object.entries(files).map(([path, bytes]) =>
    // fflate inflates into plain ArrayBuffers (never shared memory): the Blob can take them without a copy of our own first.
    path.endsWith('/') ? { path, directory: true } : { path, file: new Blob([bytes as Uint8Array<ArrayBuffer>]) },
  );
}

/**
 * Pictures decoded at once. The browser decodes off the worker's thread, so
 * several in flight keep its decoder threads busy: 5,000 CIFAR-sized PNGs took
 * 27 s one at a time here. Unit: pictures.
 */
export const DECODES_IN_FLIGHT = 8;

/** `work` on every item, at most `limit` at a time; the results in the items' order. */
async function mapConcurrently<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

/**
 * Reads, decodes and checks the drop, then builds the data set. Throws a
 * DataSetError when what is left is not a data set (one class, …); a file
 * that does not decode is reported, not fatal.
 */
export async function importOwnDataSet(
  entries: readonly DroppedFile[],
  decode: DecodePicture,
  onProgress?: (p: ImportProgress) => void,
): Promise<{ built: BuiltDataSet; report: ImportReport }> {
  const layout = readLayout(entries);
  // Checked before decoding, so a drop of one folder is refused at once rather than after its pictures.
  checkClasses(layout.classes.map((c) => ({ name: c.name, count: c.files.length })));

  const total = layout.classes.reduce((n, c) => n + c.files.length, 0);
  const unreadable: ImportReport['unreadable'] = [];
  const decoded: { name: string; images: Uint8Array[] }[] = [];
  let done = 0;
  for (const { name, files } of layout.classes) {
    const results = await mapConcurrently(files, DECODES_IN_FLIGHT, async (entry) => {
      try {
        if (!entry.file) throw new Error('the entry has no content');
        return (await decode(entry.file, entry.path)).pixels;
      } catch (error) {
        return { path: entry.path, message: error instanceof Error ? error.message : String(error) };
      } finally {
        done += 1;
        onProgress?.({ decoded: done, total });
      }
    });
    const images: Uint8Array[] = [];
    // In the files' order, whatever order the decodes finished in: the data set does not depend on timing.
    for (const result of results)
      if (result instanceof Uint8Array) images.push(result);
      else unreadable.push(result);
    decoded.push({ name, images });
  }

  const { kept, skipped } = checkClasses(decoded.map((c) => ({ name: c.name, count: c.images.length })));
  const classes = decoded.filter((c) => kept.includes(c.name));
  const built = await buildDataSet(classes);
  return {
    built,
    report: {
      root: layout.root,
      counts: classes.map((c) => ({ name: c.name, count: c.images.length })),
      skippedFiles: layout.skipped,
      unreadable,
      skippedClasses: skipped,
    },
  };
}
