// SPEC section 7 end to end: coalescing, no-op writes, matching and idempotent create, permanent
// errors and retry, deprovisioning, the deletion threshold, and plan.
import { BRIDGE_USER_SCHEMA, derivedImmutableId } from '../../src/rules/identity';
import { createLogger } from '../../src/log';
import { manualClock } from '../../src/sync/clock';
import { createGroupService } from '../../src/scim/groups-service';
import { createUserService } from '../../src/scim/users-service';
import { createSyncEngine } from '../../src/sync/engine';
import { adaAlone as ada, ada as withManager, boss } from './fixtures';
import { E3, driveClock, named, startHarness, type Harness } from './harness';
import { CORE_USER, ENTERPRISE } from './ingress';

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

let h: Harness;
afterEach(async () => h?.close());

/** Polls for a condition (never a fixed wait): resolves once it holds, fails the test after 20 s. */
async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met within 20 s');
    await new Promise((r) => setImmediate(r));
  }
}

const person = (n: number) => ({ ...boss, userName: `p${n}@example.com`, displayName: `Person ${n}`, password: undefined });

it('coalesces five queued updates of one user into one PATCH', async () => {
  h = await startHarness({ mode: 'user-sync', overrides: { 'graph.allowTenantDirSync': true } });
  const scim = h.scim;
  await scim.createUser('u-ada', { ...ada, entitlements: [] });
  await h.engine.runOnce();
  h.clearLog();
  for (const title of ['T1', 'T2', 'T3', 'T4', 'Chief Engineer']) await scim.patchUser('u-ada', [{ op: 'replace', path: 'title', value: title }]);
  await h.engine.runOnce();
  expect(named(h)).toEqual([{ method: 'PATCH', url: '/users/{ada@example.com}', body: { jobTitle: 'Chief Engineer' }, status: 204 }]);
  expect(h.store.sync.get('User', scim.id('u-ada'))).toMatchObject({ desiredVersion: 6, appliedVersion: 6, state: 'synced' });
});

it('makes no Graph write for a no-op PUT', async () => {
  h = await startHarness({ mode: 'user-sync', overrides: { 'graph.allowTenantDirSync': true } });
  const scim = h.scim;
  await scim.createUser('u-ada', ada);
  await h.engine.runOnce();
  h.clearLog();
  await scim.replaceUser('u-ada', { ...ada, password: undefined });
  const summary = await h.engine.runOnce();
  expect([named(h), summary.writes, (await scim.bridge('u-ada')).syncState]).toEqual([[], 0, 'synced']);
});

it('matches an existing Graph user before any POST where the source may adopt, and refuses one already linked to another resource', async () => {
  const seed = {
    users: [
      {
        id: '44444444-4444-4444-8444-444444444444',
        userPrincipalName: 'boss@example.com',
        displayName: 'Grace Boss',
        givenName: 'Grace',
        surname: 'Boss',
        accountEnabled: true,
        mailNickname: 'boss',
        usageLocation: 'US',
        onPremisesImmutableId: 'c2hhcmVk',
      },
    ],
  };
  h = await startHarness({ mode: 'profile-sync', seed, okta: { adopt: { domains: ['example.com'] } } });
  const scim = h.scim;
  await scim.createUser('u-boss', { ...boss, password: undefined });
  await scim.createUser('u-twin', {
    ...boss,
    userName: 'twin@example.com',
    password: undefined,
    schemas: [...boss.schemas, BRIDGE_USER_SCHEMA],
    [BRIDGE_USER_SCHEMA]: { sourceDirectory: 'x', immutableId: 'c2hhcmVk' },
  });
  await h.engine.runOnce();
  expect(named(h)).toEqual([]);
  expect(await scim.bridge('u-boss')).toMatchObject({ syncState: 'synced', graphId: '44444444-4444-4444-8444-444444444444' });
  expect(await scim.bridge('u-twin')).toMatchObject({
    syncState: 'error',
    lastSyncError:
      'the Graph user with onPremisesImmutableId c2hhcmVk is linked to another bridge resource and is not taken over (an operator moves a user between sources with users transfer)',
  });
  expect((await scim.bridge('u-twin')).graphId).toBeUndefined();
  expect(h.sim.state.snapshot().users).toHaveLength(1);
});

