import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { gzipSync, createGzip } from 'node:zlib';
import { pack } from 'tar-stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MANIFEST_FILE, RECORD_BYTES, type Manifest } from '../src/data/format';
import { convert, type ConvertOptions } from './convert';
import { ConvertError } from './convert-error';

const DIR = 'cifar-10-batches-bin/';
const CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
const TRAIN_PER_BATCH = 7;
const TRAIN_IMAGES = 5 * TRAIN_PER_BATCH;
const TEST_IMAGES = 5;
/** Small enough that both splits need several shards, and train shards straddle batch boundaries. */
const SHARD = 4;

/**
 * Pixel (y, x) of channel c of image `g` (train images numbered 0…34 across
 * batches, test images 1000…1004). Each of g, c, y, x moves the value by a
 * different step, so a wrong order or transposition changes the bytes.
 */
function pixel(g: number, c: number, y: number, x: number): number {
  return (g * 31 + c * 89 + y * 7 + x * 3) & 0xff;
}
function label(g: number): number {
  return (g * 3) % 10;
}
const testImage = (i: number): number => 1000 + i;

/** One record in the archive's layout: label, then R, G and B planes. */
function archiveRecord(g: number, lbl = label(g)): Buffer {
  const record = Buffer.alloc(RECORD_BYTES);
  record[0] = lbl;
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) record[1 + c * 1024 + y * 32 + x] = pixel(g, c, y, x);
  return record;
}

/** The same image as a shard record, straight from the format's definition: offset 1 + (y*32 + x)*3 + c. */
function shardRecord(g: number): Buffer {
  const record = Buffer.alloc(RECORD_BYTES);
  record[0] = label(g);
  for (let y = 0; y < 32; y++)
    for (let x = 0; x < 32; x++) for (let c = 0; c < 3; c++) record[1 + (y * 32 + x) * 3 + c] = pixel(g, c, y, x);
  return record;
}

type Members = Map<string, Buffer>;

/** A small archive in the official layout and member order, with an extra readme.html. */
function officialMembers(): Members {
  const members: Members = new Map();
  members.set(`${DIR}batches.meta.txt`, Buffer.from(`${CLASSES.join('\n')}\n\n`));
  for (let b = 0; b < 5; b++) {
    const records = Array.from({ length: TRAIN_PER_BATCH }, (_, i) => archiveRecord(b * TRAIN_PER_BATCH + i));
    members.set(`${DIR}data_batch_${b + 1}.bin`, Buffer.concat(records));
  }
  members.set(`${DIR}readme.html`, Buffer.from('<html>not data</html>'));
  members.set(`${DIR}test_batch.bin`, Buffer.concat(Array.from({ length: TEST_IMAGES }, (_, i) => archiveRecord(testImage(i)))));
  return members;
}

async function writeArchive(path: string, members: Members): Promise<string> {
  const tar = pack();
  for (const [name, data] of members) tar.entry({ name, size: data.length }, data);
  tar.finalize();
  await pipeline(tar, createGzip(), createWriteStream(path));
  return path;
}

let work: string;
let out: string;
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'convert-test-'));
  out = join(work, 'out');
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

const run = (archive: string, options: Partial<ConvertOptions> = {}) => convert({ archive, out, maxImagesPerShard: SHARD, ...options });

async function readManifest(): Promise<Manifest> {
  return JSON.parse(await readFile(join(out, MANIFEST_FILE), 'utf8')) as Manifest;
}

/** Every file in `out`, name → contents. */
async function snapshot(folder: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const name of (await readdir(folder)).sort()) files.set(name, await readFile(join(folder, name)));
  return files;
}

async function expectConvertError(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConvertError);
  expect((error as ConvertError).code).toBe(code);
  expect((error as ConvertError).message).toMatch(message);
  expect((error as ConvertError).message).not.toContain('\n');
}

