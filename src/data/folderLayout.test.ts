import { describe, expect, it } from 'vitest';
import { DataSetError } from '../errors';
import { OWN_DATA_LIMITS, checkClasses, readLayout, type PathEntry } from './folderLayout';

const files = (...paths: string[]): PathEntry[] => paths.map((path) => ({ path }));
const names = (layout: ReturnType<typeof readLayout>) => layout.classes.map((c) => [c.name, c.files.map((f) => f.path)]);

describe('readLayout', () => {
  it('reads one class per folder, the folder names being the class names', () => {
    const layout = readLayout(files('oak/1.jpg', 'maple/2.png', 'oak/3.jpg'));
    expect(names(layout)).toEqual([
      ['maple', ['maple/2.png']],
      ['oak', ['oak/1.jpg', 'oak/3.jpg']],
    ]);
    expect(layout.root).toBe('');
    expect(layout.skipped).toEqual([]);
  });

  it("reads the data set's own folder, or a zip wrapping it twice, as its class folders", () => {
    const one = readLayout(files('leaves/oak/1.jpg', 'leaves/maple/2.jpg'));
    expect(names(one)).toEqual([
      ['maple', ['leaves/maple/2.jpg']],
      ['oak', ['leaves/oak/1.jpg']],
    ]);
    expect(one.root).toBe('leaves');
    expect(readLayout(files('export/leaves/oak/1.jpg', 'export/leaves/maple/2.jpg')).root).toBe('export/leaves');
    // Windows paths, and a README beside the data set's folder, which is skipped rather than stopping the descent.
    const windows = readLayout(files('leaves\\oak\\1.jpg', 'leaves\\maple\\2.jpg', 'README.txt'));
    expect(windows.root).toBe('leaves');
    expect(windows.classes.map((c) => c.name)).toEqual(['maple', 'oak']);
    expect(windows.skipped).toEqual([{ path: 'README.txt', reason: 'outside-class-folders' }]);
  });

  it('keeps files of nested folders in their class, as ImageFolder does', () => {
    const layout = readLayout(files('oak/summer/1.jpg', 'oak/autumn/2.jpg', 'maple/3.jpg'));
    expect(names(layout)).toEqual([
      ['maple', ['maple/3.jpg']],
      ['oak', ['oak/autumn/2.jpg', 'oak/summer/1.jpg']],
    ]);
  });

  it('does not take a single class folder for the data set around two classes', () => {
    // Dropping just "oak" gives one class (which checkClasses refuses), not classes named after its files.
    expect(names(readLayout(files('oak/1.jpg', 'oak/2.jpg')))).toEqual([['oak', ['oak/1.jpg', 'oak/2.jpg']]]);
  });

  it('skips hidden and system files by name, and files beside the class folders', () => {
    const layout = readLayout(
      files(
        '.DS_Store',
        'oak/.hidden.jpg',
        '__MACOSX/oak/._1.jpg',
        'maple/Thumbs.db',
        'oak/desktop.ini',
        'stray.jpg',
        'oak/1.jpg',
        'maple/2.jpg',
      ),
    );
    expect(names(layout)).toEqual([
      ['maple', ['maple/2.jpg']],
      ['oak', ['oak/1.jpg']],
    ]);
    expect(layout.skipped).toEqual([
      { path: '.DS_Store', reason: 'hidden' },
      { path: 'oak/.hidden.jpg', reason: 'hidden' },
      { path: '__MACOSX/oak/._1.jpg', reason: 'hidden' },
      { path: 'maple/Thumbs.db', reason: 'hidden' },
      { path: 'oak/desktop.ini', reason: 'hidden' },
      { path: 'stray.jpg', reason: 'outside-class-folders' },
    ]);
  });

  it('makes empty folders classes with no files, for checkClasses to name', () => {
    const layout = readLayout([...files('leaves/oak/1.jpg', 'leaves/maple/2.jpg'), { path: 'leaves/birch/', directory: true }]);
    expect(names(layout)).toEqual([
      ['birch', []],
      ['maple', ['leaves/maple/2.jpg']],
      ['oak', ['leaves/oak/1.jpg']],
    ]);
  });

  it('orders classes by code point, as Python sorts them, and takes Unicode names in one normal form', () => {
    // "é" typed as one code point (NFC) and as e + combining accent (NFD, as macOS writes file names): one class.
    const layout = readLayout(files('\u00e9rable/1.jpg', 'e\u0301rable/2.jpg', 'Oak/3.jpg', 'birch/4.jpg', '橡树/5.jpg'));
    expect(layout.classes.map((c) => [c.name, c.files.length])).toEqual([
      ['Oak', 1],
      ['birch', 1],
      ['\u00e9rable', 2],
      ['橡树', 1],
    ]);
  });
});

describe('checkClasses', () => {
  it('keeps classes with enough pictures and names those left out', () => {
    const result = checkClasses([
      { name: 'birch', count: 0 },
      { name: 'maple', count: 40 },
      { name: 'oak', count: 3 },
      { name: 'pine', count: 2 },
    ]);
    expect(result.kept).toEqual(['maple', 'oak']);
    expect(result.skipped).toEqual([
      { name: 'birch', count: 0, reason: 'empty' },
      { name: 'pine', count: 2, reason: 'too-few' },
    ]);
  });

  it('refuses fewer than two usable classes, saying what it found', () => {
    const one = () => checkClasses([{ name: 'oak', count: 12 }]);
    expect(one).toThrow(DataSetError);
    expect(one).toThrow('at least 2 class folders with 3 or more pictures each; found oak (12).');
    expect(() => checkClasses([])).toThrow('found no class folder.');
    expect(() =>
      checkClasses([
        { name: 'oak', count: 12 },
        { name: 'pine', count: 1 },
      ]),
    ).toThrow('found oak (12), pine (1).');
  });

  it('refuses more classes than the limit', () => {
    const many = Array.from({ length: OWN_DATA_LIMITS.maxClasses + 1 }, (_, i) => ({ name: `c${i}`, count: 5 }));
    expect(() => checkClasses(many)).toThrow('at most 100 classes; this one has 101.');
    expect(checkClasses(many.slice(1)).kept).toHaveLength(100);
  });

  it('refuses two classes whose names differ only in case', () => {
    const clash = () =>
      checkClasses([
        { name: 'Cat', count: 5 },
        { name: 'cat', count: 5 },
      ]);
    expect(clash).toThrow('The folders "Cat" and "cat" differ only in upper and lower case');
    // A class too small to keep does not clash.
    expect(
      checkClasses([
        { name: 'Cat', count: 1 },
        { name: 'cat', count: 5 },
        { name: 'dog', count: 5 },
      ]).kept,
    ).toEqual(['cat', 'dog']);
  });

  it('refuses a class name longer than the model files keep, naming it', () => {
    const long = 'a'.repeat(41);
    expect(() =>
      checkClasses([
        { name: long, count: 5 },
        { name: 'b', count: 5 },
      ]),
    ).toThrow(`"${long}" is longer than 40 characters`);
    expect(
      checkClasses([
        { name: 'a'.repeat(40), count: 5 },
        { name: 'b', count: 5 },
      ]).kept,
    ).toHaveLength(2);
  });

  it('carries its code across the worker boundary', () => {
    try {
      checkClasses([]);
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ name: 'DataSetError', code: 'dataset-invalid' });
    }
  });
});
