/**
 * Reads the official CIFAR-10 binary archive (`cifar-10-binary.tar.gz`) in one
 * streaming pass (gunzip → tar parser, nothing extracted to disk), validates
 * it, and turns each batch into shard records as soon as it arrives.
 *
 * Members may come in any order in the tar, so every batch is held in memory
 * until the end (≈185 MB for the real archive) and put in order afterwards.
 */
import { createReadStream } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setImmediate } from 'node:timers/promises';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';
import { LEVELS, type ChannelHistogram } from '../src/data/channelStats';
import { IMAGE, NUM_CLASSES, RECORD_BYTES } from '../src/data/format';
import { ConvertError, isAbortError } from './convert-error';

const DIR = 'cifar-10-batches-bin/';
export const TRAIN_MEMBERS = [1, 2, 3, 4, 5].map((i) => `${DIR}data_batch_${i}.bin`);
export const TEST_MEMBER = `${DIR}test_batch.bin`;
export const META_MEMBER = `${DIR}batches.meta.txt`;
const REQUIRED_MEMBERS = [...TRAIN_MEMBERS, TEST_MEMBER, META_MEMBER];

/** Pixels in one colour plane of an archive record (32 × 32). */
const PLANE = IMAGE.height * IMAGE.width;
// A plain local: the hot loop below runs 184 million times, and reading
// `IMAGE.channels` there made it about 3× slower.
const CHANNELS = IMAGE.channels;
/** ≈15 ms of work on this machine: small enough to keep the process responsive to signals. */
const RECORDS_PER_SLICE = 1000;
/** batches.meta.txt is 61 bytes; anything far larger is not a class list. */
const MAX_META_BYTES = 64 * 1024;

export interface ArchiveContents {
  classes: string[];
  /** Shard records (label + HWC pixels) of data_batch_1 … 5, in that order. */
  train: Buffer[];
  /** Shard records of test_batch. */
  test: Buffer[];
  /** Histogram of every training pixel. */
  trainHistogram: ChannelHistogram;
}

export interface ReadArchiveOptions {
  /** Called as compressed bytes are read, with the archive's size in bytes. */
  onProgress?: (doneBytes: number, totalBytes: number) => void;
  signal?: AbortSignal;
}

/** Reads and validates the whole archive; throws `ConvertError` for anything wrong with it. */
export async function readArchive(path: string, totalBytes: number, options: ReadArchiveOptions = {}): Promise<ArchiveContents> {
  if (totalBytes === 0) throw new ConvertError('archive-corrupt', `${path} is empty`);

  const batches = new Map<string, { records: Buffer; histogram: ChannelHistogram }>();
  let classes: string[] | undefined;

  let doneBytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      doneBytes += chunk.length;
      options.onProgress?.(doneBytes, totalBytes);
      callback(null, chunk);
    },
  });
  const tar = extract();
  const piping = pipeline(createReadStream(path), counter, createGunzip(), tar, { signal: options.signal });

  const consuming = (async () => {
    for await (const entry of tar) {
      const name = entry.header.name.replace(/^\.\//, '');
      const isFile = entry.header.type === 'file' || entry.header.type === 'contiguous-file';
      if (!isFile || !REQUIRED_MEMBERS.includes(name)) {
        entry.resume();
        continue;
      }
      const size = entry.header.size;
      if (name === META_MEMBER) {
        if (size > MAX_META_BYTES) throw new ConvertError('bad-classes', `${name} is ${size} bytes; expected a short list of class names`);
        classes = parseClasses(await readEntry(entry, size), name);
      } else {
        checkBatchSize(name, size);
        const raw = await readEntry(entry, size);
        batches.set(name, await toShardRecords(raw, name));
      }
    }
  })();

  const [piped, consumed] = await Promise.allSettled([piping, consuming]);
  // Our own validation errors also make the pipeline fail (with a premature
  // close), so report those first; otherwise the stream's own error is the cause.
  if (consumed.status === 'rejected' && consumed.reason instanceof ConvertError) throw consumed.reason;
  if (piped.status === 'rejected') throw describeStreamError(piped.reason, path);
  if (consumed.status === 'rejected') throw describeStreamError(consumed.reason, path);

  for (const member of REQUIRED_MEMBERS) {
    if (member !== META_MEMBER && !batches.has(member)) throw new ConvertError('member-missing', `${path} has no ${member}`);
  }
  if (classes === undefined) throw new ConvertError('member-missing', `${path} has no ${META_MEMBER}`);

  const train = TRAIN_MEMBERS.map((member) => batches.get(member)).filter((b) => b !== undefined);
  const trainHistogram = new Float64Array(CHANNELS * LEVELS);
  for (const { histogram } of train)
    for (let i = 0; i < histogram.length; i++) trainHistogram[i] = (trainHistogram[i] ?? 0) + (histogram[i] ?? 0);
  const test = batches.get(TEST_MEMBER);
  return {
    classes,
    train: train.map((b) => b.records),
    test: test ? [test.records] : [],
    trainHistogram,
  };
}

