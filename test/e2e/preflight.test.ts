// SPEC section 6 end to end: a blocked engine writes nothing to Graph, keeps accepting SCIM
// writes, and shows the reason in status and in each user's syncState.
import { loadConfig } from '../../src/config';
import { ada, adaAlone, boss } from './fixtures';
import { E3, named, startHarness, type Harness } from './harness';

let h: Harness;
afterEach(async () => h?.close());

const ENTRA_CONNECT = { organization: { onPremisesSyncEnabled: true, onPremisesLastSyncDateTime: '2026-11-20T08:00:00Z' } };
const CONNECT_REASON =
  'another sync engine owns the tenant (Entra Connect, AAD Sync or DirSync): organization.onPremisesSyncEnabled is true with an onPremisesLastSyncDateTime; user-sync would fight it';

it('Entra Connect detected blocks user-sync with the reason in status and syncState, and ingress carries on', async () => {
  h = await startHarness({ mode: 'user-sync', seed: ENTRA_CONNECT, overrides: { 'graph.allowTenantDirSync': true } });
  const scim = h.scim;
  await scim.createUser('u-boss', boss);
  const summary = await h.engine.runOnce();
  expect(summary.blocked).toEqual([CONNECT_REASON]);
  // Accepted while blocked: 201, stored, and blocked with the reason as soon as GET reports it.
  const created = await scim.createUser('u-ada', { ...ada, entitlements: [] });
  expect(created.userName).toBe('ada@example.com');
  const status = h.engine.status();
  expect([status.state, status.reasons]).toEqual(['blocked', [CONNECT_REASON]]);
  for (const name of ['u-boss', 'u-ada']) {
    expect(h.store.sync.get('User', scim.id(name))).toMatchObject({ state: 'blocked', lastError: CONNECT_REASON });
    expect(await scim.bridge(name)).toMatchObject({ source: 'okta', dirSyncEnabled: true, syncState: 'blocked', lastSyncError: CONNECT_REASON });
  }
  expect((await scim.getUser('u-ada')).userName).toBe('ada@example.com');
  expect(named(h)).toEqual([]);
});

it('hybrid-joined devices block user-sync, and clearing them unblocks without losing a write', async () => {
  h = await startHarness({
    mode: 'user-sync',
    seed: { devices: [{ id: 'd1', displayName: 'PC-1', trustType: 'ServerAd' }] },
    overrides: { 'graph.allowTenantDirSync': true },
  });
  await h.scim.createUser('u-boss', boss);
  expect((await h.engine.runOnce()).blocked).toEqual(["user-sync refuses a tenant with hybrid-joined devices (/devices with trustType 'ServerAd' exist)"]);
  expect((await h.scim.bridge('u-boss')).syncState).toBe('blocked');
  h.sim.state.directory.devices.clear();
  expect(await h.engine.preflight()).toMatchObject({ ok: true, blocked: [] });
  await h.engine.runOnce();
  expect(named(h).map((w) => `${w.method} ${w.url}`)).toEqual(['PATCH /organization/{org}', 'POST /users']);
  expect((await h.scim.bridge('u-boss')).syncState).toBe('synced');
});

it('graph.hybridJoin blocks universal-sync', async () => {
  h = await startHarness({ mode: 'universal-sync', overrides: { 'graph.allowTenantDirSync': true, 'graph.hybridJoin': true } });
  expect((await h.engine.preflight()).blocked).toEqual(['universal-sync refuses a tenant with hybrid Azure AD join (graph.hybridJoin is set)']);
});

it('names graph.allowTenantDirSync when the tenant switch is off', async () => {
  h = await startHarness({ mode: 'user-sync' });
  expect((await h.engine.preflight()).blocked).toEqual([
    'user-sync needs the tenant switch organization.onPremisesSyncEnabled, which is off; set graph.allowTenantDirSync to let the bridge turn it on',
  ]);
});

it('refuses a JIT directory in universal-sync at config load, naming the key', () => {
  expect(() =>
    loadConfig({
      env: {},
      overrides: { mode: 'universal-sync', sources: [{ id: 'okta', token: 'x'.repeat(20), directories: [{ id: 'jit.example', type: 'ad', jit: true }] }] },
    }),
  ).toThrow('sources.0.directories.0.jit: universal-sync refuses JIT directory "jit.example" of source "okta"');
});

