import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it, vi } from 'vitest';
import { ManualClock, until } from '../clock';
import { DB_NAME, DB_VERSION, STORES, openDatabase, requestResult } from './db';

/** Whether a promise has settled, read after every queued reaction has run. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

/** Another tab of an older build: holds the database open and ignores requests to let go. */
async function holdOpen(factory: IDBFactory): Promise<IDBDatabase> {
  return requestResult(factory.open(DB_NAME, DB_VERSION));
}

describe('openDatabase', () => {
  it('opens a new database with every store', async () => {
    const clock = new ManualClock();
    const db = await openDatabase(new IDBFactory(), { clock });
    expect([...db.objectStoreNames].sort()).toEqual(Object.values(STORES).sort());
    expect(db.version).toBe(DB_VERSION);
    expect(clock.pending).toBe(0);
    db.close();
  });

  it('gives up on an open blocked by an older tab after 5 s, and closes the connection that comes later', async () => {
    const factory = new IDBFactory();
    const open = vi.spyOn(factory, 'open');
    const older = await holdOpen(factory);
    const clock = new ManualClock();

    const opening = openDatabase(factory, { version: DB_VERSION + 1, clock });
    const request = open.mock.results.at(-1)?.value as IDBOpenDBRequest;
    await until(() => clock.pending > 0); // the request reported `blocked`
    clock.advance(4999);
    expect(await settled(opening)).toBe(false);
    clock.advance(1);
    await expect(opening).rejects.toMatchObject({
      name: 'StorageError',
      code: 'storage-unavailable',
      message: 'The database is held by another tab of this app with an older version; close it and reload.',
    });

    // The older tab lets go at last: the upgrade goes through, and the connection nobody is waiting for is closed at once.
    const late = new Promise((resolve) => request.addEventListener('success', resolve));
    older.close();
    await late;
    expect(() => request.result.transaction(STORES.checkpoint)).toThrow(expect.objectContaining({ name: 'InvalidStateError' }));
  });

  it('waits for a blocked open that the older tab releases in time', async () => {
    const factory = new IDBFactory();
    const older = await holdOpen(factory);
    const clock = new ManualClock();
    const opening = openDatabase(factory, { version: DB_VERSION + 1, clock });
    await until(() => clock.pending > 0);
    clock.advance(4000);
    older.close();
    const db = await opening;
    expect(db.version).toBe(DB_VERSION + 1);
    expect(clock.pending).toBe(0);
    db.close();
  });

  it('does not give up on a slow open that nothing blocks', async () => {
    const clock = new ManualClock();
    const opening = openDatabase(new IDBFactory(), { clock });
    // Far past the blocked-open limit before the database has answered at all.
    clock.advance(60_000);
    const db = await opening;
    expect(db.objectStoreNames.contains(STORES.checkpoint)).toBe(true);
    expect(clock.pending).toBe(0);
    db.close();
  });
});
