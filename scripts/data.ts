/**
 * `npm run data`: CIFAR-10 binary archive → browser shards in public/data/cifar10.
 *
 * Exit codes: 0 done (or already up to date), 1 failed, 2 bad command line,
 * 130 interrupted. Expected failures print one `error: …` line on stderr.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { DATA_DIR, convert, type ConvertPhase, type ConvertResult } from './convert';
import { ConvertError, isAbortError } from './convert-error';
import { ARCHIVE_NAME, CIFAR10_MD5, CIFAR10_URL, download } from './download';

/** Where the app loads shards from, wherever the command is run from. */
const DEFAULT_OUT = join(import.meta.dirname, '..', DATA_DIR);

const USAGE = `Usage: npm run data -- [--archive PATH] [--out DIR] [--force]

Converts the CIFAR-10 binary archive into shards the browser loads.

  --archive PATH  use a local ${ARCHIVE_NAME} instead of downloading it from
                  ${CIFAR10_URL}
  --out DIR       output folder (default: public/data/cifar10 in the project)
  --force         convert even if DIR already holds shards of this archive
  -h, --help      show this help
`;

const PHASE_LABELS: Record<ConvertPhase | 'download', string> = {
  download: 'downloading',
  checksum: 'checksumming',
  read: 'converting',
  write: 'writing shards',
};

async function main(argv: string[], signal: AbortSignal): Promise<number> {
  let values: { archive?: string; out?: string; force?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        archive: { type: 'string' },
        out: { type: 'string' },
        force: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    process.stderr.write(`error: ${message} (see npm run data -- --help)\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (values.archive === '' || values.out === '') {
    process.stderr.write('error: --archive and --out need a path (see npm run data -- --help)\n');
    return 2;
  }

  const started = performance.now();
  const bar = new ProgressBar(process.stderr);
  let downloadDir: string | undefined;
  let result: ConvertResult;
  try {
    let archive = values.archive;
    if (archive === undefined) {
      downloadDir = await mkdtemp(join(tmpdir(), 'cifar10-'));
      archive = join(downloadDir, ARCHIVE_NAME);
      await download({
        url: CIFAR10_URL,
        dest: archive,
        md5: CIFAR10_MD5,
        onProgress: (done, total) => bar.update(PHASE_LABELS.download, done, total),
        signal,
      });
    }
    result = await convert({
      archive,
      out: values.out ?? DEFAULT_OUT,
      force: values.force ?? false,
      onProgress: (phase, done, total) => bar.update(PHASE_LABELS[phase], done, total),
      signal,
    });
  } finally {
    bar.clear();
    if (downloadDir !== undefined) await rm(downloadDir, { recursive: true, force: true });
  }

  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stdout.write(summary(result, seconds));
  return 0;
}

function summary({ status, out: outPath, manifest }: ConvertResult, seconds: string): string {
  const fromHere = relative(process.cwd(), outPath);
  const out = fromHere === '' ? '.' : fromHere.startsWith('..') ? resolve(outPath) : fromHere;
  const { train, test } = manifest.splits;
  const channels = (values: number[]): string => values.map((v) => v.toFixed(2)).join(', ');
  const head =
    status === 'up-to-date'
      ? `Shards in ${out} are up to date with this archive (use --force to rebuild).`
      : `Wrote ${out} in ${seconds} s.`;
  return [
    head,
    `  train: ${train.count} images in ${train.shards.length} shards`,
    `  test:  ${test.count} images in ${test.shards.length} shards`,
    `  mean (R, G, B): ${channels(manifest.mean)}`,
    `  std  (R, G, B): ${channels(manifest.std)}`,
    '',
  ].join('\n');
}

/** A one-line bar redrawn in place; silent when stderr is not a terminal, so logs and pipes stay clean. */
class ProgressBar {
  private lastDraw = 0;
  private drawn = false;
  constructor(private readonly stream: NodeJS.WriteStream) {}

  update(label: string, done: number, total: number | undefined): void {
    if (!this.stream.isTTY) return;
    const now = performance.now();
    const finished = total !== undefined && done >= total;
    // Redrawing on every 64 KB chunk would cost more than the work itself.
    if (now - this.lastDraw < 100 && !finished) return;
    this.lastDraw = now;
    const width = 30;
    let line: string;
    if (total === undefined) {
      line = `${label} ${(done / 1e6).toFixed(1)} MB`;
    } else {
      const fraction = Math.min(done / total, 1);
      const filled = Math.round(fraction * width);
      line = `${label.padEnd(14)} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}%`;
    }
    this.stream.write(`\r${line}\x1b[K`);
    this.drawn = true;
  }

  clear(): void {
    if (this.drawn) this.stream.write('\r\x1b[K');
    this.drawn = false;
  }
}

const controller = new AbortController();
process.once('SIGINT', () => controller.abort());

main(process.argv.slice(2), controller.signal).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof ConvertError) {
      process.stderr.write(`error: ${error.message}\n`);
      process.exitCode = 1;
    } else if (isAbortError(error)) {
      process.stderr.write('error: interrupted; the previous output (if any) is unchanged\n');
      process.exitCode = 130;
    } else {
      console.error(error);
      process.exitCode = 1;
    }
  },
);