it('on ObjectConflict looks up again and matches instead of creating a second user', async () => {
  const seed = {
    users: [
      {
        id: '55555555-5555-4555-8555-555555555555',
        userPrincipalName: 'boss@example.com',
        displayName: 'Grace Boss',
        accountEnabled: true,
        mailNickname: 'boss',
        usageLocation: 'US',
      },
    ],
  };
  h = await startHarness({ mode: 'profile-sync', seed, okta: { adopt: { domains: ['example.com'] } } });
  await h.scim.createUser('u-boss', { ...boss, password: undefined });
  // The first lookup misses (as when a create by another writer lands just after it).
  h.sim.faults.set({ failNext: [{ status: 404, method: 'GET', pathPrefix: '/users', code: 'Request_ResourceNotFound', count: 1 }] });
  await h.engine.runOnce();
  expect(named(h).map((w) => `${w.method} ${w.url} ${w.status}`)).toEqual(['POST /users 400', 'PATCH /users/{boss@example.com} 204']);
  expect(h.store.sync.get('User', h.scim.id('u-boss'))).toMatchObject({ state: 'synced', graphId: '55555555-5555-4555-8555-555555555555' });
  expect(h.sim.state.snapshot().users).toHaveLength(1);
});

it("surfaces a permanent Graph error as syncState error with Graph's message, and retry() applies it once fixed", async () => {
  h = await startHarness({ mode: 'profile-sync', seed: { skus: [{ skuId: E3, skuPartNumber: 'ENTERPRISEPACK', seats: 0 }] } });
  const scim = h.scim;
  await scim.createUser('u-ada', ada);
  await h.engine.runOnce();
  // Graph's message, with the SKU's part number and what to do.
  const noSeat = `no free seat of SKU ENTERPRISEPACK: Subscription with SKU ${E3} does not have any available licenses. Add seats or free some, then run "scim-graph-bridge retry".`;
  expect(h.store.sync.get('User', scim.id('u-ada'))).toMatchObject({ state: 'error', lastError: noSeat });
  expect(await scim.bridge('u-ada')).toMatchObject({ syncState: 'error', lastSyncError: noSeat });
  h.clearLog();
  await h.engine.runOnce();
  expect(named(h)).toEqual([]);
  h.sim.state.directory.skus.get(E3)!.seats = 5;
  expect(h.engine.retry('User', scim.id('u-ada'))).toBe(1);
  await h.engine.runOnce();
  expect(named(h)).toEqual([
    {
      method: 'POST',
      url: '/users/{ada@example.com}/assignLicense',
      body: { addLicenses: [{ disabledPlans: [], skuId: E3 }], removeLicenses: [] },
      status: 200,
    },
  ]);
  expect(await scim.bridge('u-ada')).toMatchObject({ syncState: 'synced' });
  expect((await scim.bridge('u-ada')).lastSyncError).toBeUndefined();
});

it('deprovisions a deleted user by disabling it (default) or soft-deleting it', async () => {
  h = await startHarness({ mode: 'profile-sync' });
  await h.scim.createUser('u-1', person(1));
  await h.engine.runOnce();
  h.clearLog();
  await h.scim.deleteUser('u-1');
  await h.engine.runOnce();
  expect(named(h)).toEqual([
    { method: 'PATCH', url: '/users/{p1@example.com}', body: { accountEnabled: false }, status: 204 },
    { method: 'POST', url: '/users/{p1@example.com}/revokeSignInSessions', status: 200 },
  ]);
  await h.close();
  h = await startHarness({ mode: 'profile-sync', overrides: { deprovision: 'delete' } });
  await h.scim.createUser('u-1', person(1));
  await h.engine.runOnce();
  h.clearLog();
  await h.scim.deleteUser('u-1');
  await h.engine.runOnce();
  expect(named(h)).toEqual([{ method: 'DELETE', url: '/users/{p1@example.com}', status: 204 }]);
  expect(h.sim.state.snapshot().deletedItems.map((u) => u.userPrincipalName)).toEqual(['p1@example.com']);
});

