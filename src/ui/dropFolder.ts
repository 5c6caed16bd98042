/**
 * What the user dropped or picked for a data set of their own, as paths and
 * files: a folder (walked through the File and Directory Entries API, which
 * every current browser has for drops), a folder picked with a
 * `webkitdirectory` input (each file knows its path), or one .zip.
 */
import type { DroppedFileData } from '../worker/protocol';

export interface DataDrop {
  /** The data set's name: the dropped folder's or zip's, else "my pictures". */
  name: string;
  files: DroppedFileData[];
}

/** What a drop of several loose things, or of nothing named, is called. */
const FALLBACK_NAME = 'my pictures';

/** A file's path as the drop gave it; `webkitRelativePath` is "" for a file that was not picked with its folder. */
const pathOf = (file: File) => (file as File & { webkitRelativePath?: string }).webkitRelativePath || file.name;

/** The name of a drop: its single top folder, or its single zip without the extension. */
export function dropName(paths: readonly string[]): string {
  const tops = new Set(paths.map((p) => p.split(/[/\\]/).find((s) => s !== '') ?? ''));
  const only = tops.size === 1 ? [...tops][0] : undefined;
  if (!only) return FALLBACK_NAME;
  const name = only.replace(/\.zip$/i, '').trim();
  return name === '' ? FALLBACK_NAME : name;
}

/** Files from an `<input type="file" webkitdirectory>` or a plain file input (a zip). */
export function pickedDrop(files: readonly File[]): DataDrop {
  const list = files.map((file) => ({ path: pathOf(file), file }));
  return { name: dropName(list.map((f) => f.path)), files: list };
}

/** Every file below a dropped folder, with its path from the folder's name down. */
async function walk(entry: FileSystemEntry, out: DroppedFileData[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    out.push({ path: entry.fullPath.replace(/^\/+/, ''), file });
    return;
  }
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  // readEntries gives at most 100 entries a call in Chromium: read until it gives none.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return;
    for (const child of batch) await walk(child, out);
  }
}

/** A drop's folders walked, or its files as they are where the browser gives no entries. */
export async function droppedData(transfer: DataTransfer): Promise<DataDrop> {
  // Entries must be taken before the first await: the DataTransfer is emptied when the drop handler returns.
  const entries = [...transfer.items].map((item) => item.webkitGetAsEntry?.() ?? null);
  const files = [...transfer.files];
  if (entries.length === 0 || entries.some((e) => e === null)) return pickedDrop(files);
  const out: DroppedFileData[] = [];
  for (const entry of entries) await walk(entry as FileSystemEntry, out);
  return { name: dropName(out.map((f) => f.path)), files: out };
}
