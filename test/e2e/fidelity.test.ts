// Real-tenant fidelity: what a tenant refuses an app holding only the least set of permissions the
// bridge needs, and how the bridge keeps each refusal narrow (docs/graph-app.md).
import { createGraphClient } from '../../src/graph/client';
import { createLogger } from '../../src/log';
import { BRIDGE_USER_SCHEMA } from '../../src/rules/identity';
import { takeAllContractViolations } from '../../src/simulator';
import { manualClock } from '../../src/sync/clock';
import { adaAlone, boss } from './fixtures';
import { CORE_USER } from './ingress';
import { named, passwordOf, startHarness, type Harness } from './harness';

let h: Harness;
afterEach(async () => h?.close());

const DENIED = 'Authorization_RequestDenied: Insufficient privileges to complete the operation.';
const kay = {
  schemas: [CORE_USER],
  userName: 'kay@example.com',
  displayName: 'Kay',
  name: { givenName: 'Kay', familyName: 'Oh' },
  active: true,
  password: 'Kay-Passw0rd!x',
};

it('the least-privilege default refuses a password write; the profile still syncs and the user says why', async () => {
  h = await startHarness({ mode: 'profile-sync' });
  await h.scim.createUser('u-kay', kay);
  await h.engine.runOnce();
  h.clearLog();
  await h.scim.patchUser('u-kay', [
    { op: 'replace', path: 'displayName', value: 'Kay Oh' },
    { op: 'replace', path: 'password', value: 'N3w-Passw0rd!x' },
  ]);
  await h.engine.runOnce();
  expect(named(h)).toEqual([
    { method: 'PATCH', url: '/users/{kay@example.com}', body: { displayName: 'Kay Oh' }, status: 204 },
    {
      method: 'PATCH',
      url: '/users/{kay@example.com}',
      body: { passwordProfile: { password: '[redacted]', forceChangePasswordNextSignIn: false } },
      status: 403,
    },
  ]);
  // The request log redacts passwords; the tenant shows the refused one was not set.
  expect(passwordOf(h, 'kay@example.com')).not.toBe('N3w-Passw0rd!x');
  expect(h.sim.state.snapshot().users.find((u) => u.userPrincipalName === 'kay@example.com')).toMatchObject({ displayName: 'Kay Oh' });
  expect(await h.scim.bridge('u-kay')).toMatchObject({
    syncState: 'error',
    lastSyncError: `password not set: Graph refused it (${DENIED}); the app needs User-PasswordProfile.ReadWrite.All or a directory role that may reset passwords (docs/graph-app.md), then run retry; the profile is synced`,
  });
  // Not tried again on every pass: only on the next change or retry.
  h.clearLog();
  await h.engine.runOnce();
  expect(named(h)).toEqual([]);
  // retry tries the password once more (it is still refused: nothing was granted).
  h.engine.retry('User');
  await h.engine.runOnce();
  expect(named(h).map((w) => `${w.method} ${w.status}`)).toEqual(['PATCH 403']);
});

it('a tenant user holding an administrator role is never matched or modified', async () => {
  const seed = {
    users: [
      {
        id: '11111111-1111-4111-8111-111111111111',
        userPrincipalName: 'kay@example.com',
        displayName: 'Kay (admin)',
        accountEnabled: true,
        mailNickname: 'kay',
        directoryRoles: ['Global Administrator'],
      },
    ],
  };
  // Even where the source may adopt users of the domain, the role refuses the match.
  h = await startHarness({ mode: 'profile-sync', seed, okta: { adopt: { domains: ['example.com'] } } });
  await h.scim.createUser('u-kay', kay);
  await h.engine.runOnce();
  expect(named(h)).toEqual([]);
  expect(h.sim.requests.list().map((e) => `${e.method} ${decodeURIComponent(e.url).split('?')[0]}`)).toContain('GET /roleManagement/directory/roleAssignments');
  expect(await h.scim.bridge('u-kay')).toMatchObject({
    syncState: 'error',
    lastSyncError: 'Graph user kay@example.com holds the directory role Global Administrator: administrators are never matched or modified by the bridge',
  });
  expect(h.sim.state.snapshot().users[0]).toMatchObject({ displayName: 'Kay (admin)', accountEnabled: true });
});

it('the simulator refuses sensitive actions on an administrator unless the app holds a privileged role', async () => {
  const seed = {
    users: [
      {
        id: '11111111-1111-4111-8111-111111111111',
        userPrincipalName: 'root@example.com',
        displayName: 'Root',
        accountEnabled: true,
        mailNickname: 'root',
        directoryRoles: ['User Administrator'],
      },
    ],
  };
  h = await startHarness({ mode: 'profile-sync', seed });
  const graph = createGraphClient(h.config.graph, { logger: createLogger('silent') });
  const id = '11111111-1111-4111-8111-111111111111';
  expect((await graph.request('PATCH', `/users/${id}`, { accountEnabled: false })).status).toBe(403);
  expect((await graph.request('POST', `/users/${id}/revokeSignInSessions`)).status).toBe(403);
  expect((await graph.request('PATCH', `/users/${id}`, { jobTitle: 'Ops' })).status).toBe(204);
});

