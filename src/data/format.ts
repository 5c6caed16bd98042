/**
 * The shard format shared by the converter (`npm run data`) and the browser loader.
 *
 * A shard is a plain concatenation of records. Each record is one label byte
 * followed by the image in height-width-channel (NHWC) order, so the browser
 * can hand a slice straight to `tf.tensor4d` without transposing.
 */

export const IMAGE = Object.freeze({
  height: 32, // pixels
  width: 32, // pixels
  channels: 3, // RGB
});

/** Bytes of pixels in one image: 32 × 32 × 3. */
export const PIXELS_PER_IMAGE = IMAGE.height * IMAGE.width * IMAGE.channels;

/** Bytes in one record, in the official archive and in our shards alike: label + pixels. */
export const RECORD_BYTES = 1 + PIXELS_PER_IMAGE;

/** Shards hold at most this many images (≈15 MB), small enough to verify and cache one at a time. */
export const MAX_IMAGES_PER_SHARD = 5000;

export const NUM_CLASSES = 10;

/** The fewest classes a data set has: fewer is not a classification. Unit: classes. */
export const MIN_CLASSES = 2;

/**
 * The most classes a data set of the user's own has, and so a network is
 * built for: the results' tables and confusion matrix stop being readable
 * beyond it. Unit: classes.
 */
export const MAX_CLASSES = 100;

/** Longest class name (a folder's name for the user's own classes): shown in table headers and kept in model files. Unit: characters. */
export const MAX_CLASS_NAME_LENGTH = 40;

export const MANIFEST_FILE = 'manifest.json';

export type SplitName = 'train' | 'test';

export interface ShardInfo {
  /** File name relative to the manifest, e.g. `train-000.bin`. */
  file: string;
  /** Images in the shard. */
  count: number;
  /** Size in bytes; always `count * RECORD_BYTES`. */
  bytes: number;
  /** Lower-case hex SHA-256 of the file. */
  sha256: string;
}

export interface SplitInfo {
  count: number;
  shards: ShardInfo[];
}

export interface Manifest {
  classes: string[];
  image: { height: number; width: number; channels: number };
  splits: Record<SplitName, SplitInfo>;
  /** Per-channel statistics of the training pixels on the 0–255 scale, in R, G, B order. */
  mean: [number, number, number];
  std: [number, number, number];
  /** Where the shards came from, so a re-run on the same archive can skip the work. */
  source?: { sha256: string; bytes: number };
}