it('pauses more than deletionThreshold deprovisions from one source within an hour until approved', async () => {
  h = await startHarness({ mode: 'profile-sync', overrides: { deletionThreshold: 2, deprovision: 'delete' } });
  const scim = h.scim;
  for (let n = 1; n <= 4; n++) await scim.createUser(`u-${n}`, person(n));
  await h.engine.runOnce();
  h.clearLog();
  for (let n = 1; n <= 3; n++) await scim.deleteUser(`u-${n}`);
  await h.engine.runOnce();
  expect(named(h)).toEqual([]);
  const status = h.engine.status();
  expect([status.state, status.pendingDeletions]).toEqual(['paused', [{ sourceId: 'okta', pending: 3, recent: 0 }]]);
  // /healthz reads the same state and reasons without the queue's counts.
  expect(h.engine.health()).toEqual({
    state: status.state,
    reasons: status.reasons,
    warnings: status.warnings,
    pendingDeletions: status.pendingDeletions,
    preflight: status.preflight,
    consecutiveFailedRuns: status.consecutiveFailedRuns,
    lastRunError: status.lastRunError,
    failedRuns: status.failedRuns,
  });
  expect(h.store.sync.get('User', scim.id('u-1'))).toMatchObject({
    state: 'pending',
    lastError: 'deprovisioning paused: 3 deletions from source okta within an hour exceed deletionThreshold 2; an operator approves with approve-deletions',
  });
  expect(h.engine.approveDeletions()).toEqual({
    approved: 3,
    released: scim
      .inIdOrder(['u-1', 'u-2', 'u-3'])
      .map((name) => ({ id: scim.id(name), sourceId: 'okta', userName: `p${name.slice(2)}@example.com`, kind: 'delete' })),
  });
  await h.engine.runOnce();
  // Deletions approved together go in the engine's order for siblings (their resource ids).
  const deletes = scim.inIdOrder(['u-1', 'u-2', 'u-3']).map((name) => `DELETE /users/{p${name.slice(2)}@example.com}`);
  expect(named(h).map((w) => `${w.method} ${w.url}`)).toEqual(deletes);
  expect(h.engine.status().state).toBe('stopped');
});

it("counts the hour's deprovisions across a restart: the threshold still holds the next one", async () => {
  h = await startHarness({ mode: 'profile-sync', overrides: { deletionThreshold: 2, deprovision: 'delete' } });
  const scim = h.scim;
  for (let n = 1; n <= 3; n++) await scim.createUser(`u-${n}`, person(n));
  await h.engine.runOnce();
  for (let n = 1; n <= 2; n++) await scim.deleteUser(`u-${n}`);
  await h.engine.runOnce();
  expect(h.sim.state.snapshot().deletedItems).toHaveLength(2);
  h.clearLog();
  // A new engine on the same database, as after a restart.
  const restarted = h.newEngine();
  try {
    await scim.deleteUser('u-3');
    await restarted.runOnce();
    expect(named(h).filter((w) => w.method === 'DELETE')).toEqual([]);
    expect(restarted.status().pendingDeletions).toEqual([{ sourceId: 'okta', pending: 1, recent: 2 }]);
  } finally {
    await restarted.stop();
  }
});

it('plan lists the pending writes and what a mode change would write, sending nothing', async () => {
  h = await startHarness({ mode: 'profile-sync' });
  const scim = h.scim;
  await scim.createUser('u-ada', { ...ada, entitlements: [] });
  await h.engine.runOnce();
  await scim.replaceUser('u-ada', { ...ada, password: undefined, entitlements: [], displayName: 'Ada L.' });
  h.clearLog();
  expect(h.engine.plan()).toEqual([
    { resourceType: 'User', id: scim.id('u-ada'), method: 'PATCH', url: expect.stringMatching(/^\/users\/[0-9a-f-]{36}$/), body: { displayName: 'Ada L.' } },
  ]);
  const toUserSync = h.engine.plan({ mode: 'user-sync' });
  expect(toUserSync.map((w) => `${w.resourceType} ${w.method}`)).toEqual(['Organization PATCH', 'User PATCH']);
  expect(toUserSync[1].body).toMatchObject({
    displayName: 'Ada L.',
    jobTitle: 'Engineer',
    department: 'R&D',
    onPremisesImmutableId: derivedImmutableId(scim.id('u-ada')),
  });
  expect(named(h)).toEqual([]);
});

