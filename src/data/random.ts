/**
 * Seeded randomness. Every random choice in training (split, sample, epoch
 * order, augmentation, initial weights) is a pure function of the user's seed
 * and a position, so a run can be repeated and a test can pin its outcome.
 */

/**
 * Separate streams per purpose, so that for example epoch 3's shuffle never
 * draws the same numbers as the augmentation of step 3.
 */
export const STREAMS = Object.freeze({
  split: 1,
  sample: 2,
  epochOrder: 3,
  augment: 4,
  weights: 5,
  dropout: 6,
  /** The test pictures held out of a data set of the user's own classes (src/data/ownDataSet.ts). */
  holdout: 7,
});

/**
 * mulberry32 (Tommy Ettinger): 32-bit state, passes PractRand to 2^32 outputs,
 * which is plenty for shuffling 50 000 indices.
 * https://gist.github.com/tommyettinger/46a874533244883189143505d203312c
 * Returns floats in [0, 1).
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Hashes several integers into one 32-bit seed with murmur3's finaliser, so
 * nearby inputs ((1, 2) vs (2, 1), step 7 vs step 8) give unrelated seeds.
 */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    h = Math.imul(h ^ (part >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** Fisher–Yates, in place. */
export function shuffleInPlace(array: Uint32Array, random: () => number): Uint32Array {
  for (let i = array.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const tmp = array[i] as number;
    array[i] = array[j] as number;
    array[j] = tmp;
  }
  return array;
}
