/** Vitest: the sample the specs load is a valid manifest of the real shards, and the texts they wait for match it. */
import { describe, expect, it } from 'vitest';
import { parseManifest } from '../src/data/manifest';
import { FULL_LOADED, SAMPLE_LOADED, servedSample } from './sample-data';
import { ensureShards } from '../scripts/shards';

describe('the specs’ data sample', () => {
  ensureShards();
  const sample = servedSample();

  it('is a manifest the page accepts, of the first real shards', () => {
    expect(parseManifest(JSON.parse(JSON.stringify(sample)), 'manifest.json')).toEqual(sample);
    expect(sample.splits.train.shards.map((s) => s.file)).toEqual(['train-000.bin']);
    expect(sample.splits.test.shards.map((s) => s.file)).toEqual(['test-000.bin']);
  });

  it('counts what it lists, and the texts the specs wait for say those counts', () => {
    const count = (shards: { count: number }[]) => shards.reduce((n, s) => n + s.count, 0);
    expect(sample.splits.train.count).toBe(count(sample.splits.train.shards));
    expect(sample.splits.test.count).toBe(count(sample.splits.test.shards));
    expect(SAMPLE_LOADED).toBe(`${sample.splits.train.count.toLocaleString('en-US')} training images`);
    expect(FULL_LOADED).toBe('50,000 training images');
  });
});
