/**
 * `npm start`: prepare the data if it is missing, build the app, serve it and
 * print the URL. Set CIFAR10_ARCHIVE to a local cifar-10-binary.tar.gz to
 * skip the download; PORT to change the port (default 4173).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { build, preview } from 'vite';
import { DATA_DIR } from './convert';

function prepareData(): void {
  if (existsSync(`${DATA_DIR}/manifest.json`)) return;
  console.log('CIFAR-10 shards are missing: preparing them (one-time).');
  const args = ['tsx', 'scripts/data.ts', '--out', DATA_DIR];
  const archive = process.env.CIFAR10_ARCHIVE;
  if (archive) args.push('--archive', archive);
  const result = spawnSync('npx', args, { stdio: 'inherit' });
  if (result.status !== 0) {
    if (!archive) console.error('With a local copy of the archive: CIFAR10_ARCHIVE=/path/to/cifar-10-binary.tar.gz npm start');
    process.exit(result.status ?? 1);
  }
}

async function main(): Promise<void> {
  prepareData();
  await build({ logLevel: 'warn' });
  const port = Number(process.env.PORT ?? 4173);
  const server = await preview({ preview: { port, strictPort: true, open: false } });
  console.log('\nCIFAR-10 in a tab is running. Open this address in Chrome, Edge or another browser with WebGPU:');
  server.printUrls();
}

main().catch((error: unknown) => {
  console.error(`error: ${(error as Error).message}`);
  process.exit(1);
});