it('links a manager created in Graph later without sending the password again', async () => {
  h = await startHarness({ mode: 'user-sync', overrides: { 'graph.allowTenantDirSync': true } });
  const scim = h.scim;
  // SCIM ids are the server's, so the IdP sends the manager after it: here Graph refuses the
  // manager's first create (a UPN outside the tenant's verified domains) and the IdP fixes it later.
  await scim.createUser('u-boss', { ...boss, userName: 'boss@unverified.example', password: undefined });
  await scim.createUser('u-ada', { ...withManager, entitlements: [] });
  await h.engine.runOnce();
  expect(h.store.sync.get('User', scim.id('u-ada'))).toMatchObject({
    state: 'pending',
    lastError: `waiting for manager ${scim.id('u-boss')} to exist in Graph`,
    hasPendingPassword: false,
  });
  expect(await scim.bridge('u-ada')).toMatchObject({ syncState: 'pending', lastSyncError: `waiting for manager ${scim.id('u-boss')} to exist in Graph` });
  expect(h.sim.state.snapshot().users.map((u) => u.userPrincipalName)).toEqual(['ada@example.com']);
  h.clearLog();
  await scim.replaceUser('u-boss', { ...boss, password: undefined });
  await h.engine.runOnce();
  expect(named(h).map((w) => `${w.method} ${w.url}`)).toEqual(['POST /users', 'PUT /users/{ada@example.com}/manager/$ref']);
  expect(h.store.sync.get('User', scim.id('u-ada'))?.state).toBe('synced');
});

it('takes an approval given by another process (the approve-deletions command)', async () => {
  h = await startHarness({ mode: 'profile-sync', overrides: { deletionThreshold: 1, deprovision: 'delete' } });
  const scim = h.scim;
  for (let n = 1; n <= 2; n++) await scim.createUser(`u-${n}`, person(n));
  await h.engine.runOnce();
  h.clearLog();
  for (let n = 1; n <= 2; n++) await scim.deleteUser(`u-${n}`);
  await h.engine.runOnce();
  expect(named(h)).toEqual([]);
  const cli = createSyncEngine({
    config: h.config,
    store: h.store,
    graph: { send: async () => ({ id: '1', status: 503 }), batch: async () => [], tokenRoles: async () => null },
    logger: createLogger('silent'),
  });
  expect(cli.status().pendingDeletions).toEqual([{ sourceId: 'okta', pending: 2, recent: 0 }]);
  expect(cli.approveDeletions()).toMatchObject({ approved: 2 });
  await cli.stop();
  await h.engine.runOnce();
  expect(named(h).map((w) => `${w.method} ${w.url}`)).toEqual(scim.inIdOrder(['u-1', 'u-2']).map((name) => `DELETE /users/{p${name.slice(2)}@example.com}`));
  expect(h.engine.status().pendingDeletions).toEqual([]);
});

it('assigns licenses mapped from a group (licenses.groups) when a member joins, and removes them when it leaves', async () => {
  h = await startHarness({
    mode: 'license-only',
    seed: {
      users: [
        {
          id: '66666666-6666-4666-8666-666666666666',
          userPrincipalName: 'p1@example.com',
          displayName: 'P1',
          accountEnabled: true,
          usageLocation: 'US',
          mailNickname: 'p1',
        },
      ],
    },
    overrides: { licenses: { skus: [], groups: { Sales: ['ENTERPRISEPACK'] } } },
  });
  const scim = h.scim;
  await scim.createUser('u-1', person(1));
  await scim.createGroup('g-sales', 'Sales', []);
  await h.engine.runOnce();
  expect(named(h)).toEqual([]);
  await scim.setMembers('g-sales', ['u-1']);
  await h.engine.runOnce();
  await scim.setMembers('g-sales', []);
  await h.engine.runOnce();
  expect(named(h)).toEqual([
    {
      method: 'POST',
      url: '/users/{p1@example.com}/assignLicense',
      body: { addLicenses: [{ disabledPlans: [], skuId: E3 }], removeLicenses: [] },
      status: 200,
    },
    { method: 'POST', url: '/users/{p1@example.com}/assignLicense', body: { addLicenses: [], removeLicenses: [E3] }, status: 200 },
  ]);
});

