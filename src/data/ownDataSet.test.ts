import { describe, expect, it } from 'vitest';
import { PIXELS_PER_IMAGE, RECORD_BYTES } from './format';
import { loadDataset } from './loader';
import { ANY_CLASSES } from './manifest';
import { OWN_SPLIT, buildDataSet, type ClassImages } from './ownDataSet';

/** `count` pictures of one flat colour each, picture i of class `label` being grey level label * 40 + i. */
function flatClass(name: string, label: number, count: number): ClassImages {
  return { name, images: Array.from({ length: count }, (_, i) => new Uint8Array(PIXELS_PER_IMAGE).fill(label * 40 + i)) };
}

/** Serves a built data set as the app's server would, for the real loader. */
function served(built: Awaited<ReturnType<typeof buildDataSet>>): typeof fetch {
  const files = new Map<string, BodyInit>([['manifest.json', JSON.stringify(built.manifest)]]);
  for (const { file, bytes } of built.shards) files.set(file, new Uint8Array(bytes));
  return (async (input: RequestInfo | URL) => {
    const name = new URL(String(input)).pathname.split('/').pop() ?? '';
    const body = files.get(name);
    return body === undefined ? new Response(null, { status: 404 }) : new Response(body);
  }) as typeof fetch;
}

describe('buildDataSet', () => {
  const classes = [flatClass('oak', 0, 10), flatClass('maple', 1, 5), flatClass('birch', 2, 3)];

  it('holds out a fifth of each class, at least one picture, for the test report', async () => {
    const { manifest } = await buildDataSet(classes);
    expect(manifest.classes).toEqual(['oak', 'maple', 'birch']);
    // round(10 × 0.2) = 2, round(5 × 0.2) = 1, round(3 × 0.2) = 1
    expect(manifest.splits.test.count).toBe(4);
    expect(manifest.splits.train.count).toBe(14);
  });

  it('loads through the CIFAR-10 loader, verified, every picture once with its own label', async () => {
    const built = await buildDataSet(classes);
    const dataset = await loadDataset({ baseUrl: 'http://own.test/data/', fetch: served(built), classCount: ANY_CLASSES });
    const seen: [number, number][] = [];
    for (const split of [dataset.train, dataset.test]) {
      for (let i = 0; i < split.labels.length; i++) {
        const pixels = split.pixels.subarray(i * PIXELS_PER_IMAGE, (i + 1) * PIXELS_PER_IMAGE);
        expect(pixels.every((v) => v === pixels[0])).toBe(true);
        seen.push([split.labels[i] as number, pixels[0] as number]);
      }
    }
    const expected = classes.flatMap((c, label) => c.images.map((image) => [label, image[0] as number]));
    expect(seen.sort((a, b) => a[1] - b[1])).toEqual(expected.sort((a, b) => (a[1] as number) - (b[1] as number)));
  });

  it('computes the channel statistics of the training pictures alone', async () => {
    const red = new Uint8Array(PIXELS_PER_IMAGE).map((_, i) => (i % 3 === 0 ? 200 : 0));
    const blue = new Uint8Array(PIXELS_PER_IMAGE).map((_, i) => (i % 3 === 2 ? 100 : 0));
    const { manifest } = await buildDataSet([
      { name: 'red', images: [red, red, red, red, red] },
      { name: 'blue', images: [blue, blue, blue, blue, blue] },
    ]);
    // 4 of each class train: R is 200 on half the pixels, B 100 on the other half, G nothing.
    expect(manifest.mean).toEqual([100, 0, 50]);
    expect(manifest.std[0]).toBeCloseTo(100, 9);
    expect(manifest.std[1]).toBe(1e-3);
    expect(manifest.std[2]).toBeCloseTo(50, 9);
  });

  it('splits by seed: the same seed holds out the same pictures, another seed others', async () => {
    const many = [flatClass('a', 0, 30), flatClass('b', 1, 30)];
    const testGreys = async (seed: number) => {
      const built = await buildDataSet(many, { ...OWN_SPLIT, seed });
      const test = built.shards
        .filter((s) => s.file.startsWith('test-'))
        .flatMap((s) => Array.from({ length: s.bytes.length / RECORD_BYTES }, (_, i) => s.bytes[i * RECORD_BYTES + 1]));
      return test.sort();
    };
    expect(await testGreys(1)).toEqual(await testGreys(1));
    expect(await testGreys(1)).not.toEqual(await testGreys(2));
  });

  it('cuts splits into shards of at most 5,000 pictures', async () => {
    const big = await buildDataSet([flatClass('a', 0, 4000), flatClass('b', 1, 4000)]);
    expect(big.manifest.splits.train.shards.map((s) => s.count)).toEqual([5000, 1400]);
    expect(big.shards.map((s) => s.file)).toEqual(['train-000.bin', 'train-001.bin', 'test-000.bin']);
  });

  it('is refused by a load that expects CIFAR-10, whose ten classes the networks take', async () => {
    const built = await buildDataSet(classes);
    await expect(loadDataset({ baseUrl: 'http://own.test/data/', fetch: served(built) })).rejects.toThrow(
      '"classes" must list 10 different names',
    );
  });

  it('refuses what it cannot store', async () => {
    await expect(buildDataSet([flatClass('a', 0, 1), flatClass('b', 1, 4)])).rejects.toThrow('class "a" has 1 picture(s)');
    await expect(buildDataSet([{ name: 'a', images: [new Uint8Array(10), new Uint8Array(10)] }])).rejects.toThrow('10 bytes, not 3072');
  });
});