describe('convert', () => {
  it('writes records in HWC order with their labels, in archive order', async () => {
    const archive = await writeArchive(join(work, 'a.tar.gz'), officialMembers());
    await run(archive);

    const first = await readFile(join(out, 'train-000.bin'));
    // Image 0, label 0: pixel (0,0) is R=0 G=89 B=178, then pixel (0,1) R=3 G=92 B=181.
    expect([...first.subarray(0, 7)]).toEqual([0, 0, 89, 178, 3, 92, 181]);
    // Pixel (1,0) starts after the 32 pixels of row 0: R = 7.
    expect(first[1 + 32 * 3]).toBe(7);
    // Pixel (31,31) channel B = (2*89 + 31*7 + 31*3) & 255 = 488 - 256 = 232.
    expect(first[RECORD_BYTES - 1]).toBe(232);
    // Second record is image 1: label 3, pixel (0,0) R = 31.
    expect(first[RECORD_BYTES]).toBe(3);
    expect(first[RECORD_BYTES + 1]).toBe(31);

    const manifest = await readManifest();
    const train = Buffer.concat(await Promise.all(manifest.splits.train.shards.map((s) => readFile(join(out, s.file)))));
    const test = Buffer.concat(await Promise.all(manifest.splits.test.shards.map((s) => readFile(join(out, s.file)))));
    expect(train.equals(Buffer.concat(Array.from({ length: TRAIN_IMAGES }, (_, g) => shardRecord(g))))).toBe(true);
    expect(test.equals(Buffer.concat(Array.from({ length: TEST_IMAGES }, (_, i) => shardRecord(testImage(i)))))).toBe(true);
  });

  it('cuts shards every maxImagesPerShard images, across batch boundaries', async () => {
    const archive = await writeArchive(join(work, 'a.tar.gz'), officialMembers());
    await run(archive);
    const manifest = await readManifest();

    const trainCounts = [4, 4, 4, 4, 4, 4, 4, 4, 3];
    expect(manifest.splits.train.shards.map((s) => s.file)).toEqual(trainCounts.map((_, i) => `train-00${i}.bin`));
    expect(manifest.splits.train.shards.map((s) => s.count)).toEqual(trainCounts);
    expect(manifest.splits.test.shards.map((s) => [s.file, s.count])).toEqual([
      ['test-000.bin', 4],
      ['test-001.bin', 1],
    ]);
    // train-001 holds images 4–7: the last three of batch 1 and the first of batch 2.
    const second = await readFile(join(out, 'train-001.bin'));
    expect(second.equals(Buffer.concat([4, 5, 6, 7].map(shardRecord)))).toBe(true);
    expect((await readdir(out)).sort()).toEqual(
      [MANIFEST_FILE, 'test-000.bin', 'test-001.bin', ...trainCounts.map((_, i) => `train-00${i}.bin`)].sort(),
    );
  });

  it('defaults to MAX_IMAGES_PER_SHARD per shard', async () => {
    const archive = await writeArchive(join(work, 'a.tar.gz'), officialMembers());
    await convert({ archive, out });
    const manifest = await readManifest();
    expect(manifest.splits.train.shards.map((s) => [s.file, s.count])).toEqual([['train-000.bin', TRAIN_IMAGES]]);
    expect(manifest.splits.test.shards.map((s) => [s.file, s.count])).toEqual([['test-000.bin', TEST_IMAGES]]);
  });

  it('writes a manifest with classes, counts, checksums, statistics and source', async () => {
    const archive = await writeArchive(join(work, 'a.tar.gz'), officialMembers());
    const result = await run(archive);
    const manifest = await readManifest();
    expect(result.manifest).toEqual(manifest);

    expect(manifest.classes).toEqual(CLASSES);
    expect(manifest.image).toEqual({ height: 32, width: 32, channels: 3 });
    expect(manifest.splits.train.count).toBe(TRAIN_IMAGES);
    expect(manifest.splits.test.count).toBe(TEST_IMAGES);
    for (const shard of [...manifest.splits.train.shards, ...manifest.splits.test.shards]) {
      const data = await readFile(join(out, shard.file));
      expect(shard.bytes).toBe(data.length);
      expect(shard.bytes).toBe(shard.count * RECORD_BYTES);
      expect(shard.sha256).toBe(createHash('sha256').update(data).digest('hex'));
    }

    // Population statistics of every training pixel, straight from the pattern.
    for (let c = 0; c < 3; c++) {
      const values: number[] = [];
      for (let g = 0; g < TRAIN_IMAGES; g++) for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) values.push(pixel(g, c, y, x));
      const mean = values.reduce((a, v) => a + v, 0) / values.length;
      const std = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length);
      expect(manifest.mean[c]).toBeCloseTo(mean, 9);
      expect(manifest.std[c]).toBeCloseTo(std, 9);
    }
    // Test pixels must not leak into the statistics: they differ from the training ones.
    expect(manifest.mean[0]).not.toBeCloseTo(127.5, 3);

    const archiveBytes = await readFile(archive);
    expect(manifest.source).toEqual({ sha256: createHash('sha256').update(archiveBytes).digest('hex'), bytes: archiveBytes.length });
    // Pretty-printed for people reading it.
    expect(await readFile(join(out, MANIFEST_FILE), 'utf8')).toContain('\n  "classes": [\n');
  });

  it('accepts members in any order', async () => {
    const reversed: Members = new Map([...officialMembers()].reverse());
    const archive = await writeArchive(join(work, 'a.tar.gz'), reversed);
    await run(archive);
    const train = await readFile(join(out, 'train-000.bin'));
    expect(train.equals(Buffer.concat([0, 1, 2, 3].map(shardRecord)))).toBe(true);
  });
});

