// SPEC section 2, cell by cell: what each mode creates, which attributes it writes, licenses,
// deactivation, groups, dirSyncEnabled, the tenant switch and onPremisesImmutableId. Every
// assertion is on the exact Graph writes in the simulator's request log.
import { BRIDGE_USER_SCHEMA } from '../../src/graph/identity';
import { AD_DIRECTORY, ada, alan, boss } from './fixtures';
import { E3, named, startHarness, type Harness } from './harness';
import { createIngress } from './ingress';

let h: Harness;
afterEach(async () => h?.close());

const pwd = (password: string) => ({ password, forceChangePasswordNextSignIn: false });
const GUID_IMMUTABLE = 'LmsfjUo8W0+afA4dLDtKWQ==';
const basic = {
  boss: { userPrincipalName: 'boss@example.com', displayName: 'Grace Boss', givenName: 'Grace', surname: 'Boss', accountEnabled: true, mailNickname: 'boss', usageLocation: 'US' },
  ada: { userPrincipalName: 'ada@example.com', displayName: 'Ada Lovelace', givenName: 'Ada', surname: 'Lovelace', accountEnabled: true, mailNickname: 'ada', usageLocation: 'US' },
  alan: { userPrincipalName: 'alan@example.com', displayName: 'Alan Turing', givenName: 'Alan', surname: 'Turing', accountEnabled: true, mailNickname: 'alan', usageLocation: 'US' },
};
const adaExtended = {
  jobTitle: 'Engineer', mail: 'ada@example.com', otherMails: ['ada@home.example'], businessPhones: ['+1 555 0100'], mobilePhone: '+1 555 0101',
  streetAddress: '1 Main St', city: 'Springfield', state: 'IL', postalCode: '62701', country: 'US', preferredLanguage: 'en-US',
  employeeType: 'Employee', employeeId: '1001', department: 'R&D', companyName: 'Contoso', employeeOrgData: { costCenter: 'CC1', division: 'DIV1' }, officeLocation: 'B1',
};
const licenseE3 = { method: 'POST', url: '/users/{ada@example.com}/assignLicense', body: { addLicenses: [{ disabledPlans: [], skuId: E3 }], removeLicenses: [] }, status: 200 };
const managerLink = { method: 'PUT', url: '/users/{ada@example.com}/manager/$ref', body: { '@odata.id': '{graph}/v1.0/directoryObjects/{boss@example.com}' }, status: 204 };
const groupWrites = [
  { method: 'POST', url: '/groups', body: { displayName: 'Engineering', mailNickname: 'Engineering', securityEnabled: true, mailEnabled: false }, status: 201 },
  { method: 'POST', url: '/groups/{Engineering}/members/$ref', body: { '@odata.id': '{graph}/v1.0/directoryObjects/{ada@example.com}' }, status: 204 },
  { method: 'POST', url: '/groups/{Engineering}/members/$ref', body: { '@odata.id': '{graph}/v1.0/directoryObjects/{alan@example.com}' }, status: 204 },
];
const tenantSwitch = { method: 'PATCH', url: '/organization/{org}', body: { onPremisesSyncEnabled: true }, status: 204 };

function pushAll(hh: Harness, mode: Parameters<typeof createIngress>[1]) {
  const scim = createIngress(hh.store, mode);
  scim.createUser('u-boss', boss);
  scim.createUser('u-ada', ada);
  scim.createUser('u-alan', alan);
  scim.createGroup('g-eng', 'Engineering', ['u-ada', 'u-alan']);
  return scim;
}

describe('profile-sync', () => {
  it('creates users with the basic set, licenses, immutableId only for the AD-linked user, groups only with groups.push', async () => {
    h = await startHarness({ mode: 'profile-sync', directories: AD_DIRECTORY, overrides: { 'groups.push': true } });
    pushAll(h, 'profile-sync');
    await h.engine.runOnce();
    expect(named(h)).toEqual([
      { method: 'POST', url: '/users', body: { ...basic.boss, passwordProfile: pwd('Boss-Passw0rd!x') }, status: 201 },
      { method: 'POST', url: '/users', body: { ...basic.ada, passwordProfile: pwd('Ada-Passw0rd!x') }, status: 201 },
      { method: 'POST', url: '/users', body: { ...basic.alan, onPremisesImmutableId: GUID_IMMUTABLE, passwordProfile: pwd('Alan-Passw0rd!x') }, status: 201 },
      licenseE3,
      ...groupWrites,
    ]);
    expect(h.store.sync.get('User', 'u-ada')).toMatchObject({ state: 'synced', dirSyncEnabled: false });
  });

  it('writes no groups without groups.push and leaves the tenant switch alone', async () => {
    h = await startHarness({ mode: 'profile-sync', directories: AD_DIRECTORY });
    pushAll(h, 'profile-sync');
    await h.engine.runOnce();
    expect(named(h).filter((w) => w.url.startsWith('/groups') || w.url.startsWith('/organization'))).toEqual([]);
    expect(h.store.sync.get('Group', 'g-eng')).toMatchObject({ state: 'synced', graphId: null });
    expect(h.sim.state.snapshot().organization.onPremisesSyncEnabled ?? null).toBeNull();
  });
});

