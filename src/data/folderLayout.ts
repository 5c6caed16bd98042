/**
 * A data set of the user's own classes, read from the paths of a dropped
 * folder or zip: one sub-folder per class, the folder names being the class
 * names (the layout torchvision's `ImageFolder` and Keras's
 * `image_dataset_from_directory` read). Pure: paths in, classes out, so it is
 * unit-tested without a browser; whether a file is a picture is decided later,
 * from its bytes (src/classify/imageFormat.ts), not from its name.
 */
import { DataSetError } from '../errors';
import { MAX_CLASS_NAME_LENGTH, MAX_CLASSES, MIN_CLASSES } from './format';

/** What a data set of the user's own classes may hold. */
export const OWN_DATA_LIMITS = Object.freeze({
  /** Fewer is not a classification (format.ts). Unit: classes. */
  minClasses: MIN_CLASSES,
  /** As many as a network is built for (format.ts). Unit: classes. */
  maxClasses: MAX_CLASSES,
  /** One picture each for training, validation and test: the least a stratified split divides. Unit: pictures. */
  minPerClass: 3,
});

/** One entry of a drop or zip: its path below what was dropped, '/'- or '\\'-separated; `directory` for a folder entry. */
export interface PathEntry {
  path: string;
  directory?: boolean;
}

/** Why an entry is not part of any class. */
export type SkipReason =
  /** A dot-file or dot-folder, or what an operating system adds (`__MACOSX`, `Thumbs.db`, `desktop.ini`). */
  | 'hidden'
  /** A file beside the class folders rather than in one. */
  | 'outside-class-folders';

export interface ClassFiles<T> {
  /** The folder's name, Unicode-normalised (NFC): a name typed on one system matches it read on another. */
  name: string;
  /** The class's files, those in nested folders included (as `ImageFolder`), in path order. */
  files: T[];
}

export interface FolderLayout<T> {
  /** Classes by name in code-point order, as Python's `sorted` orders `ImageFolder`'s, so class indices agree. */
  classes: ClassFiles<T>[];
  skipped: { path: string; reason: SkipReason }[];
  /** The folders that held the class folders (e.g. "leaves" when the folder "leaves" was dropped), or "" for none. */
  root: string;
}

/** Names operating systems add to folders and zips that no one means as data. */
const SYSTEM_NAMES = new Set(['__macosx', 'thumbs.db', 'desktop.ini']);

function segments(path: string): string[] {
  return path
    .split(/[/\\]/)
    .filter((s) => s !== '' && s !== '.')
    .map((s) => s.normalize('NFC'));
}

const hidden = (segs: readonly string[]) => segs.some((s) => s.startsWith('.') || SYSTEM_NAMES.has(s.toLowerCase()));

const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The classes of a drop or zip. A folder that every file in a folder sits
 * below is stripped as long as some file is still two folders down, so
 * dropping the data set's own folder (or a zip that wraps it) reads the same
 * as dropping its class folders; files beside the class folders are skipped. Empty folders (zip or drop folder entries) become
 * classes with no files, for `checkClasses` to report.
 */
export function readLayout<T extends PathEntry>(entries: readonly T[]): FolderLayout<T> {
  const skipped: FolderLayout<T>['skipped'] = [];
  const files: { entry: T; segs: string[] }[] = [];
  const folders: string[][] = [];
  for (const entry of entries) {
    const segs = segments(entry.path);
    if (segs.length === 0) continue;
    if (hidden(segs)) {
      if (!entry.directory) skipped.push({ path: entry.path, reason: 'hidden' });
    } else if (entry.directory) folders.push(segs);
    else files.push({ entry, segs });
  }

  const root: string[] = [];
  for (;;) {
    // Files beside the folders at this level (a README next to the data set's folder) do not stop the descent.
    const inFolders = files.filter((f) => f.segs.length > root.length + 1);
    const first = inFolders[0]?.segs[root.length];
    const shared = first !== undefined && inFolders.every((f) => f.segs[root.length] === first);
    if (!shared || !inFolders.some((f) => f.segs.length > root.length + 2)) break;
    root.push(first);
  }
  const below = (segs: readonly string[]) => root.every((s, i) => segs[i] === s);

  const classes = new Map<string, T[]>();
  for (const { entry, segs } of files) {
    const rest = segs.slice(root.length);
    if (rest.length < 2) {
      skipped.push({ path: entry.path, reason: 'outside-class-folders' });
      continue;
    }
    const name = rest[0] as string;
    classes.set(name, [...(classes.get(name) ?? []), entry]);
  }
  for (const segs of folders) {
    const name = segs[root.length];
    if (segs.length > root.length && below(segs) && name !== undefined && !classes.has(name)) classes.set(name, []);
  }

  return {
    classes: [...classes.entries()]
      .sort(([a], [b]) => byCodePoint(a, b))
      .map(([name, list]) => ({ name, files: [...list].sort((a, b) => byCodePoint(a.path, b.path)) })),
    skipped,
    root: root.join('/'),
  };
}

/** A class left out of the data set, and why. */
export interface SkippedClass {
  name: string;
  /** Pictures it had. Unit: pictures. */
  count: number;
  reason: 'empty' | 'too-few';
}

/**
 * The classes a data set trains on, from each class's count of pictures:
 * empty classes and those too small for a stratified split are left out and
 * named; what remains must be 2 to 100 classes, none differing from another
 * by case alone (a folder "Cat" beside "cat" is a slip more often than two
 * classes). Throws a DataSetError saying what was found otherwise.
 */
export function checkClasses(
  counts: readonly { name: string; count: number }[],
  limits: Readonly<typeof OWN_DATA_LIMITS> = OWN_DATA_LIMITS,
): { kept: string[]; skipped: SkippedClass[] } {
  const skipped: SkippedClass[] = [];
  const kept: string[] = [];
  for (const { name, count } of counts) {
    if (count === 0) skipped.push({ name, count, reason: 'empty' });
    else if (count < limits.minPerClass) skipped.push({ name, count, reason: 'too-few' });
    else kept.push(name);
  }
  const seen = new Map<string, string>();
  for (const name of kept) {
    if (name.length > MAX_CLASS_NAME_LENGTH) {
      throw new DataSetError(
        `The folder name "${name}" is longer than ${MAX_CLASS_NAME_LENGTH} characters: class names head the results' tables and go into the model file; shorten it.`,
      );
    }
    const twin = seen.get(name.toLowerCase());
    if (twin !== undefined) {
      throw new DataSetError(`The folders "${twin}" and "${name}" differ only in upper and lower case: rename or merge them.`);
    }
    seen.set(name.toLowerCase(), name);
  }
  const found = counts.length === 0 ? 'no class folder' : counts.map((c) => `${c.name} (${c.count})`).join(', ');
  if (kept.length < limits.minClasses) {
    throw new DataSetError(
      `A data set needs at least ${limits.minClasses} class folders with ${limits.minPerClass} or more pictures each; found ${found}.`,
    );
  }
  if (kept.length > limits.maxClasses) {
    throw new DataSetError(`A data set can have at most ${limits.maxClasses} classes; this one has ${kept.length}.`);
  }
  return { kept, skipped };
}
