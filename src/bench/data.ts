/**
 * Real CIFAR-10 images for the benchmark: the first training shard only
 * (5,000 images, 15 MB), enough for any number of steps (batches wrap around),
 * without the app's 180 MB load.
 */
import { MANIFEST_FILE, NUM_CLASSES, PIXELS_PER_IMAGE, RECORD_BYTES } from '../data/format';
import { parseManifest } from '../data/manifest';
import type { ChannelStats } from '../data/preprocess';
import { epochOrder, fillBatch } from '../train/batches';

export interface BenchImages {
  /** count × 32 × 32 × 3 bytes, HWC. */
  pixels: Uint8Array;
  labels: Uint8Array;
  count: number;
  stats: ChannelStats;
  /** A shuffled order of the images, so that a batch gathers scattered images as trainModel's do. */
  order: Uint32Array;
}

export async function loadBenchImages(dataUrl: string): Promise<BenchImages> {
  const manifestResponse = await fetch(new URL(MANIFEST_FILE, dataUrl));
  if (!manifestResponse.ok) throw new Error(`${MANIFEST_FILE}: HTTP ${manifestResponse.status} (run "npm run data")`);
  const manifest = parseManifest(await manifestResponse.json(), MANIFEST_FILE);
  const shard = manifest.splits.train.shards[0];
  if (!shard) throw new Error('The manifest lists no training shard');
  const response = await fetch(new URL(shard.file, dataUrl));
  if (!response.ok) throw new Error(`${shard.file}: HTTP ${response.status}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (bytes.length !== shard.count * RECORD_BYTES)
    throw new Error(`${shard.file} has ${bytes.length} bytes, the manifest says ${shard.count * RECORD_BYTES}`);
  const pixels = new Uint8Array(shard.count * PIXELS_PER_IMAGE);
  const labels = new Uint8Array(shard.count);
  for (let i = 0; i < shard.count; i++) {
    const label = bytes[i * RECORD_BYTES] as number;
    if (label >= NUM_CLASSES) throw new Error(`${shard.file}: bad label ${label} at image ${i}`);
    labels[i] = label;
    pixels.set(bytes.subarray(i * RECORD_BYTES + 1, (i + 1) * RECORD_BYTES), i * PIXELS_PER_IMAGE);
  }
  const order = epochOrder(
    Uint32Array.from({ length: shard.count }, (_, i) => i),
    1,
    1,
  );
  return { pixels, labels, count: shard.count, stats: { mean: manifest.mean, std: manifest.std }, order };
}

/** Batch `step` of `batchSize` images in the shuffled order, by trainModel's own gather; batches wrap around the shard. */
export function fillBenchBatch(images: BenchImages, step: number, batchSize: number, x: Float32Array, y: Int32Array): void {
  const perPass = Math.floor(images.count / batchSize);
  if (perPass === 0) throw new RangeError(`A batch of ${batchSize} needs more than the ${images.count} images of the shard`);
  fillBatch(images.pixels, images.labels, images.order, (step % perPass) * batchSize, batchSize, x, y);
}
