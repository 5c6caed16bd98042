/**
 * Fetches the official CIFAR-10 binary archive to a local file and checks its
 * MD5 (the only checksum the dataset's home page publishes).
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { systemClock, type Clock } from '../src/clock';
import { ConvertError } from './convert-error';

export const CIFAR10_URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz';
export const CIFAR10_MD5 = 'c32a1d4ab5d03f1284b67883e8d87530';
export const ARCHIVE_NAME = 'cifar-10-binary.tar.gz';

const MANUAL_STEPS = `Download ${ARCHIVE_NAME} yourself and run: npm run data -- --archive PATH`;

export interface DownloadOptions {
  url: string;
  dest: string;
  /** Lower-case hex MD5 the file must have. */
  md5: string;
  /** How long to wait for the server's response headers (ms). */
  connectTimeoutMs?: number;
  /** How long the body may go without a single byte arriving (ms). */
  stallTimeoutMs?: number;
  /** `totalBytes` is undefined when the server sends no Content-Length. */
  onProgress?: (doneBytes: number, totalBytes: number | undefined) => void;
  signal?: AbortSignal;
  /** What the timeouts are timed by; the system clock by default. */
  clock?: Clock;
}

/** Downloads `url` to `dest`; on any failure `dest` is removed and a `ConvertError` names `--archive`. */
export async function download(options: DownloadOptions): Promise<void> {
  const { url, dest, md5, connectTimeoutMs = 15_000, stallTimeoutMs = 60_000, onProgress, signal, clock = systemClock } = options;
  signal?.throwIfAborted();
  const controller = new AbortController();
  const abortFromOutside = (): void => controller.abort(signal?.reason);
  signal?.addEventListener('abort', abortFromOutside, { once: true });
  let disarm = () => {};
  const armTimer = (ms: number, what: string): void => {
    disarm();
    disarm = clock.after(ms, () => controller.abort(new Error(`${what} after ${ms / 1000} s`)));
  };

  const hash = createHash('md5');
  try {
    armTimer(connectTimeoutMs, 'no response');
    const response = await fetch(url, { signal: controller.signal });
    if (!response.ok || !response.body) throw new Error(`HTTP ${response.status} ${response.statusText}`.trim());
    const length = Number(response.headers.get('content-length'));
    const totalBytes = Number.isFinite(length) && length > 0 ? length : undefined;

    let doneBytes = 0;
    armTimer(stallTimeoutMs, 'download stalled');
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        armTimer(stallTimeoutMs, 'download stalled');
        hash.update(chunk);
        doneBytes += chunk.length;
        onProgress?.(doneBytes, totalBytes);
        callback(null, chunk);
      },
    });
    const body = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
    await pipeline(body, meter, createWriteStream(dest), { signal: controller.signal });
  } catch (error) {
    await rm(dest, { force: true });
    // Ctrl-C is not a download failure: let it through as the abort it is.
    if (signal?.aborted) throw signal.reason;
    throw new ConvertError('download-failed', `could not download CIFAR-10 (${describeCause(error, controller.signal)}). ${MANUAL_STEPS}`);
  } finally {
    disarm();
    signal?.removeEventListener('abort', abortFromOutside);
  }

  const actual = hash.digest('hex');
  if (actual !== md5) {
    await rm(dest, { force: true });
    throw new ConvertError('checksum-mismatch', `downloaded CIFAR-10 has MD5 ${actual}, expected ${md5}. ${MANUAL_STEPS}`);
  }
}

/** fetch wraps network errors as `TypeError: fetch failed` with the useful part in `cause`. */
function describeCause(error: unknown, signal: AbortSignal): string {
  if (signal.aborted && signal.reason instanceof Error) return signal.reason.message;
  if (!(error instanceof Error)) return String(error);
  const cause: unknown = error.cause;
  if (cause instanceof Error) return cause.message;
  return error.message;
}