it('universal-sync writes a formerly synced user only what Graph lets it write (no Exchange custom attributes)', async () => {
  const seed = {
    users: [
      {
        id: '22222222-2222-4222-8222-222222222222',
        userPrincipalName: 'kay@example.com',
        displayName: 'Kay',
        accountEnabled: true,
        mailNickname: 'kay',
        usageLocation: 'US',
        onPremisesSyncEnabled: false,
        onPremisesImmutableId: 'Zm9ybWVy',
      },
    ],
  };
  h = await startHarness({ mode: 'universal-sync', seed, okta: { adopt: { domains: ['example.com'] } }, overrides: { 'graph.allowTenantDirSync': true } });
  await h.scim.createUser('u-kay', {
    ...kay,
    password: undefined,
    schemas: [CORE_USER, BRIDGE_USER_SCHEMA],
    [BRIDGE_USER_SCHEMA]: { extensionAttribute1: 'cost-7' },
    displayName: 'Kay Oh',
  });
  await h.engine.runOnce();
  const patches = named(h).filter((w) => w.method === 'PATCH' && w.url === '/users/{kay@example.com}');
  expect(patches).toHaveLength(1);
  expect(patches[0].status).toBe(204);
  expect(patches[0].body).not.toHaveProperty('onPremisesExtensionAttributes');
  expect(patches[0].body).toMatchObject({ displayName: 'Kay Oh' });
  expect(await h.scim.bridge('u-kay')).toMatchObject({ syncState: 'synced' });
});

it('a federated-domain user is created with onPremisesImmutableId and never sent a password change', async () => {
  const seed = {
    domains: [
      { name: 'example.com', isDefault: true },
      { name: 'fabrikam.com', type: 'Federated' as const },
    ],
  };
  h = await startHarness({ mode: 'profile-sync', seed, permissions: 'recommended' });
  await h.scim.createUser('u-fed', { ...kay, userName: 'kay@fabrikam.com' });
  await h.engine.runOnce();
  const [create] = named(h);
  expect(create).toMatchObject({
    method: 'POST',
    url: '/users',
    status: 201,
    body: { userPrincipalName: 'kay@fabrikam.com', onPremisesImmutableId: expect.any(String) },
  });
  h.clearLog();
  await h.scim.patchUser('u-fed', [
    { op: 'replace', path: 'displayName', value: 'Kay Oh' },
    { op: 'replace', path: 'password', value: 'N3w-Passw0rd!x' },
  ]);
  await h.engine.runOnce();
  expect(named(h).filter((w) => w.method === 'PATCH')).toEqual([
    { method: 'PATCH', url: '/users/{kay@fabrikam.com}', body: { displayName: 'Kay Oh' }, status: 204 },
  ]);
  expect(await h.scim.bridge('u-fed')).toMatchObject({ syncState: 'synced' });
});

it("a refused tenant switch blocks the engine with Graph's reason and is tried again only on retry", async () => {
  h = await startHarness({ mode: 'user-sync', overrides: { 'graph.allowTenantDirSync': true } });
  await h.scim.createUser('u-boss', boss);
  h.sim.faults.set({
    failNext: [
      {
        status: 403,
        method: 'PATCH',
        pathPrefix: '/organization',
        code: 'Authorization_RequestDenied',
        message: 'Insufficient privileges to complete the operation.',
      },
    ],
  });
  const first = await h.engine.runOnce();
  const reason = `Graph refused the tenant switch PATCH /organization/{id} {onPremisesSyncEnabled: true} (403 ${DENIED}); grant Organization.ReadWrite.All (docs/graph-app.md), then run retry`;
  expect(first.blocked).toEqual([reason]);
  expect(first.error).toBeUndefined();
  expect(h.engine.status()).toMatchObject({ state: 'blocked', reasons: [reason] });
  expect(await h.scim.bridge('u-boss')).toMatchObject({ syncState: 'blocked', lastSyncError: reason });
  // Another preflight and more runs do not send it again.
  expect((await h.engine.preflight()).blocked).toEqual([reason]);
  await h.engine.runOnce();
  expect(named(h).map((w) => `${w.method} ${w.url} ${w.status}`)).toEqual(['PATCH /organization/{org} 403']);
  h.engine.retry();
  await h.engine.runOnce();
  expect(named(h).map((w) => `${w.method} ${w.url} ${w.status}`)).toEqual([
    'PATCH /organization/{org} 403',
    'PATCH /organization/{org} 204',
    'POST /users 201',
  ]);
  expect(await h.scim.bridge('u-boss')).toMatchObject({ syncState: 'synced' });
});

