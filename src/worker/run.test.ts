import { describe, expect, it } from 'vitest';
import type { ReplicaGroup } from '../train/replicas';
import type { FromWorker } from './protocol';
import { replicasFor } from './run';

/** A group whose workers start, or fail to with `failure`. */
function group(count: number, failure?: Error): ReplicaGroup & { prepared: number } {
  return {
    count,
    prepared: 0,
    async prepare() {
      this.prepared++;
      if (failure) throw failure;
    },
    start: () => Promise.reject(new Error('not used')),
    step: () => {},
    sync: () => Promise.resolve(),
    end: () => Promise.resolve(),
  };
}

describe('replicasFor', () => {
  it('trains with the replica workers once they have started', async () => {
    const posted: FromWorker[] = [];
    const g = group(2);
    expect(await replicasFor(g, 64, (m) => posted.push(m))).toBe(g);
    expect(g.prepared).toBe(1);
    expect(posted).toEqual([]);
  });

  it('trains alone, saying so, when the batch does not split evenly', async () => {
    const posted: FromWorker[] = [];
    const g = group(2);
    expect(await replicasFor(g, 33, (m) => posted.push(m))).toBeNull();
    expect(g.prepared).toBe(0);
    expect(posted).toEqual([
      {
        type: 'notice',
        message:
          'A batch of 33 images does not split evenly across the 2 WASM workers (choose a multiple of 2 to use every core), so this run trains in one worker, on part of the cores.',
      },
    ]);
  });

  it('trains alone, saying why, when the workers cannot start', async () => {
    const posted: FromWorker[] = [];
    const failed = await replicasFor(group(2, new Error('A training worker could not run: it failed to load.')), 64, (m) => posted.push(m));
    expect(failed).toBeNull();
    expect(posted).toEqual([
      {
        type: 'notice',
        message:
          'The other WASM workers could not start (A training worker could not run: it failed to load), so this run trains in one worker, on part of the cores.',
      },
    ]);
  });

  it('has nothing to do without replica workers', async () => {
    const posted: FromWorker[] = [];
    expect(await replicasFor(null, 33, (m) => posted.push(m))).toBeNull();
    expect(posted).toEqual([]);
  });
});
