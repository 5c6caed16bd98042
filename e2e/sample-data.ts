/**
 * Which part of the real data set a spec's pages load (fixtures.ts routes
 * the manifest). No Playwright here, so Vitest can check it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DATA_DIR } from '../scripts/convert';
import type { Manifest, SplitInfo } from '../src/data/format';

/**
 * `sample`: the page loads the first training shard and the first test shard
 * of the real data set (5,000 images each, 31 MB) instead of all twelve
 * (60,000 images, 184 MB). Most specs train on a few hundred images (the
 * largest on 4,096); loading everything was about a quarter of the suite's
 * time, and a second training shard about 1.5 s of each spec's. The shards
 * are the real files; only the manifest the page reads lists fewer of them.
 * `full`: the data set as it is served (the specs about loading itself).
 */
export type DataChoice = 'sample' | 'full';

/** The page's data status once the sample has loaded. */
export const SAMPLE_LOADED = '5,000 training images';
/** The page's data status once the whole data set has loaded. */
export const FULL_LOADED = '50,000 training images';

export const MANIFEST = /\/data\/cifar10\/manifest\.json$/;

/** The served manifest, cut to the sample's shards (its mean and std stay those of the whole training set). */
export function sampleManifest(manifest: Manifest): Manifest {
  const first = (split: SplitInfo, shards: number): SplitInfo => {
    const kept = split.shards.slice(0, shards);
    return { ...split, count: kept.reduce((sum, shard) => sum + shard.count, 0), shards: kept };
  };
  return { ...manifest, splits: { train: first(manifest.splits.train, 1), test: first(manifest.splits.test, 1) } };
}

/** The sample of the manifest `npm run data` wrote. */
export function servedSample(): Manifest {
  return sampleManifest(JSON.parse(readFileSync(path.join(DATA_DIR, 'manifest.json'), 'utf8')) as Manifest);
}