describe.each(['user-sync', 'universal-sync'] as const)('%s', (mode) => {
  it('turns the tenant switch on once, stamps every user, writes the extended set, manager, licenses and groups', async () => {
    h = await startHarness({ mode, directories: AD_DIRECTORY, overrides: { 'graph.allowTenantDirSync': true, 'groups.push': mode === 'user-sync' } });
    pushAll(h, mode);
    await h.engine.runOnce();
    const all = mode === 'universal-sync' ? { onPremisesExtensionAttributes: { extensionAttribute1: 'x1' } } : {};
    expect(named(h)).toEqual([
      tenantSwitch,
      { method: 'POST', url: '/users', body: { ...basic.boss, onPremisesImmutableId: '1F2LS4Yhy0QCxpNglM7cGQ==', passwordProfile: pwd('Boss-Passw0rd!x') }, status: 201 },
      { method: 'POST', url: '/users', body: { ...basic.ada, ...adaExtended, ...all, onPremisesImmutableId: 'u7ewna7eDMGEUTpI4AjUNg==', passwordProfile: pwd('Ada-Passw0rd!x') }, status: 201 },
      { method: 'POST', url: '/users', body: { ...basic.alan, onPremisesImmutableId: GUID_IMMUTABLE, passwordProfile: pwd('Alan-Passw0rd!x') }, status: 201 },
      licenseE3,
      managerLink,
      ...groupWrites,
    ]);
    for (const id of ['u-boss', 'u-ada', 'u-alan']) expect(h.store.sync.get('User', id)).toMatchObject({ state: 'synced', dirSyncEnabled: true });
    h.clearLog();
    createIngress(h.store, mode).replaceUser('u-boss', { ...boss, password: undefined, displayName: 'Grace B.' });
    await h.engine.runOnce();
    // The switch is not sent again.
    expect(named(h)).toEqual([{ method: 'PATCH', url: '/users/{boss@example.com}', body: { displayName: 'Grace B.' }, status: 204 }]);
  });
});

