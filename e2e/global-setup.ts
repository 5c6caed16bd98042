/**
 * The end-to-end tests need shards built from the real archive. Build them
 * once if they are missing; under CI this must never be skipped.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DATA_DIR } from '../scripts/convert';

export default function globalSetup(): void {
  if (existsSync(path.join(DATA_DIR, 'manifest.json'))) return;
  const archive = process.env.CIFAR10_ARCHIVE ?? '../shared/cifar10/cifar-10-binary.tar.gz';
  const args = ['tsx', 'scripts/data.ts', '--out', DATA_DIR];
  if (existsSync(archive)) args.push('--archive', archive);
  execFileSync('npx', args, { stdio: 'inherit' });
}
