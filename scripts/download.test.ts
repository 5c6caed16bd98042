import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConvertError } from './convert-error';
import { ManualClock, until } from '../src/clock';
import { download } from './download';

const BODY = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7) & 0xff));
const BODY_MD5 = createHash('md5').update(BODY).digest('hex');

let work: string;
let dest: string;
let server: Server | undefined;
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'download-test-'));
  dest = join(work, 'archive.tar.gz');
});
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
  await rm(work, { recursive: true, force: true });
});

/** A local HTTP server on a free port; resolves to its URL. */
async function serve(handler: RequestListener): Promise<string> {
  server = createServer(handler);
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/cifar-10-binary.tar.gz`;
}

async function failure(promise: Promise<unknown>): Promise<ConvertError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConvertError);
  expect((error as ConvertError).message).toContain('npm run data -- --archive PATH');
  expect((error as ConvertError).message).not.toContain('\n');
  expect(existsSync(dest)).toBe(false);
  return error as ConvertError;
}

describe('download', () => {
  it('streams the file to disk, reporting progress, when the MD5 matches', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': BODY.length });
      res.end(BODY);
    });
    const progress: [number, number | undefined][] = [];
    await download({ url, dest, md5: BODY_MD5, onProgress: (done, total) => progress.push([done, total]) });
    expect((await readFile(dest)).equals(BODY)).toBe(true);
    expect(progress.at(-1)).toEqual([BODY.length, BODY.length]);
  });

  it('rejects and deletes a file with the wrong MD5', async () => {
    const url = await serve((_req, res) => res.end(BODY));
    const error = await failure(download({ url, dest, md5: '0'.repeat(32) }));
    expect(error.code).toBe('checksum-mismatch');
    expect(error.message).toContain(BODY_MD5);
  });

  it('reports an HTTP error status', async () => {
    const url = await serve((_req, res) => {
      res.statusCode = 404;
      res.end('gone');
    });
    const error = await failure(download({ url, dest, md5: BODY_MD5 }));
    expect(error.code).toBe('download-failed');
    expect(error.message).toMatch(/^could not download CIFAR-10 \(HTTP 404 Not Found\)/);
  });

  it('reports a refused connection at once, without waiting for a timeout', async () => {
    const url = await serve(() => undefined);
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
    // A clock that never moves: only the refusal itself can end the download.
    const error = await failure(download({ url, dest, md5: BODY_MD5, clock: new ManualClock() }));
    expect(error.code).toBe('download-failed');
    expect(error.message).toMatch(/ECONNREFUSED/);
  });

  it('gives up when the server does not answer within the connect timeout', async () => {
    const clock = new ManualClock();
    let asked = false;
    const url = await serve(() => {
      asked = true;
    });
    const downloading = failure(download({ url, dest, md5: BODY_MD5, connectTimeoutMs: 200, clock }));
    await until(() => asked);
    clock.advance(200);
    expect((await downloading).message).toMatch(/no response after 0\.2 s/);
  });

  it('gives up when the body stalls', async () => {
    const clock = new ManualClock();
    const progress: number[] = [];
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': BODY.length });
      res.write(BODY.subarray(0, 1000));
    });
    const downloading = failure(
      download({ url, dest, md5: BODY_MD5, stallTimeoutMs: 200, clock, onProgress: (done) => progress.push(done) }),
    );
    await until(() => progress.length > 0);
    clock.advance(199);
    clock.advance(1);
    expect((await downloading).message).toMatch(/download stalled after 0\.2 s/);
  });

  it('lets an abort through as an abort, not as a download failure', async () => {
    const url = await serve(() => undefined);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const error: unknown = await download({ url, dest, md5: BODY_MD5, signal: controller.signal }).catch((e: unknown) => e);
    expect((error as Error).name).toBe('AbortError');
    expect(existsSync(dest)).toBe(false);
  });
});
