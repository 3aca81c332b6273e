import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openStore, type Store } from '../../src/store';
import { migrations } from '../../src/store/migrations';

const sources = [
  { id: 'okta', directories: [{ id: 'corp.example.com', type: 'ad' as const, jit: false }], contributes: [], seesAll: false },
  { id: 'entra', directories: [], contributes: ['title'], seesAll: false },
];

let dir: string;
let store: Store;
const file = () => join(dir, 'bridge.sqlite');

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'store-'));
  store = openStore(file(), { mode: 'profile-sync', sources });
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A database at `legacy.sqlite` with the migrations before `version` applied, as an older bridge left it (open, for the test to fill). */
function legacyBefore(version: number): { legacy: string; db: Database.Database } {
  const legacy = join(dir, 'legacy.sqlite');
  const db = new Database(legacy);
  db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
  for (const m of migrations.filter((m) => m.version < version)) {
    db.exec(m.sql);
    m.run?.(db);
    db.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(m.version, m.name, '2026-01-01T00:00:00.000Z');
  }
  return { legacy, db };
}

const alice = { userName: 'alice@example.com', displayName: 'Alice', emails: [{ value: 'alice@example.com', type: 'work', primary: true }] };

describe('openStore', () => {
  test('uses WAL, foreign keys and records each migration once', () => {
    store.close();
    store = openStore(file(), { mode: 'profile-sync', sources });
    const db = new Database(file(), { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.prepare('SELECT version, name FROM schema_migrations').all()).toEqual([
      { version: 1, name: 'initial' },
      { version: 2, name: 'membership display' },
      { version: 3, name: 'managed source tokens' },
      { version: 4, name: 'indexes for dirty order and owner-scoped pages' },
      { version: 5, name: 'sync engine state' },
      { version: 6, name: 'canonical identity keys' },
      { version: 7, name: 'attribution as one row per resource' },
      { version: 8, name: 'urgent changes' },
      { version: 9, name: 'engine create records' },
      { version: 10, name: 'source token grace period' },
      { version: 11, name: 'mode each resource was applied under' },
      { version: 12, name: 'inbound provisioning records' },
      { version: 13, name: 'indexes for the engine status' },
      { version: 14, name: 'attribution rows in write order' },
      { version: 15, name: 'indexes for rows and records that wait' },
      { version: 16, name: 'engine read-backs in a table' },
      { version: 17, name: 'audit without AUTOINCREMENT' },
    ]);
    db.close();
  });

  test('migration 17 keeps every audit row and its number; new rows follow the last, and the log stays append-only', () => {
    store.close();
    const { legacy, db } = legacyBefore(17);
    const entry = db.prepare('INSERT INTO audit (seq, at, source_id, action, resource_type, resource_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?)');
    entry.run(7, '2026-01-01T00:00:00.000Z', 'okta', 'user.create', 'User', 'u1', '{"attributes":["userName"]}');
    entry.run(9, '2026-01-02T00:00:00.000Z', null, 'source.add', null, 'okta', null);
    db.close();
    store = openStore(legacy, { mode: 'profile-sync', sources });
    store.audit.append({ sourceId: 'okta', action: 'user.update', resourceType: 'User', resourceId: 'u1', at: new Date('2026-01-03T00:00:00.000Z') });
    // Opening the store records the mode (seq 10): the new entry follows it.
    expect(store.audit.list({ afterSeq: 0, limit: 2 })).toEqual([
      {
        seq: 7,
        at: '2026-01-01T00:00:00.000Z',
        sourceId: 'okta',
        action: 'user.create',
        resourceType: 'User',
        resourceId: 'u1',
        detail: { attributes: ['userName'] },
      },
      { seq: 9, at: '2026-01-02T00:00:00.000Z', sourceId: null, action: 'source.add', resourceType: null, resourceId: 'okta', detail: null },
    ]);
    expect(store.audit.list({ afterSeq: 9 }).map((e) => [e.seq, e.action])).toEqual([
      [10, 'mode.change'],
      [11, 'user.update'],
    ]);
    store.close();
    const after = new Database(legacy);
    expect(after.prepare("SELECT sql FROM sqlite_schema WHERE name = 'audit'").pluck().get()).not.toMatch(/AUTOINCREMENT/);
    expect(after.prepare("SELECT count(*) FROM sqlite_sequence WHERE name = 'audit'").pluck().get()).toBe(0);
    expect(() => after.exec('DELETE FROM audit')).toThrow('audit is append-only');
    expect(() => after.exec("UPDATE audit SET action = 'x'")).toThrow('audit is append-only');
    after.close();
    store = openStore(legacy, { mode: 'profile-sync', sources });
  });

  test('close() returns once the checkpoint worker has let go of the file: nothing is left beside it to remove', () => {
    store.close();
    store = openStore(file(), { mode: 'profile-sync', sources, backgroundCheckpoints: true });
    store.users.create(alice, { sourceId: 'okta' });
    store.close();
    // The last connection closed checkpoints and removes the WAL and its index: the directory can go at once,
    // and no worker opens or closes the file after close() (a teardown's rmSync met ENOTEMPTY when one did).
    expect(readdirSync(dir).sort()).toEqual(['bridge.sqlite', 'secrets.key']);
    expect(existsSync(`${file()}-wal`)).toBe(false);
  });

  test('migration 16 moves the read-backs due in sync_engine_meta to their table', () => {
    store.close();
    const { legacy, db } = legacyBefore(16);
    const meta = db.prepare('INSERT INTO sync_engine_meta (key, value) VALUES (?, ?)');
    meta.run('tokens.readback', JSON.stringify({ u1: 1000, u2: 3000 }));
    meta.run('licenses.readback', JSON.stringify({ u3: 2000, u1: 500 }));
    meta.run('delta.users', '/users/delta?$deltatoken=abc');
    db.close();
    store = openStore(legacy, { mode: 'profile-sync', sources });
    expect(store.engine.takeDueReadbacks('tokens', 2000)).toBe(1);
    expect(store.engine.takenReadbacks('tokens', 10)).toEqual(['u1']);
    expect(store.engine.takeDueReadbacks('licences', 2000)).toBe(2);
    expect(store.engine.takenReadbacks('licences', 10)).toEqual(['u1', 'u3']);
    expect(store.engine.getMeta('tokens.readback')).toBeNull();
    expect(store.engine.getMeta('licenses.readback')).toBeNull();
    expect(store.engine.getMeta('delta.users')).toBe('/users/delta?$deltatoken=abc');
  });

  test('migration 7 keeps the attribution recorded one row per attribute', () => {
    store.close();
    const { legacy, db } = legacyBefore(7);
    const row = db.prepare('INSERT INTO attribution VALUES (?, ?, ?, ?, ?)');
    row.run('User', 'u1', 'userName', 'okta', '2026-01-01T00:00:00.000Z');
    row.run('User', 'u1', 'title', 'entra', '2026-01-02T00:00:00.000Z');
    row.run('Group', 'g1', 'displayName', 'okta', '2026-01-03T00:00:00.000Z');
    db.close();
    store = openStore(legacy, { mode: 'profile-sync', sources });
    expect(store.attribution.list('User', 'u1')).toEqual([
      { attribute: 'title', sourceId: 'entra', setAt: '2026-01-02T00:00:00.000Z' },
      { attribute: 'userName', sourceId: 'okta', setAt: '2026-01-01T00:00:00.000Z' },
    ]);
    expect(store.attribution.list('Group', 'g1')).toEqual([{ attribute: 'displayName', sourceId: 'okta', setAt: '2026-01-03T00:00:00.000Z' }]);
  });

  test('mirrors configured sources and keeps unconfigured ones marked', () => {
    store.close();
    store = openStore(file(), { mode: 'profile-sync', sources: [sources[1]] });
    expect(store.sources.list()).toEqual([
      { id: 'entra', directories: [], contributes: ['title'], seesAll: false, configured: true },
      { id: 'okta', directories: sources[0].directories, contributes: [], seesAll: false, configured: false },
    ]);
  });

  test('records a mode change in audit and re-records dirSyncEnabled', () => {
    const u = store.users.create(alice, { sourceId: 'okta', sync: { dirSyncEnabled: false } });
    store.close();
    store = openStore(file(), { mode: 'user-sync', sources });
    expect(store.previousMode).toBe('profile-sync');
    expect(store.sync.get('User', u.id)?.dirSyncEnabled).toBe(true);
    const modeChanges = store.audit.list().filter((a) => a.action === 'mode.change');
    expect(modeChanges.map((a) => a.detail)).toEqual([
      { from: null, to: 'profile-sync' },
      { from: 'profile-sync', to: 'user-sync' },
    ]);
  });
});

describe('users', () => {
  test('a later write replaces the attribution of the attributes it names and keeps the others', () => {
    const u = store.users.create(alice, { sourceId: 'okta', attributes: ['userName', 'displayName', 'emails'], at: new Date('2026-01-01T00:00:00Z') });
    store.users.replace(
      u.id,
      { ...alice, displayName: 'Alice B', title: 'CFO' },
      { sourceId: 'entra', attributes: ['displayName', 'title'], at: new Date('2026-01-02T00:00:00Z') },
    );
    expect(store.attribution.list('User', u.id)).toEqual([
      { attribute: 'displayName', sourceId: 'entra', setAt: '2026-01-02T00:00:00.000Z' },
      { attribute: 'emails', sourceId: 'okta', setAt: '2026-01-01T00:00:00.000Z' },
      { attribute: 'title', sourceId: 'entra', setAt: '2026-01-02T00:00:00.000Z' },
      { attribute: 'userName', sourceId: 'okta', setAt: '2026-01-01T00:00:00.000Z' },
    ]);
  });

  test('create writes the row, attribution, audit and dirty mark together', () => {
    const u = store.users.create(alice, { sourceId: 'okta', attributes: ['userName', 'displayName', 'emails'], sync: { dirSyncEnabled: false } });
    expect(store.users.get(u.id)).toEqual({ id: u.id, sourceId: 'okta', version: 1, created: u.created, lastModified: u.created, data: alice });
    expect(store.attribution.list('User', u.id).map((a) => [a.attribute, a.sourceId])).toEqual([
      ['displayName', 'okta'],
      ['emails', 'okta'],
      ['userName', 'okta'],
    ]);
    expect(store.audit.list({ resourceType: 'User', resourceId: u.id }).map((a) => a.action)).toEqual(['user.create']);
    expect(store.sync.get('User', u.id)).toMatchObject({ desiredVersion: 1, appliedVersion: 0, state: 'pending', dirSyncEnabled: false, deleted: false });
  });

  test('a userName taken case-insensitively is 409 uniqueness and writes nothing', () => {
    store.users.create(alice, { sourceId: 'okta' });
    const auditBefore = store.audit.list().length;
    expect(() => store.users.create({ userName: 'ALICE@example.com' }, { sourceId: 'entra' })).toThrow(
      expect.objectContaining({ status: 409, scimType: 'uniqueness' }),
    );
    expect(store.audit.list().length).toBe(auditBefore);
    expect(store.sync.listDue(Date.now(), 10)).toHaveLength(1);
  });

  test('replace with a stale expected version is 412 and changes nothing', () => {
    const u = store.users.create(alice, { sourceId: 'okta' });
    store.users.replace(u.id, { ...alice, displayName: 'A' }, { sourceId: 'okta', expectedVersion: 1 });
    expect(() => store.users.replace(u.id, { ...alice, displayName: 'B' }, { sourceId: 'okta', expectedVersion: 1 })).toThrow(
      expect.objectContaining({ status: 412 }),
    );
    expect(store.users.get(u.id)?.data.displayName).toBe('A');
    expect(store.users.get(u.id)?.version).toBe(2);
  });

  test('delete keeps the user for sync until deprovisioned and frees the userName', () => {
    const u = store.users.create(alice, { sourceId: 'okta' });
    store.users.remove(u.id, { sourceId: 'okta' });
    expect(store.users.get(u.id)).toBeNull();
    expect(store.users.getForSync(u.id)).toMatchObject({ id: u.id, sourceId: 'okta', deleted: true, resource: { userName: alice.userName } });
    expect(store.sync.get('User', u.id)).toMatchObject({ desiredVersion: 2, deleted: true, state: 'pending' });
    expect(() => store.users.create(alice, { sourceId: 'okta' })).not.toThrow();
  });

  test('audit is append-only', () => {
    store.users.create(alice, { sourceId: 'okta' });
    const db = new Database(file());
    expect(() => db.prepare('DELETE FROM audit').run()).toThrow(/append-only/);
    expect(() => db.prepare(`UPDATE audit SET action = 'x'`).run()).toThrow(/append-only/);
    db.close();
  });
});

describe('store.sync', () => {
  test('listDue returns behind rows oldest first, skipping rows not yet due', () => {
    const a = store.users.create(alice, { sourceId: 'okta' });
    const b = store.users.create({ userName: 'bob@example.com' }, { sourceId: 'okta' });
    expect(store.sync.listDue(Date.now(), 10).map((r) => r.id)).toEqual([a.id, b.id]);
    store.sync.markRetry('User', a.id, 'throttled', Date.now() + 60_000);
    expect(store.sync.listDue(Date.now(), 10).map((r) => r.id)).toEqual([b.id]);
    expect(store.sync.listDue(Date.now() + 61_000, 10).map((r) => r.id)).toEqual([a.id, b.id]);
  });

  describe('priority order', () => {
    /** Users already in Graph (created, synced), then `creations` new users queued after them. */
    function queue(inGraph: number, creations: number) {
      const synced = Array.from({ length: inGraph }, (_, i) => {
        const u = store.users.create({ userName: `old${i}@example.com`, active: true, entitlements: [{ value: 'E3' }] }, { sourceId: 'okta' });
        store.sync.markApplied('User', u.id, 1, { graphId: `g-${i}`, appliedSnapshot: {} });
        return u.id;
      });
      const created = Array.from({ length: creations }, (_, i) => store.users.create({ userName: `new${i}@example.com` }, { sourceId: 'okta' }).id);
      return { synced, created };
    }
    const ids = (rows: { id: string }[]) => rows.map((r) => r.id);

    test('a deactivation, a licence removal and a password change of users in Graph overtake queued creations', () => {
      const { synced, created } = queue(4, 3);
      store.users.replace(synced[0], { userName: 'old0@example.com', active: false, entitlements: [{ value: 'E3' }] }, { sourceId: 'okta' });
      store.users.replace(synced[1], { userName: 'old1@example.com', active: true, entitlements: [] }, { sourceId: 'okta' });
      store.users.replace(
        synced[2],
        { userName: 'old2@example.com', active: true, entitlements: [{ value: 'E3' }] },
        { sourceId: 'okta', sync: { pendingPassword: 'S3cret!pass' } },
      );
      // A profile change is not urgent: it keeps its place behind the creations queued before it.
      store.users.replace(synced[3], { userName: 'old3@example.com', title: 'CEO', active: true, entitlements: [{ value: 'E3' }] }, { sourceId: 'okta' });
      expect(ids(store.sync.listDue(Date.now(), 10))).toEqual([synced[0], synced[1], synced[2], ...created, synced[3]]);
      expect(ids(store.sync.listDue(Date.now(), 10, { order: 'fifo' }))).toEqual([...created, synced[0], synced[1], synced[2], synced[3]]);
      // Applied, the row is no longer urgent: its next profile change queues normally.
      store.sync.markApplied('User', synced[0], 2, { appliedSnapshot: {} });
      expect(store.sync.get('User', synced[0])?.urgent).toBe(false);
    });

    test('creations keep a slot in every creationEvery + 1 rows under a stream of urgent changes, in arrival order', () => {
      const { synced, created } = queue(12, 4);
      for (const [i, id] of synced.entries())
        store.users.replace(id, { userName: `old${i}@example.com`, active: false, entitlements: [{ value: 'E3' }] }, { sourceId: 'okta' });
      const page = ids(store.sync.listDue(Date.now(), 6, { creationEvery: 2 }));
      expect(page).toEqual([synced[0], synced[1], synced[2], synced[3], created[0], created[1]]);
      // With nothing else waiting, urgent rows take every slot.
      expect(ids(store.sync.listDue(Date.now(), 3, { creationEvery: 2 })).length).toBe(3);
    });

    test('dirty listeners hear of urgent work only for resources already in Graph', () => {
      const heard: [boolean, string][] = [];
      const off = store.sync.onDirty((urgent, type) => heard.push([urgent, type]));
      const { synced } = queue(1, 0);
      heard.length = 0;
      // A new user with a password is urgent in the store, but nothing in Graph can go at once.
      store.users.create({ userName: 'pw@example.com' }, { sourceId: 'okta', sync: { pendingPassword: 'S3cret!pass' } });
      store.users.replace(synced[0], { userName: 'old0@example.com', active: false, entitlements: [{ value: 'E3' }] }, { sourceId: 'okta' });
      off();
      expect(heard).toEqual([
        [false, 'User'],
        [true, 'User'],
      ]);
    });

    test('an operator retry and a deleted user are urgent; a user not yet in Graph is a creation whatever changed', () => {
      const { synced, created } = queue(2, 2);
      store.sync.markFailed('User', synced[0], 1, 'Graph said no');
      store.users.replace(synced[0], { userName: 'old0@example.com', title: 'x', active: true, entitlements: [{ value: 'E3' }] }, { sourceId: 'okta' });
      store.sync.markApplied('User', synced[0], 1, { appliedSnapshot: {} });
      store.sync.retry('User', synced[0]);
      store.users.remove(synced[1], { sourceId: 'okta' });
      store.users.replace(created[1], { userName: 'new1@example.com', active: false }, { sourceId: 'okta' });
      expect(ids(store.sync.listDue(Date.now(), 10))).toEqual([synced[0], synced[1], created[0], created[1]]);
    });
  });

  test('markApplied syncs only when the applied version is the desired one', () => {
    const a = store.users.create(alice, { sourceId: 'okta' });
    store.sync.setGraphId('User', a.id, 'g-1');
    store.users.replace(a.id, { ...alice, title: 'CEO' }, { sourceId: 'okta' });
    store.sync.markApplied('User', a.id, 1, { appliedSnapshot: { displayName: 'Alice' } });
    expect(store.sync.get('User', a.id)).toMatchObject({ appliedVersion: 1, desiredVersion: 2, state: 'pending', graphId: 'g-1' });
    store.sync.markApplied('User', a.id, 2, { appliedSnapshot: { displayName: 'Alice', jobTitle: 'CEO' } });
    expect(store.sync.get('User', a.id)).toMatchObject({ appliedVersion: 2, state: 'synced', appliedSnapshot: { displayName: 'Alice', jobTitle: 'CEO' } });
    expect(store.sync.listDue(Date.now(), 10)).toEqual([]);
  });

  test('pendingPassword is cleared once the version that carried it is applied', () => {
    const a = store.users.create(alice, { sourceId: 'okta' });
    store.users.replace(a.id, alice, { sourceId: 'okta', sync: { pendingPassword: 'S3cret!pw', tokensValidFrom: '2024-01-01T00:00:00.000Z' } });
    store.users.replace(a.id, { ...alice, title: 'x' }, { sourceId: 'okta' });
    expect(store.sync.get('User', a.id)).toMatchObject({ hasPendingPassword: true, tokensValidFrom: '2024-01-01T00:00:00.000Z' });
    expect(store.sync.revealPendingPassword('User', a.id)).toBe('S3cret!pw');
    store.sync.markApplied('User', a.id, 1);
    expect(store.sync.revealPendingPassword('User', a.id)).toBe('S3cret!pw');
    store.sync.markApplied('User', a.id, 2, { appliedTokensValidFrom: '2024-01-01T00:00:00.000Z', graphTokensValidFrom: '2024-01-01T00:00:05Z' });
    expect(store.sync.get('User', a.id)).toMatchObject({
      hasPendingPassword: false,
      state: 'pending',
      appliedTokensValidFrom: '2024-01-01T00:00:00.000Z',
      graphTokensValidFrom: '2024-01-01T00:00:05Z',
    });
    expect(store.sync.revealPendingPassword('User', a.id)).toBeNull();
  });

  test('a permanent error waits for the next change or retry', () => {
    const a = store.users.create(alice, { sourceId: 'okta' });
    store.sync.markFailed('User', a.id, 1, 'Property netId is invalid');
    expect(store.sync.get('User', a.id)).toMatchObject({ state: 'error', lastError: 'Property netId is invalid', attempts: 1 });
    expect(store.sync.listDue(Date.now(), 10)).toEqual([]);
    expect(store.sync.retry('User')).toBe(1);
    expect(store.sync.listDue(Date.now(), 10).map((r) => r.id)).toEqual([a.id]);
    store.sync.markFailed('User', a.id, 1, 'again');
    store.users.replace(a.id, { ...alice, title: 'x' }, { sourceId: 'okta' });
    expect(store.sync.get('User', a.id)).toMatchObject({ state: 'pending', lastError: null, attempts: 0 });
  });

  test('an error for an older version leaves a newer change due', () => {
    const a = store.users.create(alice, { sourceId: 'okta' });
    store.users.replace(a.id, { ...alice, title: 'x' }, { sourceId: 'okta' });
    store.sync.markFailed('User', a.id, 1, 'boom');
    expect(store.sync.get('User', a.id)).toMatchObject({ state: 'pending', lastError: 'boom' });
    expect(store.sync.listDue(Date.now(), 10)).toHaveLength(1);
  });

  test('markRetry keeps the row pending with the message, due at the given time', () => {
    const a = store.users.create(alice, { sourceId: 'okta' });
    store.sync.markRetry('User', a.id, 'TooManyRequests: slow down', 5_000);
    expect(store.sync.get('User', a.id)).toMatchObject({
      state: 'pending',
      lastError: 'TooManyRequests: slow down',
      attempts: 1,
      nextAttemptAt: 5_000,
      appliedVersion: 0,
    });
    expect(store.sync.listDue(4_999, 10)).toEqual([]);
    expect(store.sync.listDue(5_000, 10).map((r) => r.id)).toEqual([a.id]);
  });

  test('recordProgress keeps what Graph holds and the row behind, due, with its password still pending', () => {
    const a = store.users.create(alice, { sourceId: 'okta', sync: { pendingPassword: 'S3cret!pw' } });
    store.sync.recordProgress('User', a.id, { appliedSnapshot: { displayName: 'Alice' }, graphId: 'g-1' });
    expect(store.sync.get('User', a.id)).toMatchObject({
      appliedVersion: 0,
      desiredVersion: 1,
      state: 'pending',
      graphId: 'g-1',
      appliedSnapshot: { displayName: 'Alice' },
      hasPendingPassword: true,
    });
    expect(store.sync.revealPendingPassword('User', a.id)).toBe('S3cret!pw');
    expect(store.sync.listDue(Date.now(), 10).map((r) => r.id)).toEqual([a.id]);
    // A row made due without a new version (drift) is still behind after progress, so the rest is sent.
    store.sync.markApplied('User', a.id, 1, { appliedSnapshot: { displayName: 'Alice' } });
    store.engine.touch('User', a.id);
    store.sync.recordProgress('User', a.id, { appliedSnapshot: { displayName: 'Alice', jobTitle: 'x' } });
    expect(store.sync.get('User', a.id)).toMatchObject({ appliedVersion: 0, desiredVersion: 1, state: 'pending' });
  });

  test('markBlocked blocks every row and writes made while blocked; unblockAll releases them', () => {
    const a = store.users.create(alice, { sourceId: 'okta' });
    store.sync.markBlocked('Entra Connect owns the tenant');
    const b = store.users.create({ userName: 'bob@example.com' }, { sourceId: 'okta' });
    for (const id of [a.id, b.id]) expect(store.sync.get('User', id)).toMatchObject({ state: 'blocked', lastError: 'Entra Connect owns the tenant' });
    expect(store.sync.listDue(Date.now(), 10)).toEqual([]);
    store.sync.unblockAll();
    expect(store.sync.listDue(Date.now(), 10).map((r) => [r.id, r.state])).toEqual([
      [a.id, 'pending'],
      [b.id, 'pending'],
    ]);
  });
});

describe('store.engine read-backs', () => {
  test('a read-back takes what is due, earliest first, a page at a time; done and released rows leave it', () => {
    const q = store.engine;
    q.scheduleReadback('licences', ['c', 'a'], 2000);
    q.scheduleReadback('licences', ['b'], 1000);
    q.scheduleReadback('licences', ['late'], 9000);
    q.scheduleReadback('tokens', ['a'], 1000);
    expect(q.takeDueReadbacks('licences', 5000)).toBe(3);
    expect(q.takenReadbacks('licences', 2)).toEqual(['b', 'a']);
    q.readbacksDone('licences', ['b']);
    q.releaseReadbacks('licences', ['a']);
    expect(q.takenReadbacks('licences', 2)).toEqual(['c']);
    q.readbacksDone('licences', ['c']);
    expect(q.takenReadbacks('licences', 2)).toEqual([]);
    // Released: due again on the next read-back, at its time; the one not due yet, and the other kind, untouched.
    expect(q.takeDueReadbacks('licences', 5000)).toBe(1);
    expect(q.takenReadbacks('licences', 10)).toEqual(['a']);
    expect(q.takeDueReadbacks('licences', 9000)).toBe(2);
    expect(q.takenReadbacks('licences', 10)).toEqual(['a', 'late']);
    expect(q.takeDueReadbacks('tokens', 1000)).toBe(1);
  });

  test('a row scheduled again while its read-back is under way keeps its new time', () => {
    const q = store.engine;
    q.scheduleReadback('tokens', ['a', 'b'], 1000);
    expect(q.takeDueReadbacks('tokens', 1000)).toBe(2);
    q.scheduleReadback('tokens', ['a'], 7000);
    expect(q.takenReadbacks('tokens', 10)).toEqual(['b']);
    q.readbacksDone('tokens', ['a', 'b']);
    expect(q.takeDueReadbacks('tokens', 6999)).toBe(0);
    expect(q.takeDueReadbacks('tokens', 7000)).toBe(1);
    expect(q.takenReadbacks('tokens', 10)).toEqual(['a']);
  });
});

describe('groups and memberships', () => {
  const users = (n: number) =>
    Array.from({ length: n }, (_, i) => store.users.create({ userName: `u${i}@example.com`, displayName: `U${i}` }, { sourceId: 'okta' }).id);

  test('pending member changes come from SQL and follow what sync/ applied', () => {
    const [u1, u2, u3] = users(3);
    const g = store.groups.create(
      { displayName: 'Sales' },
      {
        sourceId: 'okta',
        members: [
          { value: u1, type: 'User' },
          { value: u2, type: 'User' },
        ],
      },
    );
    expect(store.groups.pendingMemberChanges(g.id, 10)).toEqual({ adds: [u1, u2].sort(), removes: [] });
    store.groups.markMembersApplied(g.id, [u1, u2], []);
    expect(store.groups.pendingMemberChanges(g.id, 10)).toEqual({ adds: [], removes: [] });
    store.groups.update(g.id, null, { sourceId: 'okta', members: { add: [{ value: u3, type: 'User' }], remove: [u1] } });
    expect(store.groups.pendingMemberChanges(g.id, 10)).toEqual({ adds: [u3], removes: [u1] });
    expect(
      store.groups
        .members(g.id)
        .map((m) => m.value)
        .sort(),
    ).toEqual([u2, u3].sort());
    store.groups.markMembersApplied(g.id, [u3], [u1]);
    expect(store.groups.pendingMemberChanges(g.id, 10)).toEqual({ adds: [], removes: [] });
  });

  test('a member removed while its add was in flight becomes a pending remove', () => {
    const [u1] = users(1);
    const g = store.groups.create({ displayName: 'Ops' }, { sourceId: 'okta', members: [{ value: u1, type: 'User' }] });
    const inFlight = store.groups.pendingMemberChanges(g.id, 10);
    store.groups.update(g.id, null, { sourceId: 'okta', members: { remove: [u1] } });
    expect(store.groups.pendingMemberChanges(g.id, 10)).toEqual({ adds: [], removes: [] });
    store.groups.markMembersApplied(g.id, inFlight.adds, []);
    expect(store.groups.pendingMemberChanges(g.id, 10)).toEqual({ adds: [], removes: [u1] });
  });

  test('deleting a user removes it from its groups and marks them dirty', () => {
    const [u1, u2] = users(2);
    const g = store.groups.create(
      { displayName: 'Ops' },
      {
        sourceId: 'okta',
        members: [
          { value: u1, type: 'User' },
          { value: u2, type: 'User' },
        ],
      },
    );
    store.groups.markMembersApplied(g.id, [u1], []);
    store.users.remove(u1, { sourceId: 'okta' });
    store.users.remove(u2, { sourceId: 'okta' });
    expect(store.groups.members(g.id)).toEqual([]);
    expect(store.groups.pendingMemberChanges(g.id, 10)).toEqual({ adds: [], removes: [u1] });
    expect(store.sync.get('Group', g.id)?.desiredVersion).toBe(3);
  });

  test('adding and removing one member writes as many rows in a 20,000-member group as in a 10-member group', () => {
    // Counts the rows every statement changes (better-sqlite3's run() result) instead of timing the call.
    const statementPrototype = Object.getPrototypeOf(new Database(':memory:').prepare('SELECT 1')) as { run: (...args: unknown[]) => { changes: number } };
    const run = statementPrototype.run;
    let changed = 0;
    statementPrototype.run = function (this: unknown, ...args: unknown[]) {
      const result = run.apply(this, args);
      changed += result.changes;
      return result;
    };
    const rowsWritten = (name: string, size: number): number => {
      const ids = Array.from({ length: size }, (_, i) => `${name}-${i}`);
      const g = store.groups.create({ displayName: name }, { sourceId: 'okta', members: ids.map((value) => ({ value, type: 'User' as const })) });
      store.groups.markMembersApplied(g.id, ids, []);
      changed = 0;
      store.groups.update(g.id, null, { sourceId: 'okta', members: { add: [{ value: `${name}-new`, type: 'User' }] } });
      store.groups.update(g.id, null, { sourceId: 'okta', members: { remove: [`${name}-5`] } });
      expect(store.groups.pendingMemberChanges(g.id, 10)).toEqual({ adds: [`${name}-new`], removes: [`${name}-5`] });
      return changed;
    };
    try {
      const small = rowsWritten('small', 10);
      expect(small).toBeGreaterThan(0);
      expect(rowsWritten('large', 20_000)).toBe(small);
    } finally {
      statementPrototype.run = run;
    }
  });

  test('getForSync returns the group without members, deleted ones included', () => {
    const g = store.groups.create({ displayName: 'Ops', externalId: 'x1' }, { sourceId: 'entra' });
    store.groups.remove(g.id, { sourceId: 'entra' });
    expect(store.groups.getForSync(g.id)).toEqual({
      id: g.id,
      sourceId: 'entra',
      deleted: true,
      resource: { displayName: 'Ops', externalId: 'x1', id: g.id, meta: expect.objectContaining({ resourceType: 'Group' }) },
    });
  });
});

test('a database from before migration 5, whose engine tables were made outside the migrations, keeps their rows', () => {
  const dir = mkdtempSync(join(tmpdir(), 'store-m5-'));
  const path = join(dir, 'bridge.sqlite');
  try {
    const old = new Database(path);
    // The schema as the previous release left it: migrations 1-4 recorded.
    old.exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
    for (const m of migrations.filter((x) => x.version <= 4)) {
      old.exec(m.sql);
      old.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(m.version, m.name, '2026-01-01T00:00:00Z');
    }
    old.exec(`CREATE TABLE sync_engine_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
      INSERT INTO sync_engine_meta VALUES ('delta.users', '/users/delta?$deltatoken=abc')`);
    old.close();
    const store = openStore(path, { mode: 'profile-sync', sources: [] });
    expect(store.engine.getMeta('delta.users')).toBe('/users/delta?$deltatoken=abc');
    store.engine.recordLinked('ABC', 5, 0);
    expect(store.engine.linkedAt('abc')).toBe(5);
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('identity keys (migration 6)', () => {
  test('an existing database gains keys; names that now collide both keep working; new writes are checked on the key', () => {
    store.close();
    const legacy = join(dir, 'legacy.sqlite');
    const db = new Database(legacy);
    db.exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
    for (const m of migrations.filter((x) => x.version < 6)) {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(m.version, m.name, 'then');
    }
    db.prepare(`INSERT INTO sources (id, created_at, updated_at) VALUES ('okta', 'then', 'then')`).run();
    const insert = db.prepare(`INSERT INTO users (id, source_id, user_name, data, created, last_modified) VALUES (?, 'okta', ?, ?, 'then', 'then')`);
    // SQLite's NOCASE folds ASCII only: before keys these two could both be stored.
    insert.run('u1', '\u00c9lise@example.com', JSON.stringify({ userName: '\u00c9lise@example.com' }));
    insert.run('u2', '\u00e9lise@example.com', JSON.stringify({ userName: '\u00e9lise@example.com' }));
    db.close();
    store = openStore(legacy, { mode: 'profile-sync', sources });
    const keys = new Database(legacy, { readonly: true }).prepare('SELECT id, user_name_key FROM users ORDER BY id').all();
    expect(keys).toEqual([
      { id: 'u1', user_name_key: '\u00e9lise@example.com' },
      { id: 'u2', user_name_key: '\u00e9lise@example.com\u0000u2' },
    ]);
    expect(store.users.replace('u2', { userName: '\u00e9lise@example.com', title: 'kept' }, { sourceId: 'okta' }).changed).toBe(true);
    expect(() => store.users.create({ userName: 'E\u0301LISE@example.com' }, { sourceId: 'okta' })).toThrow(
      expect.objectContaining({ status: 409, scimType: 'uniqueness' }),
    );
  });
});

describe('sourceTokens.acceptedHashes', () => {
  test('is kept between requests and read again when this or another connection adds or rotates a source', () => {
    expect(store.sourceTokens.add('onelogin', 'a'.repeat(64), [])).toBe(true);
    const first = store.sourceTokens.acceptedHashes();
    expect(first).toEqual([{ id: 'onelogin', sha256: 'a'.repeat(64), until: null }]);
    // Nothing changed: the same list, without reading the table again.
    expect(store.sourceTokens.acceptedHashes()).toBe(first);

    // Another process (the CLI's `sources add`, `sources rotate`) on the same file.
    const cli = openStore(file(), { mode: 'profile-sync', sources, recordMode: false });
    try {
      expect(cli.sourceTokens.add('ping', 'b'.repeat(64), [])).toBe(true);
      expect(store.sourceTokens.acceptedHashes()).toEqual([
        { id: 'onelogin', sha256: 'a'.repeat(64), until: null },
        { id: 'ping', sha256: 'b'.repeat(64), until: null },
      ]);
      expect(cli.sourceTokens.rotate('ping', 'c'.repeat(64), { graceMs: 60_000, nowMs: 1_000 })).toBe(true);
      expect(store.sourceTokens.acceptedHashes()).toEqual([
        { id: 'onelogin', sha256: 'a'.repeat(64), until: null },
        { id: 'ping', sha256: 'c'.repeat(64), until: null },
        { id: 'ping', sha256: 'b'.repeat(64), until: 61_000 },
      ]);
    } finally {
      cli.close();
    }
    // This connection's own write.
    expect(store.sourceTokens.revokeOld('ping')).toBe(true);
    expect(store.sourceTokens.acceptedHashes()).toEqual([
      { id: 'onelogin', sha256: 'a'.repeat(64), until: null },
      { id: 'ping', sha256: 'c'.repeat(64), until: null },
    ]);
  });
});

describe('list totals', () => {
  const total = (s: Store, ownerId: string | null) => s.queries.list('User', { startIndex: 1, count: 0, ownerId }).total;
  const user = (n: number) => ({ userName: `user${n}@example.com` });

  test('an unfiltered total follows creates, deletes, owner moves and writes by another connection', () => {
    const a = store.users.create(user(1), { sourceId: 'okta' });
    expect([total(store, 'okta'), total(store, null)]).toEqual([1, 1]);
    store.users.create(user(2), { sourceId: 'okta' });
    expect([total(store, 'okta'), total(store, 'entra'), total(store, null)]).toEqual([2, 0, 2]);
    store.users.remove(a.id, { sourceId: 'okta' });
    expect([total(store, 'okta'), total(store, null)]).toEqual([1, 1]);

    const other = openStore(file(), { mode: 'profile-sync', sources, recordMode: false });
    try {
      const b = other.users.create(user(3), { sourceId: 'entra' });
      expect([total(store, 'okta'), total(store, 'entra'), total(store, null)]).toEqual([1, 1, 2]);
      other.ownership.transferUser(b.id, 'okta');
      expect([total(store, 'okta'), total(store, 'entra')]).toEqual([2, 0]);
    } finally {
      other.close();
    }
    const c = store.users.create(user(4), { sourceId: 'entra' });
    expect(total(store, 'entra')).toBe(1);
    store.ownership.transferUser(c.id, 'okta');
    expect([total(store, 'okta'), total(store, 'entra')]).toEqual([3, 0]);

    // A write rolled back leaves the total as it was, and a total read inside the transaction sees the write.
    expect(() =>
      store.transaction(() => {
        store.users.create(user(5), { sourceId: 'okta' });
        expect(total(store, 'okta')).toBe(4);
        throw new Error('rolled back');
      }),
    ).toThrow('rolled back');
    expect(total(store, 'okta')).toBe(3);
  });
});
