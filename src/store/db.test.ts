import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it, vi } from 'vitest';
import { DB_NAME, DB_VERSION, STORES, openDatabase, requestResult, type StartTimer } from './db';

/** A timer that runs only when the test moves its clock. `started` resolves when the first timer is set. */
function fakeTimer() {
  let now = 0;
  const pending = new Set<{ at: number; callback: () => void }>();
  let markStarted: () => void = () => {};
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  const startTimer: StartTimer = (callback, ms) => {
    const timer = { at: now + ms, callback };
    pending.add(timer);
    markStarted();
    return () => pending.delete(timer);
  };
  const advance = (ms: number) => {
    now += ms;
    for (const timer of [...pending].filter((t) => t.at <= now)) {
      pending.delete(timer);
      timer.callback();
    }
  };
  return { startTimer, started, advance, pending: () => pending.size };
}

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
    const timer = fakeTimer();
    const db = await openDatabase(new IDBFactory(), { startTimer: timer.startTimer });
    expect([...db.objectStoreNames].sort()).toEqual(Object.values(STORES).sort());
    expect(db.version).toBe(DB_VERSION);
    expect(timer.pending()).toBe(0);
    db.close();
  });

  it('gives up on an open blocked by an older tab after 5 s, and closes the connection that comes later', async () => {
    const factory = new IDBFactory();
    const open = vi.spyOn(factory, 'open');
    const older = await holdOpen(factory);
    const timer = fakeTimer();

    const opening = openDatabase(factory, { version: DB_VERSION + 1, startTimer: timer.startTimer });
    const request = open.mock.results.at(-1)?.value as IDBOpenDBRequest;
    await timer.started; // the request reported `blocked`
    timer.advance(4999);
    expect(await settled(opening)).toBe(false);
    timer.advance(1);
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
    const timer = fakeTimer();
    const opening = openDatabase(factory, { version: DB_VERSION + 1, startTimer: timer.startTimer });
    await timer.started;
    timer.advance(4000);
    older.close();
    const db = await opening;
    expect(db.version).toBe(DB_VERSION + 1);
    expect(timer.pending()).toBe(0);
    db.close();
  });

  it('does not give up on a slow open that nothing blocks', async () => {
    const timer = fakeTimer();
    const opening = openDatabase(new IDBFactory(), { startTimer: timer.startTimer });
    // Far past the blocked-open limit before the database has answered at all.
    timer.advance(60_000);
    const db = await opening;
    expect(db.objectStoreNames.contains(STORES.checkpoint)).toBe(true);
    expect(timer.pending()).toBe(0);
    db.close();
  });
});