describe('license-only', () => {
  const seed = {
    users: [
      { id: '11111111-1111-4111-8111-111111111111', userPrincipalName: 'ada@example.com', displayName: 'Ada (tenant)', accountEnabled: true, usageLocation: 'US', mailNickname: 'ada' },
      { id: '22222222-2222-4222-8222-222222222222', userPrincipalName: 'alan.t@example.com', displayName: 'Alan (tenant)', accountEnabled: true, usageLocation: 'US', mailNickname: 'alant', onPremisesImmutableId: GUID_IMMUTABLE },
    ],
  };

  it('matches existing users by immutableId, then UPN, writes licenses only and never creates', async () => {
    h = await startHarness({ mode: 'license-only', directories: AD_DIRECTORY, seed });
    const scim = createIngress(h.store, 'license-only');
    scim.createUser('u-ada', ada);
    scim.createUser('u-alan', { ...alan, entitlements: [{ value: E3 }] });
    scim.createUser('u-boss', boss);
    await h.engine.runOnce();
    expect(named(h)).toEqual([
      licenseE3,
      { method: 'POST', url: '/users/{alan.t@example.com}/assignLicense', body: { addLicenses: [{ disabledPlans: [], skuId: E3 }], removeLicenses: [] }, status: 200 },
    ]);
    expect(h.store.sync.get('User', 'u-alan')).toMatchObject({ state: 'synced', graphId: '22222222-2222-4222-8222-222222222222', dirSyncEnabled: false });
    expect(h.store.sync.get('User', 'u-boss')).toMatchObject({
      state: 'error',
      graphId: null,
      lastError: 'license-only matches existing users only: no Graph user has onPremisesImmutableId (none) or userPrincipalName boss@example.com',
    });
    const tenantAda = h.sim.state.snapshot().users.find((u) => u.userPrincipalName === 'ada@example.com')!;
    expect([tenantAda.displayName, tenantAda.onPremisesImmutableId ?? null]).toEqual(['Ada (tenant)', null]);
  });

  it('writes no groups even with groups.push, never touches the tenant switch, and allows direct edits', async () => {
    h = await startHarness({ mode: 'license-only', seed, overrides: { 'groups.push': true, 'graph.allowTenantDirSync': true } });
    const scim = createIngress(h.store, 'license-only');
    scim.createUser('u-ada', { ...ada, entitlements: [] });
    scim.createGroup('g-eng', 'Engineering', ['u-ada']);
    await h.engine.runOnce();
    h.sim.state.directory.users.get('11111111-1111-4111-8111-111111111111')!.props.displayName = 'Edited in Entra';
    expect((await h.engine.reconcile({ full: true })).drifted).toEqual([]);
    expect(named(h)).toEqual([]);
    expect(h.store.sync.get('Group', 'g-eng')).toMatchObject({ state: 'synced', graphId: null });
    expect(h.sim.state.snapshot().organization.onPremisesSyncEnabled ?? null).toBeNull();
  });

  it('revokes sessions on a password change (tokensValidFrom = now) and writes no password', async () => {
    h = await startHarness({ mode: 'license-only', seed });
    const accepted = new Date('2026-11-26T12:00:00.000Z');
    const scim = createIngress(h.store, 'license-only', 'okta', () => accepted);
    scim.createUser('u-ada', { ...ada, entitlements: [] });
    await h.engine.runOnce();
    scim.replaceUser('u-ada', { ...ada, entitlements: [], password: 'N3w-Passw0rd!x' });
    await h.engine.runOnce();
    expect(named(h)).toEqual([{ method: 'POST', url: '/users/{ada@example.com}/revokeSignInSessions', status: 200 }]);
    expect(h.store.sync.get('User', 'u-ada')).toMatchObject({ state: 'synced', tokensValidFrom: accepted.toISOString(), appliedTokensValidFrom: accepted.toISOString(), pendingPassword: null });
  });

  it('on deactivation removes the licenses the bridge assigned, and nothing else', async () => {
    h = await startHarness({ mode: 'license-only', seed });
    const scim = createIngress(h.store, 'license-only');
    scim.createUser('u-ada', ada);
    await h.engine.runOnce();
    h.clearLog();
    scim.replaceUser('u-ada', { ...ada, password: undefined, active: false });
    await h.engine.runOnce();
    expect(named(h)).toEqual([{ method: 'POST', url: '/users/{ada@example.com}/assignLicense', body: { addLicenses: [], removeLicenses: [E3] }, status: 200 }]);
  });
});

it('user-sync writes no groups without groups.push', async () => {
  h = await startHarness({ mode: 'user-sync', directories: AD_DIRECTORY, overrides: { 'graph.allowTenantDirSync': true } });
  pushAll(h, 'user-sync');
  await h.engine.runOnce();
  expect(named(h).filter((w) => w.url.startsWith('/groups'))).toEqual([]);
  expect(h.store.sync.get('Group', 'g-eng')).toMatchObject({ state: 'synced', graphId: null });
});

describe.each(['profile-sync', 'user-sync', 'universal-sync'] as const)('deactivation in %s', (mode) => {
  it('sets accountEnabled false and revokes sessions', async () => {
    h = await startHarness({ mode, overrides: { 'graph.allowTenantDirSync': true } });
    const scim = createIngress(h.store, mode);
    scim.createUser('u-boss', boss);
    await h.engine.runOnce();
    h.clearLog();
    scim.replaceUser('u-boss', { ...boss, password: undefined, active: false });
    await h.engine.runOnce();
    expect(named(h)).toEqual([
      { method: 'PATCH', url: '/users/{boss@example.com}', body: { accountEnabled: false }, status: 204 },
      { method: 'POST', url: '/users/{boss@example.com}/revokeSignInSessions', status: 200 },
    ]);
  });
});

it('profile-sync stamps onPremisesImmutableId for users in federated domains', async () => {
  h = await startHarness({ mode: 'profile-sync', seed: { domains: [{ name: 'example.com', isDefault: true }, { name: 'fed.example.com', type: 'Federated' }] } });
  const scim = createIngress(h.store, 'profile-sync');
  scim.createUser('u-fed', { ...boss, userName: 'fed@fed.example.com', [BRIDGE_USER_SCHEMA]: { immutableId: 'ZmVkLWltbXV0YWJsZQ==' } });
  await h.engine.runOnce();
  expect(named(h)[0]).toMatchObject({ method: 'POST', url: '/users', body: { userPrincipalName: 'fed@fed.example.com', onPremisesImmutableId: 'ZmVkLWltbXV0YWJsZQ==' } });
});