describe('re-running', () => {
  it('skips an up-to-date output without rewriting it, and --force rewrites it', async () => {
    const archive = await writeArchive(join(work, 'a.tar.gz'), officialMembers());
    expect((await run(archive)).status).toBe('converted');
    const original = await readFile(join(out, 'train-000.bin'));

    // Same size, different bytes: only a rewrite would undo this.
    const tampered = Buffer.from(original);
    tampered[1] = 255 - (tampered[1] ?? 0);
    await writeFile(join(out, 'train-000.bin'), tampered);

    const again = await run(archive);
    expect(again.status).toBe('up-to-date');
    expect(again.manifest).toEqual(await readManifest());
    expect((await readFile(join(out, 'train-000.bin'))).equals(tampered)).toBe(true);

    expect((await run(archive, { force: true })).status).toBe('converted');
    expect((await readFile(join(out, 'train-000.bin'))).equals(original)).toBe(true);
    // The replaced output is gone, not parked beside the new one.
    expect(await readdir(work)).toEqual(['a.tar.gz', 'out']);
  });

  it('converts again when a shard is missing or has the wrong size', async () => {
    const archive = await writeArchive(join(work, 'a.tar.gz'), officialMembers());
    await run(archive);
    await rm(join(out, 'test-001.bin'));
    expect((await run(archive)).status).toBe('converted');
    expect((await stat(join(out, 'test-001.bin'))).size).toBe(RECORD_BYTES);

    await writeFile(join(out, 'train-003.bin'), Buffer.alloc(10));
    expect((await run(archive)).status).toBe('converted');
    expect((await stat(join(out, 'train-003.bin'))).size).toBe(SHARD * RECORD_BYTES);
  });

  it('converts again when the archive is a different one', async () => {
    await run(await writeArchive(join(work, 'a.tar.gz'), officialMembers()));
    const members = officialMembers();
    members.set(`${DIR}test_batch.bin`, archiveRecord(testImage(0)));
    const result = await run(await writeArchive(join(work, 'b.tar.gz'), members));
    expect(result.status).toBe('converted');
    expect((await readManifest()).splits.test.count).toBe(1);
  });
});

