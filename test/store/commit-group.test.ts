// Group commit (store/commit-group.ts): the creates of one event-loop turn are one transaction, each
// a savepoint of it; each caller hears of its create only once it is committed, and one create that
// fails takes no other with it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { openStore, type Store } from '../../src/store';

let dir: string;
let file: string;
let store: Store;
let other: Database.Database;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'commit-group-'));
  file = path.join(dir, 'bridge.sqlite');
  store = openStore(file, { mode: 'profile-sync', sources: [{ id: 'okta', directories: [], contributes: [], seesAll: false }], busyTimeoutMs: 50 });
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

test('when the database cannot be written, every create of the group is refused and none is in', async () => {
  // Another writer holds the write lock past the store's busy timeout.
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

test('a group is bounded: past 64 writes the rest commit in the next turn', async () => {
  const seen: number[] = [];
  const writes = Array.from({ length: 70 }, (_, i) =>
    store.commits.run(() => {
      seen.push((committedUsers() as string[]).length);
      return create(`u${String(i).padStart(2, '0')}@example.com`)();
    }),
  );
  await Promise.all(writes);
  // The first 64 saw nothing committed; the last 6 saw the first group's 64.
  expect(seen).toEqual([...Array<number>(64).fill(0), ...Array<number>(6).fill(64)]);
  expect(committedUsers()).toHaveLength(70);
});
