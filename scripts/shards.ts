/**
 * The shards built from the real archive, which the end-to-end and Python
 * tests read: built once if they are missing (`npm run data`); under CI this
 * must never be skipped.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DATA_DIR } from './convert';

export function ensureShards(): void {
  if (existsSync(path.join(DATA_DIR, 'manifest.json'))) return;
  const archive = process.env.CIFAR10_ARCHIVE ?? '../shared/cifar10/cifar-10-binary.tar.gz';
  const args = ['tsx', 'scripts/data.ts', '--out', DATA_DIR];
  if (existsSync(archive)) args.push('--archive', archive);
  execFileSync('npx', args, { stdio: 'inherit' });
}