function checkBatchSize(name: string, size: number): void {
  if (size === 0 || size % RECORD_BYTES !== 0) {
    throw new ConvertError('member-size', `${name} is ${size} bytes, which is not a non-zero multiple of the ${RECORD_BYTES}-byte record`);
  }
}

/** tar-stream's types say `unknown`; its entries yield Buffers. */
async function readEntry(entry: AsyncIterable<unknown>, size: number): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of entry) {
    if (!(chunk instanceof Uint8Array)) throw new TypeError('tar entry yielded a non-binary chunk');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

/** One name per line; blank lines (and the trailing newline) don't count. */
export function parseClasses(text: Buffer, name: string): string[] {
  const classes = text
    .toString('utf8')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
  if (classes.length !== NUM_CLASSES) {
    throw new ConvertError('bad-classes', `${name} lists ${classes.length} class names; expected ${NUM_CLASSES}`);
  }
  if (new Set(classes).size !== classes.length) throw new ConvertError('bad-classes', `${name} lists a class name twice`);
  return classes;
}

/**
 * Archive records are label + R plane + G plane + B plane; shard records are
 * label + pixels in height-width-channel order, so pixel (y, x) channel c moves
 * from `1 + c * 1024 + y * 32 + x` to `1 + (y * 32 + x) * 3 + c`.
 */
export async function toShardRecords(raw: Buffer, name: string): Promise<{ records: Buffer; histogram: ChannelHistogram }> {
  const records = Buffer.allocUnsafe(raw.length);
  const histogram = new Float64Array(CHANNELS * LEVELS);
  const count = raw.length / RECORD_BYTES;
  for (let first = 0; first < count; first += RECORDS_PER_SLICE) {
    transpose(raw, records, histogram, first, Math.min(first + RECORDS_PER_SLICE, count), name);
    // Let signal handlers run: tsx SIGKILLs a child that has not acknowledged
    // Ctrl-C within ~30 ms, which would leave the temp folder behind.
    await setImmediate();
  }
  return { records, histogram };
}

/** Records [first, end) of `raw` into `records`, counting their pixels into `histogram`. */
function transpose(raw: Buffer, records: Buffer, histogram: ChannelHistogram, first: number, end: number, name: string): void {
  for (let r = first; r < end; r++) {
    const start = r * RECORD_BYTES;
    const label = raw[start] ?? 0;
    if (label >= NUM_CLASSES) {
      throw new ConvertError('bad-label', `${name} record ${r} (counting from 0) has label ${label}; labels must be 0–${NUM_CLASSES - 1}`);
    }
    records[start] = label;
    for (let c = 0; c < CHANNELS; c++) {
      const plane = start + 1 + c * PLANE;
      const bins = c * LEVELS;
      for (let i = 0, o = start + 1 + c; i < PLANE; i++, o += CHANNELS) {
        const v = raw[plane + i] ?? 0;
        records[o] = v;
        histogram[bins + v] = (histogram[bins + v] ?? 0) + 1;
      }
    }
  }
}

/** Turns what the stream stack throws into one line the user can act on. */
function describeStreamError(error: unknown, path: string): unknown {
  if (error instanceof ConvertError || isAbortError(error) || !(error instanceof Error)) return error;
  const { code, syscall } = error as NodeJS.ErrnoException;
  if (code === 'Z_BUF_ERROR') return new ConvertError('archive-corrupt', `${path} is truncated (the gzip stream ends early)`);
  if (code?.startsWith('Z_')) return new ConvertError('archive-corrupt', `${path} is not a valid gzip file (${error.message})`);
  if (syscall !== undefined) return new ConvertError('archive-unreadable', `cannot read ${path}: ${error.message}`);
  // tar-stream throws plain Errors for bad headers and for data that ends mid-member.
  if (error.constructor === Error) {
    if (error.message === 'Unexpected end of data')
      return new ConvertError('archive-corrupt', `${path} is truncated (the tar data ends inside a member)`);
    return new ConvertError('archive-corrupt', `${path} is not a valid tar archive (${error.message})`);
  }
  return error;
}