it('graph.dryRun plans the writes and records nothing as applied', async () => {
  h = await startHarness({ mode: 'profile-sync', overrides: { 'graph.dryRun': true } });
  await h.scim.createUser('u-1', person(1));
  const summary = await h.engine.runOnce();
  expect([summary.planned, summary.writes, named(h)]).toEqual([1, 0, []]);
  expect(h.store.sync.get('User', h.scim.id('u-1'))).toMatchObject({ state: 'pending', graphId: null, appliedVersion: 0 });
});

it('matches a security group that already exists instead of creating a second, where the source may adopt groups', async () => {
  const seed = {
    groups: [
      {
        id: '77777777-7777-4777-8777-777777777777',
        displayName: 'Engineering',
        mailNickname: 'Engineering',
        securityEnabled: true,
        mailEnabled: false,
        members: [],
      },
    ],
  };
  h = await startHarness({ mode: 'universal-sync', seed, okta: { adopt: { groups: true } }, overrides: { 'graph.allowTenantDirSync': true } });
  const scim = h.scim;
  await scim.createUser('u-1', person(1));
  await scim.createGroup('g-eng', 'Engineering', ['u-1']);
  await h.engine.runOnce();
  expect(named(h).filter((w) => w.url.startsWith('/groups'))).toEqual([
    { method: 'POST', url: '/groups/{Engineering}/members/$ref', body: { '@odata.id': '{graph}/v1.0/directoryObjects/{p1@example.com}' }, status: 204 },
  ]);
  expect(h.store.sync.get('Group', scim.id('g-eng'))).toMatchObject({ state: 'synced', graphId: '77777777-7777-4777-8777-777777777777' });
  expect(h.sim.state.snapshot().groups).toHaveLength(1);
});

it('the running loop sleeps on the engine clock: an idle engine picks up a new write when its clock moves on', async () => {
  // Ten minutes of idle on the engine's clock: only advancing that clock can wake the loop in time.
  const clock = manualClock(Date.now());
  h = await startHarness({ mode: 'profile-sync', engine: { clock, idleMs: 600_000 } });
  h.engine.start();
  await until(() => h.engine.status().lastRun !== null);
  await h.scim.createUser('u-ada', { ...ada, entitlements: [] });
  await clock.advance(600_000);
  await until(() => h.engine.status().counts.synced === 1);
  expect(named(h).map((w) => `${w.method} ${w.url} ${w.status}`)).toEqual(['POST /users 201']);
});

it('an accepted SCIM write wakes an idle engine instead of waiting for its idle interval', async () => {
  // The idle interval is far longer than the test: only the write itself can wake the engine.
  h = await startHarness({ mode: 'profile-sync', engine: { idleMs: 600_000 } });
  const applied: string[] = [];
  h.engine.onEvent((e) => e.type === 'applied' && applied.push(e.id));
  h.engine.start();
  // The first run finds nothing to do; the engine then sleeps.
  for (let i = 0; i < 200 && !h.engine.status().lastRun; i++) await new Promise((r) => setTimeout(r, 50));
  await h.scim.createUser('u-1', person(1));
  for (let i = 0; i < 300 && !applied.length; i++) await new Promise((r) => setTimeout(r, 50));
  expect(applied).toEqual([h.scim.id('u-1')]);
  expect(named(h).map((w) => `${w.method} ${w.url} ${w.status}`)).toEqual(['POST /users 201']);
});

