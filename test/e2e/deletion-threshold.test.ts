// The deletion threshold counts every deprovision a source causes: SCIM deletes and deactivations
// (active=false, Okta's way to deprovision) alike, per source and hour, across a restart; and
// approve-deletions lists whom it releases (userName and source) before it does.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as commands from '../../src/cli/engine-commands';
import { captureIo } from './cli-in-process';
import { boss } from './fixtures';
import { named, startHarness, type Harness } from './harness';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const person = (n: number) => ({ ...boss, userName: `p${n}@example.com`, displayName: `Person ${n}`, password: undefined });
const deactivate = (name: string) => h.scim.patchUser(name, [{ op: 'replace', path: 'active', value: false }]);
const REASON = (n: number) =>
  `deprovisioning paused: ${n} deletions from source okta within an hour exceed deletionThreshold 2; an operator approves with approve-deletions`;

async function fourUsers(overrides: Record<string, unknown> = {}) {
  h = await startHarness({ mode: 'profile-sync', overrides: { deletionThreshold: 2, ...overrides } });
  for (let n = 1; n <= 4; n++) await h.scim.createUser(`u-${n}`, person(n));
  await h.engine.runOnce();
  h.clearLog();
}

test('deactivations past the threshold are held like deletes, and go ahead once approved', async () => {
  await fourUsers();
  for (let n = 1; n <= 3; n++) await deactivate(`u-${n}`);
  await h.engine.runOnce();
  expect(named(h)).toEqual([]);
  const status = h.engine.status();
  expect([status.state, status.pendingDeletions]).toEqual(['paused', [{ sourceId: 'okta', pending: 3, recent: 0 }]]);
  expect(await h.scim.bridge('u-1')).toMatchObject({ syncState: 'pending', lastSyncError: REASON(3) });
  expect(h.engine.heldDeletions()).toEqual(
    // In the engine's order for siblings (their resource ids).
    h.scim
      .inIdOrder(['u-1', 'u-2', 'u-3'])
      .map((name) => ({ id: h.scim.id(name), sourceId: 'okta', userName: `p${name.slice(2)}@example.com`, kind: 'deactivate' })),
  );
  expect(h.engine.approveDeletions()).toMatchObject({ approved: 3 });
  await h.engine.runOnce();
  const writes = named(h)
    .map((w) => `${w.method} ${w.url} ${JSON.stringify(w.body ?? null)}`)
    .sort();
  expect(writes).toEqual(
    [1, 2, 3].flatMap((n) => [`PATCH /users/{p${n}@example.com} {"accountEnabled":false}`, `POST /users/{p${n}@example.com}/revokeSignInSessions null`]).sort(),
  );
  expect(h.engine.status().pendingDeletions).toEqual([]);
});

test('deactivations and deletes of one source add up within the hour, also across a restart', async () => {
  await fourUsers({ deprovision: 'delete' });
  await deactivate('u-1');
  await deactivate('u-2');
  await h.engine.runOnce();
  // Two deactivations: within the threshold of 2, applied.
  expect(
    named(h)
      .filter((w) => w.method === 'PATCH')
      .map((w) => w.url),
  ).toEqual(expect.arrayContaining(['/users/{p1@example.com}', '/users/{p2@example.com}']));
  h.clearLog();
  // A new engine on the same database, as after a restart: the hour's two deactivations still count.
  const restarted = h.newEngine();
  try {
    await h.scim.deleteUser('u-3');
    await restarted.runOnce();
    expect(named(h)).toEqual([]);
    expect(restarted.status().pendingDeletions).toEqual([{ sourceId: 'okta', pending: 1, recent: 2 }]);
    expect(h.store.sync.get('User', h.scim.id('u-3'))).toMatchObject({ state: 'pending', lastError: REASON(1) });
  } finally {
    await restarted.stop();
  }
});

test('approve-deletions --dry-run lists who it would release and changes nothing; without it, lists and releases', async () => {
  await fourUsers();
  await h.scim.deleteUser('u-1');
  await deactivate('u-2');
  await deactivate('u-3');
  await h.engine.runOnce();
  expect(named(h)).toEqual([]);
  const file = join(h.dbPath, '..', 'bridge.json');
  writeFileSync(file, JSON.stringify(h.config));
  let io = captureIo();
  const lines = h.scim
    .inIdOrder(['u-1', 'u-2', 'u-3'])
    .map((name) => `${name === 'u-1' ? 'delete' : 'deactivate'}\tp${name.slice(2)}@example.com\tsource=okta\tid=${h.scim.id(name)}`);

  expect(await commands.approveDeletions(file, { dryRun: true }, io)).toBe(0);
  expect(io.stdout.text).toBe(`${lines.join('\n')}\n3 deprovision(s) held; approve-deletions without --dry-run releases them\n`);
  await h.engine.runOnce();
  expect(named(h)).toEqual([]);

  io = captureIo();
  expect(await commands.approveDeletions(file, {}, io)).toBe(0);
  expect(io.stdout.text).toBe(`${lines.join('\n')}\n3 deprovision(s) approved\n`);
  await h.engine.runOnce();
  expect(
    named(h)
      .map((w) => `${w.method} ${w.url}`)
      .sort(),
  ).toEqual([
    'PATCH /users/{p1@example.com}',
    'PATCH /users/{p2@example.com}',
    'PATCH /users/{p3@example.com}',
    'POST /users/{p1@example.com}/revokeSignInSessions',
    'POST /users/{p2@example.com}/revokeSignInSessions',
    'POST /users/{p3@example.com}/revokeSignInSessions',
  ]);
});
