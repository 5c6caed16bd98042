/**
 * Turns the CIFAR-10 binary archive into the browser's shards and manifest
 * (format in src/data/format.ts).
 *
 * Output is all-or-nothing: everything is written to a sibling temp folder and
 * swapped in with renames, so a failed or interrupted run leaves the previous
 * output exactly as it was.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  IMAGE,
  MANIFEST_FILE,
  MAX_IMAGES_PER_SHARD,
  RECORD_BYTES,
  type Manifest,
  type ShardInfo,
  type SplitInfo,
  type SplitName,
} from '../src/data/format';
import { channelStats } from '../src/data/channelStats';
import { readArchive } from './archive';
import { ConvertError } from './convert-error';

/** Where `npm run data` writes the shards by default and where the app serves them from, relative to the project root. */
export const DATA_DIR = 'public/data/cifar10';

export type ConvertPhase = 'checksum' | 'read' | 'write';

export interface ConvertOptions {
  /** Path of `cifar-10-binary.tar.gz`. */
  archive: string;
  /** Folder for the shards and manifest.json; replaced as a whole. */
  out: string;
  /** Convert even when `out` already holds shards of this very archive. */
  force?: boolean;
  /** Images per shard; only tests should need anything but the default. */
  maxImagesPerShard?: number;
  /** `done` and `total` are bytes for 'checksum' and 'read', images for 'write'. */
  onProgress?: (phase: ConvertPhase, done: number, total: number) => void;
  signal?: AbortSignal;
}

export type ConvertResult = { status: 'up-to-date' | 'converted'; out: string; manifest: Manifest };