it('a write accepted while a run is under way is taken after the short pause of a busy loop, not after the idle interval', async () => {
  // The idle interval is far longer than the test, and the clock moves only when the test moves it.
  const clock = manualClock(Date.now());
  h = await startHarness({ mode: 'profile-sync', engine: { clock, idleMs: 600_000 } });
  let runs = 0;
  h.engine.onEvent((e) => {
    if (e.type !== 'run' || ++runs !== 1) return;
    // At the end of the first run, past its last read of the queue: the write wakes no sleeping loop.
    h.store.users.create(
      { schemas: [CORE_USER], userName: 'late@example.com', displayName: 'Late', active: true },
      { sourceId: 'okta', sync: { dirSyncEnabled: false } },
    );
  });
  h.engine.start();
  await until(() => runs === 1 && clock.pending() > 0);
  expect(named(h)).toEqual([]);
  await clock.advance(10);
  await until(() => h.engine.status().counts.synced === 1);
  expect(named(h).map((w) => `${w.method} ${w.url} ${w.status} ${(w.body as { userPrincipalName?: string }).userPrincipalName}`)).toEqual([
    'POST /users 201 late@example.com',
  ]);
});

describe('queue order', () => {
  const deactivateFirstAfterQueuing = async (order: 'priority' | 'fifo') => {
    h = await startHarness({ mode: 'profile-sync', overrides: { 'sync.order': order } });
    await h.scim.createUser('u-1', person(1));
    await h.engine.runOnce();
    h.clearLog();
    for (const n of [2, 3, 4]) await h.scim.createUser(`u-${n}`, person(n));
    await h.scim.patchUser('u-1', [{ op: 'replace', path: 'active', value: false }]);
    await h.engine.runOnce();
    return named(h).map((w) => `${w.method} ${w.url}${w.method === 'PATCH' ? ` ${JSON.stringify(w.body)}` : ''}`);
  };

  it('a deactivation of a user already in Graph goes ahead of the creations queued before it', async () => {
    expect(await deactivateFirstAfterQueuing('priority')).toEqual([
      'PATCH /users/{p1@example.com} {"accountEnabled":false}',
      'POST /users/{p1@example.com}/revokeSignInSessions',
      'POST /users',
      'POST /users',
      'POST /users',
    ]);
  });

  it('a deactivation queued while a chunk of creations is in progress is written before the rest of that chunk', async () => {
    h = await startHarness({ mode: 'user-sync', overrides: { 'sync.order': 'priority', 'graph.allowTenantDirSync': true } });
    await h.scim.createUser('u-1', person(1));
    await h.engine.runOnce();
    h.clearLog();
    // Three new users whose manager is u-1: each chunk creates them, then links their manager.
    for (const n of [2, 3, 4])
      await h.scim.createUser(`u-${n}`, { ...person(n), schemas: [CORE_USER, ENTERPRISE], entitlements: [], [ENTERPRISE]: { manager: { value: 'u-1' } } });
    const users = createUserService({ config: h.config, store: h.store });
    const principal = { source: h.store.sources.get('okta')! };
    let queued = false;
    // The deactivation arrives once the chunk's users exist in Graph, before their manager links are sent.
    h.engine.onEvent((e) => {
      if (e.type !== 'created' || queued) return;
      queued = true;
      users.patch(principal, h.scim.id('u-1'), { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] });
    });
    await h.engine.runOnce();
    expect(queued).toBe(true);
    expect(named(h).map((w) => `${w.method} ${w.url}${w.method === 'PATCH' ? ` ${JSON.stringify(w.body)}` : ''}`)).toEqual([
      'POST /users',
      'POST /users',
      'POST /users',
      'PATCH /users/{p1@example.com} {"accountEnabled":false}',
      'POST /users/{p1@example.com}/revokeSignInSessions',
      'PUT /users/{p2@example.com}/manager/$ref',
      'PUT /users/{p3@example.com}/manager/$ref',
      'PUT /users/{p4@example.com}/manager/$ref',
    ]);
    expect(h.store.sync.get('User', h.scim.id('u-1'))).toMatchObject({ state: 'synced', desiredVersion: 2, appliedVersion: 2 });
  });

  const describeWrite = (w: { method: string; url: string; body?: unknown }) =>
    `${w.method} ${w.url}${w.method === 'PATCH' ? ` ${JSON.stringify(w.body)}` : ''}`;

  it('a deactivation accepted while creations wait for the write budget takes the next write the budget allows', async () => {
    // One write a minute: u-1's create spends the bucket, so the next pass's creations wait for it.
    const clock = manualClock(Date.parse('2026-12-01T09:00:00Z'));
    h = await startHarness({ mode: 'profile-sync', engine: { clock }, overrides: { 'graph.writeBudget': { writes: 1, perSeconds: 60 } } });
    await h.scim.createUser('u-1', person(1));
    await h.engine.runOnce();
    h.clearLog();
    for (const n of [2, 3, 4]) await h.scim.createUser(`u-${n}`, person(n));
    h.engine.start();
    // The pass's $batch of creations sleeps on the clock for the next write.
    await until(() => clock.pending() > 0);
    await h.scim.patchUser('u-1', [{ op: 'replace', path: 'active', value: false }]);
    const stop = driveClock(clock, 5_000);
    try {
      await until(() => named(h).length >= 5);
    } finally {
      await stop();
      await h.engine.stop();
    }
    expect(named(h).map(describeWrite)).toEqual([
      'PATCH /users/{p1@example.com} {"accountEnabled":false}',
      'POST /users/{p1@example.com}/revokeSignInSessions',
      'POST /users',
      'POST /users',
      'POST /users',
    ]);
  });

  it('a member removal from a group already in Graph goes ahead of the creations queued before it', async () => {
    h = await startHarness({ mode: 'profile-sync', overrides: { 'groups.push': true } });
    await h.scim.createUser('u-1', person(1));
    await h.scim.createGroup('g-1', 'Engineering', ['u-1']);
    await h.engine.runOnce();
    h.clearLog();
    for (const n of [2, 3, 4]) await h.scim.createUser(`u-${n}`, person(n));
    await h.scim.setMembers('g-1', []);
    await h.engine.runOnce();
    expect(named(h).map(describeWrite)).toEqual(['DELETE /groups/{Engineering}/members/{p1@example.com}/$ref', 'POST /users', 'POST /users', 'POST /users']);
    expect(h.store.sync.get('Group', h.scim.id('g-1'))).toMatchObject({ state: 'synced', urgent: false });
  });

  /** u-1 synced with the licence the group Sales carries (licenses.groups), the log cleared. */
  const licensedBySales = async () => {
    h = await startHarness({ mode: 'profile-sync', overrides: { licenses: { skus: [], groups: { Sales: ['ENTERPRISEPACK'] } } } });
    await h.scim.createUser('u-1', person(1));
    await h.scim.createGroup('g-sales', 'Sales', ['u-1']);
    await h.engine.runOnce();
    h.clearLog();
  };
  const licenceFirst = [
    `POST /users/{p1@example.com}/assignLicense {"addLicenses":[],"removeLicenses":["${E3}"]}`,
    'POST /users',
    'POST /users',
    'POST /users',
  ];
  const describeLicenceWrite = (w: { method: string; url: string; body?: unknown }) =>
    `${w.method} ${w.url}${w.url.endsWith('/assignLicense') ? ` ${JSON.stringify(w.body)}` : ''}`;

  it('a licence lost with a licence group (licenses.groups) is removed ahead of the creations queued before it', async () => {
    await licensedBySales();
    for (const n of [2, 3, 4]) await h.scim.createUser(`u-${n}`, person(n));
    await h.scim.setMembers('g-sales', []);
    await h.engine.runOnce();
    expect(named(h).map(describeLicenceWrite)).toEqual(licenceFirst);
    expect(h.store.sync.get('User', h.scim.id('u-1'))).toMatchObject({ state: 'synced', urgent: false });
  });

  it("deleting a licence group removes its members' licences ahead of queued creations; a member not yet in Graph keeps its place", async () => {
    await licensedBySales();
    for (const n of [2, 3, 4]) await h.scim.createUser(`u-${n}`, person(n));
    await h.scim.setMembers('g-sales', ['u-1', 'u-4']);
    await h.scim.deleteGroup('g-sales');
    await h.engine.runOnce();
    expect(named(h).map(describeLicenceWrite)).toEqual(licenceFirst);
    expect(
      named(h)
        .filter((w) => w.method === 'POST' && w.url === '/users')
        .map((w) => (w.body as { userPrincipalName: string }).userPrincipalName),
    ).toEqual(['p2@example.com', 'p3@example.com', 'p4@example.com']);
  });

  it('a member removal queued while a chunk of creations is in progress is written before the rest of that chunk', async () => {
    h = await startHarness({ mode: 'user-sync', overrides: { 'groups.push': true, 'graph.allowTenantDirSync': true } });
    await h.scim.createUser('u-1', person(1));
    await h.scim.createGroup('g-1', 'Engineering', ['u-1']);
    await h.engine.runOnce();
    h.clearLog();
    for (const n of [2, 3, 4])
      await h.scim.createUser(`u-${n}`, { ...person(n), schemas: [CORE_USER, ENTERPRISE], entitlements: [], [ENTERPRISE]: { manager: { value: 'u-1' } } });
    const groups = createGroupService({ store: h.store });
    const principal = { source: h.store.sources.get('okta')! };
    let queued = false;
    // The removal arrives once the chunk's users exist in Graph, before their manager links are sent.
    h.engine.onEvent((e) => {
      if (e.type !== 'created' || queued) return;
      queued = true;
      groups.patch(principal, h.scim.id('g-1'), { schemas: [PATCH_OP], Operations: [{ op: 'remove', path: `members[value eq "${h.scim.id('u-1')}"]` }] });
    });
    await h.engine.runOnce();
    expect(queued).toBe(true);
    expect(named(h).map(describeWrite)).toEqual([
      'POST /users',
      'POST /users',
      'POST /users',
      'DELETE /groups/{Engineering}/members/{p1@example.com}/$ref',
      'PUT /users/{p2@example.com}/manager/$ref',
      'PUT /users/{p3@example.com}/manager/$ref',
      'PUT /users/{p4@example.com}/manager/$ref',
    ]);
    expect(h.store.sync.get('Group', h.scim.id('g-1'))).toMatchObject({ state: 'synced', desiredVersion: 2, appliedVersion: 2 });
  });

  it('sync.order fifo keeps the order of arrival', async () => {
    expect(await deactivateFirstAfterQueuing('fifo')).toEqual([
      'POST /users',
      'POST /users',
      'POST /users',
      'PATCH /users/{p1@example.com} {"accountEnabled":false}',
      'POST /users/{p1@example.com}/revokeSignInSessions',
    ]);
  });
});

