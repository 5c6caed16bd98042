import { strToU8, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { DataSetError } from '../errors';
import { PIXELS_PER_IMAGE } from './format';
import { DECODES_IN_FLIGHT, importOwnDataSet, zipEntries, type DecodePicture, type DroppedFile } from './ownImport';

/**
 * A stand-in for the browser's decoder: a "picture" is a file whose text is
 * "grey N", decoded to a flat grey N; anything else fails as the real
 * decoder fails on a non-image, with the file's name in the message.
 */
const decode: DecodePicture = async (file, name) => {
  const match = /^grey (\d+)$/.exec(await file.text());
  if (!match) throw new Error(`"${name}" is not an image the browser can decode`);
  return { pixels: new Uint8Array(PIXELS_PER_IMAGE).fill(Number(match[1])) };
};

const picture = (path: string, grey: number): DroppedFile => ({ path, file: new Blob([`grey ${grey}`]) });
const broken = (path: string): DroppedFile => ({ path, file: new Blob(['<svg/>']) });

describe('importOwnDataSet', () => {
  it('keeps the pictures in file order when the decodes finish in another, and has at most DECODES_IN_FLIGHT at once', async () => {
    let inFlight = 0;
    let most = 0;
    // Later files finish first: fewer turns of the microtask queue, no clock.
    const slowFirst: DecodePicture = async (file, name) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      const grey = Number(/\d+$/.exec(await file.text())?.[0]);
      for (let k = 0; k < 40 - grey; k++) await Promise.resolve();
      inFlight -= 1;
      return decode(file, name);
    };
    const entries = ['a', 'b'].flatMap((c, ci) =>
      Array.from({ length: 15 }, (_, i) => picture(`${c}/${String(i).padStart(2, '0')}.png`, ci * 15 + i)),
    );
    const ordered = await importOwnDataSet(entries, decode);
    const shuffled = await importOwnDataSet(entries, slowFirst);
    expect(most).toBe(DECODES_IN_FLIGHT);
    expect(shuffled.built).toEqual(ordered.built);
  });

  it('builds the data set of what decoded and reports every file and class left out by name', async () => {
    const entries = [
      ...[1, 2, 3, 4].map((i) => picture(`leaves/oak/${i}.png`, i)),
      ...[5, 6, 7].map((i) => picture(`leaves/maple/${i}.jpg`, i)),
      broken('leaves/maple/notes.png'),
      picture('leaves/pine/1.png', 9),
      broken('leaves/pine/2.png'),
      broken('leaves/pine/3.png'),
      picture('leaves/.DS_Store', 0),
      picture('leaves/cover.jpg', 0),
    ];
    const progress: number[] = [];
    const { built, report } = await importOwnDataSet(entries, decode, (p) => progress.push(p.decoded));
    expect(built.manifest.classes).toEqual(['maple', 'oak']);
    expect(built.manifest.splits.train.count + built.manifest.splits.test.count).toBe(7);
    expect(report).toEqual({
      root: 'leaves',
      counts: [
        { name: 'maple', count: 3 },
        { name: 'oak', count: 4 },
      ],
      skippedFiles: [
        { path: 'leaves/.DS_Store', reason: 'hidden' },
        { path: 'leaves/cover.jpg', reason: 'outside-class-folders' },
      ],
      unreadable: [
        { path: 'leaves/maple/notes.png', message: '"leaves/maple/notes.png" is not an image the browser can decode' },
        { path: 'leaves/pine/2.png', message: '"leaves/pine/2.png" is not an image the browser can decode' },
        { path: 'leaves/pine/3.png', message: '"leaves/pine/3.png" is not an image the browser can decode' },
      ],
      skippedClasses: [{ name: 'pine', count: 1, reason: 'too-few' }],
    });
    expect(progress).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('refuses a drop of one class folder before decoding anything', async () => {
    let calls = 0;
    const counting: DecodePicture = async (file, name) => ((calls += 1), decode(file, name));
    const one = importOwnDataSet(
      [1, 2, 3].map((i) => picture(`oak/${i}.png`, i)),
      counting,
    );
    await expect(one).rejects.toThrow(DataSetError);
    await expect(one).rejects.toThrow('found oak (3)');
    expect(calls).toBe(0);
  });

  it('refuses a drop whose pictures mostly fail, naming the classes as they decoded', async () => {
    const entries = [
      picture('a/1.png', 1),
      picture('a/2.png', 2),
      picture('a/3.png', 3),
      broken('b/1.png'),
      broken('b/2.png'),
      broken('b/3.png'),
    ];
    await expect(importOwnDataSet(entries, decode)).rejects.toThrow('found a (3), b (0)');
  });
});

describe('zipEntries', () => {
  it('reads a zip as the same entries a folder drop gives, folders included', async () => {
    // fflate writes a folder entry for each nested object, as zip tools do for a zipped folder.
    const zip = zipSync({ leaves: { oak: { '1.png': strToU8('grey 1') }, birch: {} } });
    const entries = zipEntries(zip, 'leaves.zip');
    expect(entries.map((e) => [e.path, e.directory === true])).toEqual([
      ['leaves/', true],
      ['leaves/oak/', true],
      ['leaves/oak/1.png', false],
      ['leaves/birch/', true],
    ]);
    expect(await entries[2]?.file?.text()).toBe('grey 1');
  });

  it('imports a zipped data set like the folder', async () => {
    const files: Record<string, Uint8Array> = {};
    for (const cls of ['cat', 'dog']) for (let i = 0; i < 5; i++) files[`pets/${cls}/${i}.png`] = strToU8(`grey ${i}`);
    const { report } = await importOwnDataSet(zipEntries(zipSync(files), 'pets.zip'), decode);
    expect(report.counts).toEqual([
      { name: 'cat', count: 5 },
      { name: 'dog', count: 5 },
    ]);
  });

  it('refuses what is not a zip, in words', () => {
    expect(() => zipEntries(strToU8('not a zip at all'), 'photos.zip')).toThrow(/^"photos\.zip" is not a zip this page can read/);
  });
});