it('a delta link answered 400 syncStateNotFound starts a full round at once, and drift is still reverted', async () => {
  h = await startHarness({ mode: 'user-sync', overrides: { 'graph.allowTenantDirSync': true } });
  await h.scim.createUser('u-ada', { ...adaAlone, entitlements: [] });
  await h.engine.runOnce();
  expect((await h.engine.reconcile({ full: false })).drifted).toEqual([]);
  const dir = h.sim.state.directory;
  const user = [...dir.users.values()].find((u) => u.props.userPrincipalName === 'ada@example.com')!;
  Object.assign(user.props, { jobTitle: 'Intruder' });
  dir.touch(user);
  dir.expireDeltaLinks();
  h.clearLog();
  const summary = await h.engine.reconcile({ full: false });
  expect(summary).toMatchObject({ errors: [], reverted: 1, drifted: [{ resourceType: 'User', id: h.scim.id('u-ada'), attributes: ['jobTitle'] }] });
  const log = h.sim.requests.list().map((e) => `${e.method} ${e.url.split('?')[0]} ${e.status}`);
  expect(log.filter((l) => l.startsWith('GET /users/delta'))).toEqual(['GET /users/delta 400', 'GET /users/delta 200']);
  expect(h.sim.requests.list().find((e) => e.status === 400)?.responseBody).toMatchObject({
    error: { code: 'syncStateNotFound', message: 'The sync state generation is not found. The delta token is expired and data must be synchronized again.' },
  });
  expect(named(h).filter((w) => w.method === 'PATCH')).toEqual([
    { method: 'PATCH', url: '/users/{ada@example.com}', body: { jobTitle: 'Engineer' }, status: 204 },
  ]);
});

it("signInSessionsValidFromDateTime is read back after Graph's delay, not right after the revoke", async () => {
  const clock = manualClock(Date.now());
  h = await startHarness({ mode: 'profile-sync', permissions: 'recommended', engine: { clock, tokenReadbackDelayMs: 5 * 60_000 } });
  await h.scim.createUser('u-kay', kay);
  await h.engine.runOnce();
  await h.scim.patchUser('u-kay', [{ op: 'replace', path: 'password', value: 'N3w-Passw0rd!x' }]);
  h.clearLog();
  await h.engine.runOnce();
  const reads = () => h.sim.requests.list().filter((e) => e.method === 'GET' && e.url.includes('signInSessionsValidFromDateTime'));
  expect(named(h).map((w) => `${w.method} ${w.url}`)).toContain('POST /users/{kay@example.com}/revokeSignInSessions');
  expect(reads()).toHaveLength(0);
  expect(h.store.sync.get('User', h.scim.id('u-kay'))!.graphTokensValidFrom).toBeNull();
  await clock.advance(4 * 60_000);
  await h.engine.runOnce();
  expect(reads()).toHaveLength(0);
  await clock.advance(60_000);
  await h.engine.runOnce();
  expect(reads()).toHaveLength(1);
  const graphUser = h.sim.state.snapshot().users.find((u) => u.userPrincipalName === 'kay@example.com')!;
  expect(h.store.sync.get('User', h.scim.id('u-kay'))!.graphTokensValidFrom).toBe(graphUser.signInSessionsValidFromDateTime);
});

it('preflight blocks user-sync for a token with Directory.ReadWrite.All but not Organization.ReadWrite.All', async () => {
  const roles = ['Directory.ReadWrite.All', 'RoleManagement.Read.Directory'];
  h = await startHarness({ mode: 'user-sync', seed: { tenant: { roles } }, overrides: { 'graph.allowTenantDirSync': true } });
  await h.scim.createUser('u-boss', boss);
  await h.engine.runOnce();
  expect(h.engine.status().reasons).toEqual([
    'the Graph token lacks Organization.ReadWrite.All (or another permission granting PATCH /organization/{id}): user-sync and universal-sync (the switch cannot be set) in user-sync; grant Organization.ReadWrite.All and give admin consent (docs/graph-app.md)',
  ]);
  expect(await h.scim.bridge('u-boss')).toMatchObject({ syncState: 'blocked' });
  expect(named(h)).toEqual([]);
});

it('the contract check records a request to a path Graph v1.0 lacks', async () => {
  h = await startHarness({ mode: 'profile-sync' });
  const graph = createGraphClient(h.config.graph, { logger: createLogger('silent') });
  // Role assignments live under /roleManagement/directory in Graph; /directory has none.
  await graph.request('GET', "/directory/roleAssignments?$filter=principalId eq 'x'");
  await graph.request('PATCH', '/users/00000000-0000-4000-8000-000000000001', { signInSessionsValidFromDateTime: '2026-01-01T00:00:00Z' });
  expect(takeAllContractViolations()).toEqual([
    'GET /directory/roleAssignments: no such path in Graph v1.0 for an Application permission',
    "PATCH /users/00000000-0000-4000-8000-000000000001: property 'signInSessionsValidFromDateTime' is not writable on microsoft.graph.user",
  ]);
  expect(h.sim.contract.take()).toEqual([]);
});
