/**
 * Which data set the page loads on the next visit: the one the user last
 * trained on or chose. Kept in localStorage (a few bytes, read before the
 * worker's first message); where storage is refused, CIFAR-10 as before.
 */
import type { DataSourceKind } from '../worker/protocol';

const KEY = 'cifar10-in-a-tab:data-source';

/** The part of Web Storage used here; `localStorage` in the page. */
export type SourceStorage = Pick<Storage, 'getItem' | 'setItem'>;

const pageStorage = (): SourceStorage | null => {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null; // a sandboxed frame throws on the mere access
  }
};

export function savedDataSource(storage: SourceStorage | null = pageStorage()): DataSourceKind {
  try {
    return storage?.getItem(KEY) === 'own' ? 'own' : 'cifar10';
  } catch {
    return 'cifar10';
  }
}

export function saveDataSource(source: DataSourceKind, storage: SourceStorage | null = pageStorage()): void {
  try {
    storage?.setItem(KEY, source);
  } catch {
    // Storage full or refused: the next visit opens on CIFAR-10, which is what it did before.
  }
}
