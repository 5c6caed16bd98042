/**
 * A data set of the user's own classes in CIFAR-10's own layout: shards of
 * label + pixel records and a manifest (src/data/format.ts), so the loader
 * reads, verifies and splits it as it does CIFAR-10. The user's pictures have
 * no test split of their own: a share of each class is held out for the test
 * report, drawn by seed. Pure apart from SHA-256 (Web Crypto, in browsers and
 * Node alike), so it is unit-tested without a browser.
 */
import { IMAGE, MAX_IMAGES_PER_SHARD, PIXELS_PER_IMAGE, RECORD_BYTES, type Manifest, type ShardInfo, type SplitName } from './format';
import { LEVELS, channelStats, type ChannelHistogram } from './channelStats';
import { sha256Hex } from './loader';
import { STREAMS, mixSeed, mulberry32, shuffleInPlace } from './random';

/** How the user's pictures are divided. */
export interface OwnSplit {
  testShare: number;
  seed: number;
}

export const OWN_SPLIT: Readonly<OwnSplit> = Object.freeze({
  /** Share of each class held out for the test report (CIFAR-10 holds out 1 in 6). Unit: fraction of the class. */
  testShare: 0.2,
  /** The hold-out is a function of this seed alone, so a rebuilt data set tests on the same pictures. Unit: seed. */
  seed: 1,
});

/** One class's pictures, each already 32 × 32 × 3 RGB bytes in height-width-channel order. */
export interface ClassImages {
  name: string;
  images: readonly Uint8Array[];
}

export interface BuiltDataSet {
  manifest: Manifest;
  /** The shard files the manifest lists, in its order. */
  shards: { file: string; bytes: Uint8Array }[];
}

/** Largest label a record's one byte holds: the class count's hard limit. */
const MAX_LABEL = 255;

/**
 * Shards and manifest for `classes` (label = position in the array). Each
 * class gives round(count × testShare) of its pictures, at least one, to the
 * test split; both splits are shuffled, so a shard is a mix of classes as
 * CIFAR-10's are.
 */
export async function buildDataSet(classes: readonly ClassImages[], split: Readonly<OwnSplit> = OWN_SPLIT): Promise<BuiltDataSet> {
  if (classes.length > MAX_LABEL + 1) throw new RangeError(`at most ${MAX_LABEL + 1} classes fit a record's label byte`);
  const members: Record<SplitName, { label: number; image: Uint8Array }[]> = { train: [], test: [] };
  classes.forEach(({ name, images }, label) => {
    if (images.length < 2) throw new RangeError(`class "${name}" has ${images.length} picture(s); a test split needs two or more`);
    for (const image of images) {
      if (image.length !== PIXELS_PER_IMAGE)
        throw new RangeError(`a picture of "${name}" has ${image.length} bytes, not ${PIXELS_PER_IMAGE}`);
    }
    const order = shuffleInPlace(Uint32Array.from(images.keys()), mulberry32(mixSeed(split.seed, STREAMS.holdout, label)));
    const nTest = Math.min(images.length - 1, Math.max(1, Math.round(images.length * split.testShare)));
    order.forEach((index, i) => members[i < nTest ? 'test' : 'train'].push({ label, image: images[index] as Uint8Array }));
  });

  const shards: BuiltDataSet['shards'] = [];
  const splitInfo = async (name: SplitName) => {
    // The label stream above uses 0…255; these two draw the order of each split.
    const order = shuffleInPlace(
      Uint32Array.from(members[name].keys()),
      mulberry32(mixSeed(split.seed, STREAMS.holdout, name === 'train' ? 256 : 257)),
    );
    const list = Array.from(order, (i) => members[name][i] as (typeof members)[SplitName][number]);
    const infos: ShardInfo[] = [];
    for (let start = 0; start < list.length; start += MAX_IMAGES_PER_SHARD) {
      const part = list.slice(start, start + MAX_IMAGES_PER_SHARD);
      const bytes = new Uint8Array(part.length * RECORD_BYTES);
      part.forEach(({ label, image }, i) => {
        bytes[i * RECORD_BYTES] = label;
        bytes.set(image, i * RECORD_BYTES + 1);
      });
      const file = `${name}-${String(infos.length).padStart(3, '0')}.bin`;
      infos.push({ file, count: part.length, bytes: bytes.length, sha256: await sha256Hex(bytes) });
      shards.push({ file, bytes });
    }
    return { count: list.length, shards: infos };
  };
  const train = await splitInfo('train');
  const test = await splitInfo('test');
  return {
    manifest: {
      classes: classes.map((c) => c.name),
      image: { ...IMAGE },
      splits: { train, test },
      ...ownChannelStats(members.train.map((m) => m.image)),
    },
    shards,
  };
}

/**
 * Per-channel mean and standard deviation of the pixels (0–255), in R, G, B
 * order, as `npm run data` writes CIFAR-10's; a channel of one flat value
 * gets 1e-3 rather than 0, which the loader would divide by.
 */
function ownChannelStats(images: readonly Uint8Array[]): Pick<Manifest, 'mean' | 'std'> {
  const channels = IMAGE.channels;
  const histogram: ChannelHistogram = new Float64Array(channels * LEVELS);
  for (const image of images) {
    for (let i = 0; i < image.length; i++) {
      const bin = (i % channels) * LEVELS + (image[i] as number);
      histogram[bin] = (histogram[bin] as number) + 1;
    }
  }
  const { mean, std } = channelStats(histogram);
  return { mean, std: std.map((s) => Math.max(1e-3, s)) as [number, number, number] };
}