it('profile-sync over Entra Connect warns and gives on-premises mastered users licenses only', async () => {
  const seed = {
    ...ENTRA_CONNECT,
    users: [
      {
        id: '33333333-3333-4333-8333-333333333333',
        userPrincipalName: 'ada@example.com',
        displayName: 'Ada (AD)',
        accountEnabled: true,
        usageLocation: 'US',
        mailNickname: 'ada',
        onPremisesSyncEnabled: true,
        onPremisesImmutableId: 'b25QcmVt',
      },
    ],
  };
  h = await startHarness({ mode: 'profile-sync', seed });
  await h.scim.createUser('u-ada', adaAlone);
  const pf = await h.engine.preflight();
  expect([pf.ok, pf.warnings]).toEqual([
    true,
    [
      'the Graph token lacks User-PasswordProfile.ReadWrite.All (or another permission granting PATCH /users/{id} (passwordProfile)): password changes of existing users (each such user reports the password as not set; profiles still sync) in profile-sync; grant User-PasswordProfile.ReadWrite.All and give admin consent (docs/graph-app.md)',
      'another sync engine owns the tenant (Entra Connect, AAD Sync or DirSync): organization.onPremisesSyncEnabled is true with an onPremisesLastSyncDateTime; users mastered on-premises (onPremisesSyncEnabled true) get licenses only',
    ],
  ]);
  await h.engine.runOnce();
  expect(named(h)).toEqual([
    {
      method: 'POST',
      url: '/users/{ada@example.com}/assignLicense',
      body: { addLicenses: [{ disabledPlans: [], skuId: E3 }], removeLicenses: [] },
      status: 200,
    },
  ]);
  expect((await h.scim.bridge('u-ada')).syncState).toBe('synced');
});

it('blocks on a configured license the tenant does not have', async () => {
  h = await startHarness({ mode: 'profile-sync', overrides: { licenses: { skus: ['SPE_E5', 'ENTERPRISEPACK'], groups: {} } } });
  expect((await h.engine.preflight()).blocked).toEqual(['license "SPE_E5" named in licenses.skus is not in the tenant\'s /subscribedSkus']);
});

it('blocks on app roles in the token that do not cover what the mode writes', async () => {
  h = await startHarness({ mode: 'profile-sync', seed: { tenant: { roles: ['User.Read.All'] } } });
  await h.scim.createUser('u-boss', boss);
  await h.engine.runOnce();
  expect(h.engine.status().reasons).toEqual([
    // Per Microsoft's permission table User.Read.All reads /organization but not /subscribedSkus.
    'the Graph token lacks Organization.Read.All (or another permission granting GET /subscribedskus): every Graph write (preflight cannot read the tenant) in profile-sync; grant Organization.Read.All and give admin consent (docs/graph-app.md)',
    'the Graph token lacks User.ReadWrite.All (or another permission granting POST /users, PATCH /users/{id}, PUT /users/{id}/manager, DELETE /users/{id}/manager, POST /users/{id}/revokesigninsessions): all user provisioning and deprovisioning in profile-sync; grant User.ReadWrite.All and give admin consent (docs/graph-app.md)',
    'the Graph token lacks LicenseAssignment.ReadWrite.All (or another permission granting POST /users/{id}/assignlicense): license assignment in profile-sync; grant LicenseAssignment.ReadWrite.All and give admin consent (docs/graph-app.md)',
    'the Graph token lacks RoleManagement.Read.Directory (or another permission granting GET /rolemanagement/directory/roleassignments): matching existing tenant users in profile-sync; grant RoleManagement.Read.Directory and give admin consent (docs/graph-app.md)',
  ]);
  expect((await h.scim.bridge('u-boss')).syncState).toBe('blocked');
  expect(named(h)).toEqual([]);
});

// SPEC section 6 blocks on what the tenant is; section 7 backs off on 5xx. A Graph server error
// while preflight reads the tenant says nothing about the tenant: the next run reads it again.
async function transientPreflightError(pathPrefix: string) {
  h = await startHarness({ mode: 'user-sync', overrides: { 'graph.allowTenantDirSync': true } });
  await h.scim.createUser('u-boss', boss);
  h.sim.faults.set({ failNext: [{ status: 500, method: 'GET', pathPrefix, count: 1 }] });
  await h.engine.runOnce();
  await h.engine.runOnce();
  expect(named(h).map((w) => `${w.method} ${w.url}`)).toEqual(['PATCH /organization/{org}', 'POST /users']);
  expect(await h.scim.bridge('u-boss')).toMatchObject({ syncState: 'synced' });
}

it('a transient 5xx on GET /organization in preflight is read again on the next run, not a block', () => transientPreflightError('/organization'));

it('a transient 5xx on GET /devices in preflight is read again on the next run, not a block', () => transientPreflightError('/devices'));