describe('atomic output', () => {
  async function convertedOnce(): Promise<{ archive: string; before: Map<string, Buffer> }> {
    const archive = await writeArchive(join(work, 'a.tar.gz'), officialMembers());
    await run(archive);
    return { archive, before: await snapshot(out) };
  }

  it('leaves the previous output byte-identical when the archive is bad', async () => {
    const { before } = await convertedOnce();
    const members = officialMembers();
    members.set(`${DIR}data_batch_5.bin`, archiveRecord(0, 10));
    await expectConvertError(run(await writeArchive(join(work, 'bad.tar.gz'), members), { force: true }), 'bad-label', /data_batch_5/);
    expect(await snapshot(out)).toEqual(before);
    expect(await readdir(work)).toEqual(['a.tar.gz', 'bad.tar.gz', 'out']);
  });

  it('removes its temp folder and keeps the previous output when writing fails midway', async () => {
    const { before } = await convertedOnce();
    // Different pixels, so shards written straight into `out` would show.
    const members = officialMembers();
    members.set(`${DIR}data_batch_1.bin`, Buffer.concat([100, 101, 102, 103, 104, 105, 106].map((g) => archiveRecord(g))));
    const other = await writeArchive(join(work, 'other.tar.gz'), members);
    let sawTempFolder = false;
    const failing = run(other, {
      onProgress: (phase, done) => {
        if (phase !== 'write' || done < 2 * SHARD) return;
        // Shards are being written somewhere other than `out`: a sibling temp folder.
        sawTempFolder = readdirSync(work).some((n) => n.startsWith('out.tmp-'));
        throw new Error('disk on fire');
      },
    });
    await expect(failing).rejects.toThrow('disk on fire');
    expect(sawTempFolder).toBe(true);
    expect(await snapshot(out)).toEqual(before);
    expect(await readdir(work)).toEqual(['a.tar.gz', 'other.tar.gz', 'out']);
  });

  it('stops, cleans up and keeps the previous output when aborted', async () => {
    const { archive, before } = await convertedOnce();
    const controller = new AbortController();
    const aborted = run(archive, {
      force: true,
      signal: controller.signal,
      onProgress: (phase) => {
        if (phase === 'write') controller.abort();
      },
    });
    const error: unknown = await aborted.catch((e: unknown) => e);
    expect((error as Error).name).toBe('AbortError');
    expect(await snapshot(out)).toEqual(before);
    expect(await readdir(work)).toEqual(['a.tar.gz', 'out']);
  });

  /** The id of a process that has already exited. */
  const deadPid = (): number => {
    const { pid } = spawnSync(process.execPath, ['-e', '']);
    if (pid === undefined) throw new Error('could not start node');
    return pid;
  };

  it("removes a killed run's temp folder but not a running one's", async () => {
    const { archive } = await convertedOnce();
    const dead = join(work, `out.tmp-${deadPid()}`);
    const alive = join(work, `out.tmp-${process.ppid}`);
    await mkdir(dead);
    await writeFile(join(dead, 'train-000.bin'), 'partial');
    await mkdir(alive);
    expect((await run(archive)).status).toBe('up-to-date');
    expect(await readdir(work)).toEqual(['a.tar.gz', 'out', `out.tmp-${process.ppid}`]);
  });

  it('puts the old output back when a run was killed between the two renames', async () => {
    const { before } = await convertedOnce();
    await rename(out, join(work, `out.old-${deadPid()}`));
    // Even a run that then fails on its own archive restores the output first.
    await expectConvertError(run(join(work, 'nowhere.tar.gz')), 'archive-missing', /nowhere/);
    expect(await snapshot(out)).toEqual(before);
    expect(await readdir(work)).toEqual(['a.tar.gz', 'out']);
  });

  it('creates the output folder, and its parents, only on success', async () => {
    out = join(work, 'public', 'data', 'cifar10');
    await run(await writeArchive(join(work, 'a.tar.gz'), officialMembers()));
    expect((await readManifest()).splits.train.count).toBe(TRAIN_IMAGES);
    expect(await readdir(join(work, 'public', 'data'))).toEqual(['cifar10']);
  });
});

