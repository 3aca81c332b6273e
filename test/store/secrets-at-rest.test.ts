// Pending passwords at rest: sealed with AES-256-GCM in sync_state, never returned by a row read,
// wiped once applied or superseded (secure_delete), and absent from the database files' bytes.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openStore, type Store } from '../../src/store';

const sources = [{ id: 'okta', directories: [], contributes: [], seesAll: false }];
const KEY = Buffer.alloc(32, 7).toString('base64');
const FIRST = 'First-Passw0rd-qx81';
const SECOND = 'Second-Passw0rd-zv27';
const STUCK = 'Stuck-Passw0rd-mk55';

let dir: string;
let store: Store | undefined;
const file = () => join(dir, 'bridge.sqlite');
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'secrets-'))));
afterEach(() => {
  store?.close();
  store = undefined;
  rmSync(dir, { recursive: true, force: true });
});

/** Every byte SQLite keeps for this database: the file, its WAL and shared memory. */
function databaseBytes(): string {
  return ['', '-wal', '-shm']
    .map((s) => file() + s)
    .filter(existsSync)
    .map((f) => readFileSync(f).toString('latin1'))
    .join('');
}

it('the database files hold no password: pending ones sealed, applied and superseded ones wiped', () => {
  store = openStore(file(), { mode: 'profile-sync', sources });
  const a = store.users.create({ userName: 'a@example.com' }, { sourceId: 'okta', sync: { pendingPassword: FIRST } });
  store.users.replace(a.id, { userName: 'a@example.com' }, { sourceId: 'okta', sync: { pendingPassword: SECOND } });
  const b = store.users.create({ userName: 'b@example.com' }, { sourceId: 'okta', sync: { pendingPassword: STUCK } });
  expect(store.sync.revealPendingPassword('User', a.id)).toBe(SECOND);
  store.sync.markApplied('User', a.id, 2, { graphId: 'g-a' });
  store.sync.markFailed('User', b.id, 1, 'Graph said no');
  // Nothing a read returns carries the password; the engine alone opens it.
  expect(store.sync.get('User', b.id)).toMatchObject({ hasPendingPassword: true, state: 'error' });
  expect(JSON.stringify([store.sync.get('User', b.id), store.users.getForSync(b.id), store.sync.listDue(Date.now(), 10)])).not.toContain(STUCK);
  expect(store.sync.revealPendingPassword('User', a.id)).toBeNull();
  expect(store.sync.revealPendingPassword('User', b.id)).toBe(STUCK);
  store.close();
  store = undefined;
  const bytes = databaseBytes();
  expect(bytes).toContain('b@example.com');
  for (const secret of [FIRST, SECOND, STUCK]) {
    expect(bytes).not.toContain(secret);
    expect(bytes).not.toContain(Buffer.from(secret, 'utf16le').toString('latin1'));
  }
  // The key was generated once next to the database, readable by its owner only, and opens it again.
  const keyFile = join(dir, 'secrets.key');
  expect(statSync(keyFile).mode & 0o777).toBe(0o600);
  const key = readFileSync(keyFile, 'utf8');
  store = openStore(file(), { mode: 'profile-sync', sources });
  expect(store.sync.revealPendingPassword('User', b.id)).toBe(STUCK);
  expect(readFileSync(keyFile, 'utf8')).toBe(key);
});

it('a deleted user loses its pending password', () => {
  store = openStore(file(), { mode: 'profile-sync', sources, secretsKey: KEY });
  const a = store.users.create({ userName: 'a@example.com' }, { sourceId: 'okta', sync: { pendingPassword: FIRST } });
  store.users.remove(a.id, { sourceId: 'okta' });
  expect(store.sync.get('User', a.id)).toMatchObject({ hasPendingPassword: false, deleted: true });
  expect(store.sync.revealPendingPassword('User', a.id)).toBeNull();
});

it('a configured key is used instead of a key file; another key cannot open the passwords and says so', () => {
  store = openStore(file(), { mode: 'profile-sync', sources, secretsKey: KEY });
  const a = store.users.create({ userName: 'a@example.com' }, { sourceId: 'okta', sync: { pendingPassword: FIRST } });
  store.close();
  expect(existsSync(join(dir, 'secrets.key'))).toBe(false);
  store = openStore(file(), { mode: 'profile-sync', sources, secretsKey: Buffer.alloc(32, 9).toString('hex') });
  expect(() => store!.sync.revealPendingPassword('User', a.id)).toThrow(
    'the pending password cannot be decrypted with the configured secrets key (secretsKey or secrets.key changed?)',
  );
  store.close();
  expect(() => openStore(file(), { mode: 'profile-sync', sources, secretsKey: 'too-short' })).toThrow(/secretsKey: expected 32 bytes/);
  store = openStore(file(), { mode: 'profile-sync', sources, secretsKey: KEY });
  expect(store.sync.revealPendingPassword('User', a.id)).toBe(FIRST);
});

it('passwords an earlier version stored in clear are sealed when the store opens', () => {
  store = openStore(file(), { mode: 'profile-sync', sources, secretsKey: KEY });
  const a = store.users.create({ userName: 'a@example.com' }, { sourceId: 'okta' });
  store.close();
  const db = new Database(file());
  db.prepare(`UPDATE sync_state SET pending_password = ?, password_version = 1 WHERE id = ?`).run(FIRST, a.id);
  db.close();
  store = openStore(file(), { mode: 'profile-sync', sources, secretsKey: KEY });
  expect(store.sync.revealPendingPassword('User', a.id)).toBe(FIRST);
  store.close();
  store = undefined;
  expect(databaseBytes()).not.toContain(FIRST);
});

it('an in-memory store works with a key of its own', () => {
  store = openStore(':memory:', { mode: 'profile-sync', sources });
  const a = store.users.create({ userName: 'a@example.com' }, { sourceId: 'okta', sync: { pendingPassword: FIRST } });
  expect(store.sync.revealPendingPassword('User', a.id)).toBe(FIRST);
});
