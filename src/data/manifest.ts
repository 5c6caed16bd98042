import { DataError } from '../errors';
import {
  IMAGE,
  MAX_CLASSES,
  MAX_IMAGES_PER_SHARD,
  MIN_CLASSES,
  NUM_CLASSES,
  RECORD_BYTES,
  type Manifest,
  type ShardInfo,
  type SplitInfo,
} from './format';

/** How many classes a manifest may list. Unit: classes. */
export interface ClassCount {
  min: number;
  max: number;
}

/** CIFAR-10's ten, which is all the networks take until they are built per data set. */
export const CIFAR_CLASSES: Readonly<ClassCount> = Object.freeze({ min: NUM_CLASSES, max: NUM_CLASSES });

/** Any data set's: CIFAR-10, or one of the user's own classes. */
export const ANY_CLASSES: Readonly<ClassCount> = Object.freeze({ min: MIN_CLASSES, max: MAX_CLASSES });

/** `count.min` to `count.max` different, non-empty class names: a manifest's or a run file's `classes`. */
export function isClassList(value: unknown, count: ClassCount): value is string[] {
  return (
    Array.isArray(value) &&
    value.length >= count.min &&
    value.length <= count.max &&
    value.every((c) => typeof c === 'string' && c !== '') &&
    new Set(value).size === value.length
  );
}

/** What `isClassList` asks for, in words. */
export function classListRule({ min, max }: ClassCount): string {
  return `"classes" must list ${min === max ? min : `${min} to ${max}`} different names`;
}

/**
 * Checks that JSON fetched from the server really is a manifest we can load.
 * The browser trusts nothing it downloads: a stale or hand-edited manifest
 * must fail here with a message, not deep inside training.
 */
export function parseManifest(json: unknown, file: string, classCount: ClassCount = CIFAR_CLASSES): Manifest {
  const fail = (why: string): never => {
    throw new DataError(
      'manifest-invalid',
      `${file} is not a valid data set manifest: ${why}. Rebuild the data with "npm run data".`,
      file,
    );
  };
  if (typeof json !== 'object' || json === null) fail('not a JSON object');
  const m = json as Partial<Manifest>;
  if (!isClassList(m.classes, classCount)) fail(classListRule(classCount));
  const image = m.image;
  if (!image || image.height !== IMAGE.height || image.width !== IMAGE.width || image.channels !== IMAGE.channels) {
    fail(`"image" must be ${IMAGE.height}×${IMAGE.width}×${IMAGE.channels}`);
  }
  const isTriple = (v: unknown): v is [number, number, number] =>
    Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number' && Number.isFinite(x));
  if (!isTriple(m.mean) || !isTriple(m.std) || m.std.some((s) => s <= 0)) fail('"mean" and "std" must be three numbers each');
  const splits = m.splits;
  if (!splits) return fail('"splits" is missing');
  checkSplit(splits.train, 'train', fail);
  checkSplit(splits.test, 'test', fail);
  return m as Manifest;
}

function checkSplit(split: SplitInfo | undefined, name: string, fail: (why: string) => never): void {
  if (!split || !Array.isArray(split.shards) || !Number.isInteger(split.count) || split.count <= 0) {
    fail(`split "${name}" is missing or empty`);
  }
  let total = 0;
  for (const shard of split.shards as unknown[]) {
    const s = shard as Partial<ShardInfo>;
    // Shard names end up in URLs: allow plain file names only, never paths.
    const validName = typeof s.file === 'string' && /^[A-Za-z0-9_-]+\.bin$/.test(s.file);
    const validCount = Number.isInteger(s.count) && (s.count as number) > 0 && (s.count as number) <= MAX_IMAGES_PER_SHARD;
    if (
      !validName ||
      !validCount ||
      s.bytes !== (s.count as number) * RECORD_BYTES ||
      typeof s.sha256 !== 'string' ||
      !/^[0-9a-f]{64}$/.test(s.sha256)
    ) {
      fail(`shard entry ${JSON.stringify(shard)} of split "${name}" is malformed`);
    }
    total += s.count as number;
  }
  if (total !== split.count) fail(`split "${name}" says ${split.count} images but its shards hold ${total}`);
}