describe('bad archives', () => {
  /** Every failure must leave nothing behind in the folder that would hold the output. */
  afterEach(async () => {
    const leftovers = (await readdir(work)).filter((n) => n.startsWith('out'));
    expect(leftovers).toEqual([]);
  });

  const withMembers = async (edit: (members: Members) => void): Promise<string> => {
    const members = officialMembers();
    edit(members);
    return writeArchive(join(work, 'bad.tar.gz'), members);
  };

  it('names a missing batch', async () => {
    const archive = await withMembers((m) => m.delete(`${DIR}data_batch_3.bin`));
    await expectConvertError(run(archive), 'member-missing', /cifar-10-batches-bin\/data_batch_3\.bin/);
  });

  it('names a missing test batch or class list', async () => {
    await expectConvertError(run(await withMembers((m) => m.delete(`${DIR}test_batch.bin`))), 'member-missing', /test_batch\.bin/);
    await expectConvertError(run(await withMembers((m) => m.delete(`${DIR}batches.meta.txt`))), 'member-missing', /batches\.meta\.txt/);
  });

  it('rejects a batch whose size is not a multiple of 3,073 bytes', async () => {
    const archive = await withMembers((m) => m.set(`${DIR}data_batch_2.bin`, Buffer.alloc(2 * RECORD_BYTES + 5)));
    await expectConvertError(run(archive), 'member-size', /data_batch_2\.bin is 6151 bytes.*3073/);
  });

  it('rejects an empty batch', async () => {
    const archive = await withMembers((m) => m.set(`${DIR}test_batch.bin`, Buffer.alloc(0)));
    await expectConvertError(run(archive), 'member-size', /test_batch\.bin is 0 bytes/);
  });

  it('names the file and record of a label outside 0–9', async () => {
    const archive = await withMembers((m) => {
      const batch = Buffer.concat([archiveRecord(21), archiveRecord(22), archiveRecord(23, 10)]);
      m.set(`${DIR}data_batch_4.bin`, batch);
    });
    await expectConvertError(run(archive), 'bad-label', /data_batch_4\.bin record 2 .*label 10/);
  });

  it('requires exactly 10 class names', async () => {
    const archive = await withMembers((m) => m.set(`${DIR}batches.meta.txt`, Buffer.from(CLASSES.slice(0, 9).join('\n'))));
    await expectConvertError(run(archive), 'bad-classes', /9 class names; expected 10/);
  });

  it('reports a truncated gzip', async () => {
    const good = await readFile(await writeArchive(join(work, 'good.tar.gz'), officialMembers()));
    await rm(join(work, 'good.tar.gz'));
    const archive = join(work, 'truncated.tar.gz');
    await writeFile(archive, good.subarray(0, Math.floor(good.length / 2)));
    await expectConvertError(run(archive), 'archive-corrupt', /truncated \(the gzip stream ends early\)/);
  });

  it('reports a tar that ends inside a member', async () => {
    const tarStream = pack();
    tarStream.entry({ name: `${DIR}data_batch_1.bin`, size: 10 * RECORD_BYTES }, Buffer.alloc(10 * RECORD_BYTES));
    tarStream.finalize();
    const chunks: Buffer[] = [];
    for await (const chunk of tarStream) chunks.push(chunk as Buffer);
    const archive = join(work, 'short-tar.tar.gz');
    // A valid gzip around a tar cut off 5 records into its first member.
    await writeFile(archive, gzipSync(Buffer.concat(chunks).subarray(0, 512 + 5 * RECORD_BYTES)));
    await expectConvertError(run(archive), 'archive-corrupt', /truncated \(the tar data ends inside a member\)/);
  });

  it('reports a file that is not gzip', async () => {
    const archive = join(work, 'plain.tar.gz');
    await writeFile(archive, 'this is not a gzip file\n'.repeat(100));
    await expectConvertError(run(archive), 'archive-corrupt', /not a valid gzip file/);
  });

  it('reports a gzip that holds no tar', async () => {
    const archive = join(work, 'text.gz');
    await writeFile(archive, gzipSync(Buffer.from('hello '.repeat(1000))));
    await expectConvertError(run(archive), 'archive-corrupt', /not a valid tar archive/);
  });

  it('reports an empty file', async () => {
    const archive = join(work, 'empty.tar.gz');
    await writeFile(archive, '');
    await expectConvertError(run(archive), 'archive-corrupt', /empty/);
  });

  it('reports an archive path that is a folder', async () => {
    await expectConvertError(run(work), 'archive-unreadable', /is not a file/);
  });

  it('reports a missing archive path', async () => {
    await expectConvertError(run(join(work, 'nowhere.tar.gz')), 'archive-missing', /archive not found: .*nowhere\.tar\.gz/);
  });
});

describe('npm run data (CLI)', () => {
  const exec = promisify(execFile);
  const cli = async (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
    try {
      const { stdout, stderr } = await exec('npx', ['tsx', 'scripts/data.ts', ...args], { cwd: join(import.meta.dirname, '..') });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
      return { code, stdout, stderr };
    }
  };
  const lines = (text: string): string[] => text.split('\n').filter((l) => l !== '');

  it('fails on a bad archive with one error line and no stack trace', async () => {
    const archive = join(work, 'bad.tar.gz');
    await writeFile(archive, 'not an archive');
    const { code, stderr } = await cli('--archive', archive, '--out', out);
    expect(code).toBe(1);
    expect(lines(stderr)).toHaveLength(1);
    expect(stderr).toMatch(/^error: .*bad\.tar\.gz is not a valid gzip file/);
    expect(stderr).not.toMatch(/\bat .*:\d+/);
    expect(await readdir(work)).toEqual(['bad.tar.gz']);
  });

  it('rejects unknown flags with a usage error', async () => {
    const { code, stderr } = await cli('--archiv', 'x');
    expect(code).toBe(2);
    expect(lines(stderr)).toHaveLength(1);
    expect(stderr).toMatch(/^error: .*--archiv/);
  });

  it('converts a good archive and prints a summary', async () => {
    const archive = await writeArchive(join(work, 'a.tar.gz'), officialMembers());
    const { code, stdout, stderr } = await cli('--archive', archive, '--out', out);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toMatch(/train: 35 images in 1 shards/);
    expect(stdout).toMatch(/test: +5 images in 1 shards/);
    expect(stdout).toMatch(/mean \(R, G, B\): [\d.]+, [\d.]+, [\d.]+/);
    expect((await readManifest()).splits.train.count).toBe(TRAIN_IMAGES);
    expect((await cli('--archive', archive, '--out', out)).stdout).toMatch(/up to date/);
  });

  it('prints usage for --help', async () => {
    const { code, stdout } = await cli('--help');
    expect(code).toBe(0);
    expect(stdout).toMatch(/--archive PATH/);
  });
});