export async function convert(options: ConvertOptions): Promise<ConvertResult> {
  const { archive, out, signal } = options;
  const maxPerShard = options.maxImagesPerShard ?? MAX_IMAGES_PER_SHARD;
  if (!Number.isInteger(maxPerShard) || maxPerShard < 1)
    throw new RangeError(`maxImagesPerShard must be a positive integer, got ${maxPerShard}`);

  await recoverInterruptedRuns(out);
  const source = await hashArchive(archive, (done, total) => options.onProgress?.('checksum', done, total), signal);
  if (!options.force) {
    const current = await readCurrentManifest(out, source);
    if (current) return { status: 'up-to-date', out, manifest: current };
  }

  // Read and validate the whole archive before writing anything.
  const contents = await readArchive(archive, source.bytes, {
    onProgress: (done, total) => options.onProgress?.('read', done, total),
    signal,
  });
  const { mean, std } = channelStats(contents.trainHistogram);

  await checkOutputIsFolder(out);
  const tmp = `${out}.tmp-${process.pid}`;
  try {
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp, { recursive: true });

    const totalImages = [...contents.train, ...contents.test].reduce((n, b) => n + b.length / RECORD_BYTES, 0);
    let written = 0;
    const onShard = (count: number): void => {
      written += count;
      options.onProgress?.('write', written, totalImages);
    };
    const splits: Record<SplitName, SplitInfo> = {
      train: await writeSplit(tmp, 'train', contents.train, maxPerShard, onShard, signal),
      test: await writeSplit(tmp, 'test', contents.test, maxPerShard, onShard, signal),
    };
    const manifest: Manifest = {
      classes: contents.classes,
      image: { height: IMAGE.height, width: IMAGE.width, channels: IMAGE.channels },
      splits,
      mean,
      std,
      source,
    };
    await writeFile(join(tmp, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    signal?.throwIfAborted();
    await swapIntoPlace(tmp, out);
    return { status: 'converted', out, manifest };
  } catch (error) {
    throw describeOutputError(error, out);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** SHA-256 and size of the archive, for the manifest and the up-to-date check. */
export async function hashArchive(
  path: string,
  onProgress?: (done: number, total: number) => void,
  signal?: AbortSignal,
): Promise<{ sha256: string; bytes: number }> {
  let bytes: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new ConvertError('archive-unreadable', `${path} is not a file`);
    bytes = info.size;
  } catch (error) {
    const { code, syscall, message } = error as NodeJS.ErrnoException;
    if (code === 'ENOENT') throw new ConvertError('archive-missing', `archive not found: ${path}`);
    if (syscall !== undefined) throw new ConvertError('archive-unreadable', `cannot read ${path}: ${message}`);
    throw error;
  }
  const hash = createHash('sha256');
  let done = 0;
  try {
    await pipeline(
      createReadStream(path),
      async function (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          hash.update(chunk);
          done += chunk.length;
          onProgress?.(done, bytes);
        }
      },
      { signal },
    );
  } catch (error) {
    const { syscall, message } = error as NodeJS.ErrnoException;
    if (syscall !== undefined) throw new ConvertError('archive-unreadable', `cannot read ${path}: ${message}`);
    throw error;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/**
 * The manifest in `out` if it was made from this archive and every shard it
 * lists is there at its full size; otherwise undefined.
 */
export async function readCurrentManifest(out: string, source: { sha256: string; bytes: number }): Promise<Manifest | undefined> {
  // Whatever is on disk may be hand-edited or half-written by an older tool, so trust nothing in it.
  let manifest: Partial<Manifest> | null;
  try {
    manifest = JSON.parse(await readFile(join(out, MANIFEST_FILE), 'utf8')) as Partial<Manifest> | null;
  } catch {
    return undefined;
  }
  if (manifest?.source?.sha256 !== source.sha256 || manifest.source.bytes !== source.bytes) return undefined;
  for (const split of ['train', 'test'] as const) {
    const shards: unknown = manifest.splits?.[split]?.shards;
    if (!Array.isArray(shards) || shards.length === 0) return undefined;
    for (const shard of shards as ShardInfo[]) {
      if (typeof shard?.file !== 'string' || basename(shard.file) !== shard.file) return undefined;
      const size = await stat(join(out, shard.file)).then(
        (s) => (s.isFile() ? s.size : -1),
        () => -1,
      );
      if (size !== shard.bytes) return undefined;
    }
  }
  return manifest as Manifest;
}

/** Cuts a split's records into shards of at most `maxPerShard` images, keeping their order. */
async function writeSplit(
  folder: string,
  split: SplitName,
  batches: Buffer[],
  maxPerShard: number,
  onShard: (count: number) => void,
  signal: AbortSignal | undefined,
): Promise<SplitInfo> {
  const count = batches.reduce((n, b) => n + b.length / RECORD_BYTES, 0);
  const shards: ShardInfo[] = [];
  for (let first = 0; first < count; first += maxPerShard) {
    signal?.throwIfAborted();
    const n = Math.min(maxPerShard, count - first);
    const data = sliceBytes(batches, first * RECORD_BYTES, n * RECORD_BYTES);
    const file = `${split}-${String(shards.length).padStart(3, '0')}.bin`;
    await writeFile(join(folder, file), data);
    shards.push({ file, count: n, bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') });
    onShard(n);
  }
  return { count, shards };
}

/** Bytes [start, start + length) of the buffers laid end to end; copies only when a slice spans two buffers. */
function sliceBytes(buffers: Buffer[], start: number, length: number): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  for (const buffer of buffers) {
    const from = Math.max(start - offset, 0);
    const to = Math.min(start + length - offset, buffer.length);
    if (from < to) parts.push(buffer.subarray(from, to));
    offset += buffer.length;
  }
  return parts.length === 1 && parts[0] ? parts[0] : Buffer.concat(parts, length);
}

async function checkOutputIsFolder(out: string): Promise<void> {
  const info = await stat(out).catch(() => undefined);
  if (info && !info.isDirectory()) throw new ConvertError('output-failed', `${out} exists and is not a folder`);
  await mkdir(dirname(out), { recursive: true }).catch((error: unknown) => {
    throw describeOutputError(error, out);
  });
}

/**
 * Moves the old output aside, the new one into place, then deletes the old;
 * if the second rename fails the old output goes back where it was.
 */
async function swapIntoPlace(tmp: string, out: string): Promise<void> {
  const old = `${out}.old-${process.pid}`;
  await rm(old, { recursive: true, force: true });
  let movedAside = false;
  try {
    await rename(out, old);
    movedAside = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  try {
    await rename(tmp, out);
  } catch (error) {
    if (movedAside) await rename(old, out);
    throw error;
  }
  if (movedAside) await rm(old, { recursive: true, force: true });
}

/**
 * A run killed outright (SIGKILL, a crash) cannot clean up after itself.
 * Remove the temp folders of dead runs, and if one died between the two
 * renames of the swap, put its old output back. Best effort: failing here
 * must not stop a conversion.
 */
export async function recoverInterruptedRuns(out: string): Promise<void> {
  const base = basename(out);
  const names = await readdir(dirname(out)).catch(() => [] as string[]);
  for (const name of names) {
    const match = /^(tmp|old)-(\d+)$/.exec(name.startsWith(`${base}.`) ? name.slice(base.length + 1) : '');
    if (!match || isRunning(Number(match[2]))) continue;
    const path = join(dirname(out), name);
    try {
      const outExists = await stat(out).then(
        () => true,
        () => false,
      );
      if (match[1] === 'old' && !outExists) await rename(path, out);
      else await rm(path, { recursive: true, force: true });
    } catch {
      // Left for the next run, or for the user.
    }
  }
}

/** Whether another process with this id is alive; our own id counts as dead, since this run owns those names now. */
function isRunning(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, but someone else's.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** File-system failures while writing (full disk, no permission) are expected and get one line. */
function describeOutputError(error: unknown, out: string): unknown {
  if (error instanceof ConvertError || !(error instanceof Error)) return error;
  const { syscall } = error as NodeJS.ErrnoException;
  if (syscall !== undefined) return new ConvertError('output-failed', `cannot write ${out}: ${error.message}`);
  return error;
}
