// Group commit (store/commit-group.ts): the writes of one event-loop turn are one transaction, each
// a savepoint of it; each caller hears of its write only once it is committed, and one write that
// fails takes no other with it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { openStore, type OpenStoreOptions, type Store } from '../../src/store';
import { createCommitGroup } from '../../src/store/commit-group';

let dir: string;
let file: string;
let store: Store;
let other: Database.Database;

const open = (options: Partial<OpenStoreOptions> = {}) =>
  openStore(file, { mode: 'profile-sync', sources: [{ id: 'okta', directories: [], contributes: [], seesAll: false }], busyTimeoutMs: 50, ...options });

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'commit-group-'));
  file = path.join(dir, 'bridge.sqlite');
  store = open();
  // Another connection sees only what is committed.
  other = new Database(file);
});

afterEach(() => {
  other.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const committedUsers = () => other.prepare('SELECT user_name FROM users ORDER BY user_name').pluck().all();
const committedAudit = () => other.prepare(`SELECT action FROM audit WHERE action = 'user.create'`).pluck().all();
const user = (userName: string) => ({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName });
const create = (userName: string) => () =>
  store.users.create(user(userName), { sourceId: 'okta', attributes: ['userName'], sync: { dirSyncEnabled: false } }).id;

test('creates queued in one turn run in one transaction and resolve after its COMMIT', async () => {
  // A clock that stands still: the 10 ms bound (tested below) cannot split the group on a busy machine.
  store.close();
  store = open({ commitGroup: { now: () => 0 } });
  const seenDuring: unknown[][] = [];
  const during = (write: () => string) => () => {
    // What another connection sees while the group runs: nothing of it, not even the writes before this one.
    seenDuring.push(committedUsers());
    return write();
  };
  const seenAfter: unknown[][] = [];
  const writes = ['a@example.com', 'b@example.com', 'c@example.com'].map((name) =>
    store.commits.run(during(create(name))).then((id) => {
      seenAfter.push(committedUsers());
      return id;
    }),
  );
  // Nothing runs before the turn ends.
  expect(seenDuring).toEqual([]);
  const ids = await Promise.all(writes);
  expect(new Set(ids).size).toBe(3);
  expect(seenDuring).toEqual([[], [], []]);
  const all = ['a@example.com', 'b@example.com', 'c@example.com'];
  expect(seenAfter).toEqual([all, all, all]);
  expect(committedAudit()).toEqual(['user.create', 'user.create', 'user.create']);
});

test('a write of a group reads what the writes before it in the group left', async () => {
  const created = store.commits.run(() => store.users.create(user('a@example.com'), { sourceId: 'okta', id: 'u-1', attributes: ['userName'] }));
  const replaced = store.commits.run(
    () => store.users.replace('u-1', { ...user('a@example.com'), title: 'Pilot' }, { sourceId: 'okta', attributes: ['title'], expectedVersion: 1 }).version,
  );
  await created;
  expect(await replaced).toBe(2);
  expect(other.prepare(`SELECT version, json_extract(data, '$.title') FROM users WHERE id = 'u-1'`).raw().get()).toEqual([2, 'Pilot']);
});

test('a create that fails (a userName taken in the same group) is rolled back alone', async () => {
  const outcomes = await Promise.allSettled([
    store.commits.run(create('a@example.com')),
    store.commits.run(create('A@Example.com')),
    store.commits.run(create('b@example.com')),
  ]);
  expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  expect(((outcomes[1] as PromiseRejectedResult).reason as Error).message).toBe('userName "A@Example.com" is already taken');
  expect(committedUsers()).toEqual(['a@example.com', 'b@example.com']);
  // Neither its row nor its audit entry nor its dirty mark stayed.
  expect(committedAudit()).toEqual(['user.create', 'user.create']);
  expect(other.prepare(`SELECT count(*) FROM sync_state WHERE type = 'User'`).pluck().get()).toBe(2);
});

test('a write that throws after its store write leaves none of it: row, attribution, audit, dirty mark', async () => {
  const outcomes = await Promise.allSettled([
    store.commits.run(create('a@example.com')),
    store.commits.run(() => {
      create('b@example.com')();
      throw new Error('refused after the store write');
    }),
  ]);
  expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected']);
  expect(committedUsers()).toEqual(['a@example.com']);
  expect(committedAudit()).toEqual(['user.create']);
  expect(other.prepare(`SELECT count(*) FROM sync_state WHERE type = 'User'`).pluck().get()).toBe(1);
  expect(other.prepare(`SELECT count(*) FROM resource_attribution WHERE resource_type = 'User'`).pluck().get()).toBe(1);
});

test('a write alone that fails is refused and leaves nothing', async () => {
  await store.commits.run(create('a@example.com'));
  await expect(store.commits.run(create('A@Example.com'))).rejects.toThrow('userName "A@Example.com" is already taken');
  expect(committedUsers()).toEqual(['a@example.com']);
  expect(committedAudit()).toEqual(['user.create']);
});

test('when the database cannot be written, every create of the group is refused and none is in', async () => {
  // Another writer holds the write lock past the store's busy timeout (50 ms). The clock stands
  // still, so that wait does not close the group after its first write (the 10 ms bound).
  store.close();
  store = open({ commitGroup: { now: () => 0 } });
  other.exec('BEGIN IMMEDIATE');
  const outcomes = await Promise.allSettled([store.commits.run(create('a@example.com')), store.commits.run(create('b@example.com'))]);
  other.exec('ROLLBACK');
  expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
  expect(((outcomes[0] as PromiseRejectedResult).reason as Error).message).toMatch(/database is locked/);
  expect(committedUsers()).toEqual([]);
  // The store writes again once the lock is gone.
  await store.commits.run(create('c@example.com'));
  expect(committedUsers()).toEqual(['c@example.com']);
});

describe('bounds of one group', () => {
  // A database of its own: the group on one connection, what is committed read on another.
  let db: Database.Database;
  let reader: Database.Database;
  beforeEach(() => {
    db = new Database(path.join(dir, 'bounds.sqlite'));
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (x INTEGER)');
    reader = new Database(path.join(dir, 'bounds.sqlite'));
  });
  afterEach(() => {
    reader.close();
    db.close();
  });
  const committed = () => reader.prepare('SELECT count(*) FROM t').pluck().get() as number;

  test('a COMMIT that fails refuses every write of its group, and the next group commits', async () => {
    // A deferred foreign key is checked at COMMIT only: a write of the group that breaks it fails the COMMIT.
    db.pragma('foreign_keys = ON');
    db.exec('CREATE TABLE parent (id INTEGER PRIMARY KEY); CREATE TABLE child (pid INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)');
    const group = createCommitGroup(db, { now: () => 0 });
    const outcomes = await Promise.allSettled([
      group.run(() => db.prepare('INSERT INTO t (x) VALUES (1)').run()),
      group.run(() => db.prepare('INSERT INTO child (pid) VALUES (99)').run()),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    expect(((outcomes[0] as PromiseRejectedResult).reason as Error).message).toBe('FOREIGN KEY constraint failed');
    expect(committed()).toBe(0);
    expect(db.inTransaction).toBe(false);
    await group.run(() => db.prepare('INSERT INTO t (x) VALUES (1)').run());
    expect(committed()).toBe(1);
  });

  /** `count` writes queued in one turn: each notes how many rows were committed when it ran, inserts one, then runs `after`. */
  async function insertAll(group: ReturnType<typeof createCommitGroup>, count: number, after = () => {}): Promise<number[]> {
    const seen: number[] = [];
    await Promise.all(
      Array.from({ length: count }, () =>
        group.run(() => {
          seen.push(committed());
          db.prepare('INSERT INTO t (x) VALUES (1)').run();
          after();
        }),
      ),
    );
    return seen;
  }

  test('past 64 writes the rest commit in the next turn', async () => {
    const seen = await insertAll(createCommitGroup(db, { now: () => 0 }), 70);
    // The first 64 saw nothing committed; the last 6 saw the first group's 64.
    expect(seen).toEqual([...Array<number>(64).fill(0), ...Array<number>(6).fill(64)]);
    expect(committed()).toBe(70);
  });

  test('a group also ends once its writes have taken 10 ms: a long queue does not hold the event loop', async () => {
    let clock = 0;
    // Each write takes 4 ms of this clock: the group closes after the third (12 ms).
    const seen = await insertAll(createCommitGroup(db, { now: () => clock }), 5, () => (clock += 4));
    expect(seen).toEqual([0, 0, 0, 3, 3]);
    expect(committed()).toBe(5);
  });
});