it('looks users up 15 to a read (userPrincipalName in (...)) and still matches the one that exists', async () => {
  const seed = {
    users: [
      {
        id: '66666666-6666-4666-8666-666666666666',
        userPrincipalName: 'p7@example.com',
        displayName: 'Person 7',
        accountEnabled: true,
        mailNickname: 'p7',
        usageLocation: 'US',
      },
    ],
  };
  // p7 is a tenant user the bridge never managed: linked only where the source may adopt its domain.
  h = await startHarness({ mode: 'profile-sync', seed, okta: { adopt: { domains: ['example.com'] } } });
  for (let n = 1; n <= 20; n++) await h.scim.createUser(`u-${n}`, person(n));
  await h.engine.runOnce();
  const reads = h.sim.requests.list({ method: 'GET', pathPrefix: '/users?' }).map((e) => decodeURIComponent(e.url).split('&$select')[0]);
  const upns = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `'p${from + i}@example.com'`).join(',');
  expect(reads.sort()).toEqual([`/users?$filter=userPrincipalName in (${upns(1, 15)})`, `/users?$filter=userPrincipalName in (${upns(16, 20)})`].sort());
  expect(named(h).filter((w) => w.method === 'POST' && w.url === '/users')).toHaveLength(19);
  expect(await h.scim.bridge('u-7')).toMatchObject({ syncState: 'synced', graphId: '66666666-6666-4666-8666-666666666666' });
  expect(h.sim.state.snapshot().users).toHaveLength(20);
});
