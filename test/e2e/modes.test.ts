// SPEC section 2, cell by cell: what each mode creates, which attributes it writes, licenses,
// deactivation, groups, dirSyncEnabled, the tenant switch and onPremisesImmutableId. Every
// assertion is on the exact Graph writes in the simulator's request log.
import { BRIDGE_USER_SCHEMA, derivedImmutableId } from '../../src/rules/identity';
import { AD_DIRECTORY, ada, adaAlone, alan, boss } from './fixtures';
import { E3, named, passwordOf, startHarness, type Harness } from './harness';

let h: Harness;
afterEach(async () => h?.close());

// The request log redacts passwords; which one was written is read from the tenant (passwordOf).
const pwd = (_password: string) => ({ password: '[redacted]', forceChangePasswordNextSignIn: false });
const passwords = (hh: Harness) => ['boss', 'ada', 'alan'].map((n) => passwordOf(hh, `${n}@example.com`));
const SENT = ['Boss-Passw0rd!x', 'Ada-Passw0rd!x', 'Alan-Passw0rd!x'];
const GUID_IMMUTABLE = 'LmsfjUo8W0+afA4dLDtKWQ==';
const basic = {
  boss: {
    userPrincipalName: 'boss@example.com',
    displayName: 'Grace Boss',
    givenName: 'Grace',
    surname: 'Boss',
    accountEnabled: true,
    mailNickname: 'boss',
    usageLocation: 'US',
  },
  ada: {
    userPrincipalName: 'ada@example.com',
    displayName: 'Ada Lovelace',
    givenName: 'Ada',
    surname: 'Lovelace',
    accountEnabled: true,
    mailNickname: 'ada',
    usageLocation: 'US',
  },
  alan: {
    userPrincipalName: 'alan@example.com',
    displayName: 'Alan Turing',
    givenName: 'Alan',
    surname: 'Turing',
    accountEnabled: true,
    mailNickname: 'alan',
    usageLocation: 'US',
  },
};
const adaExtended = {
  jobTitle: 'Engineer',
  mail: 'ada@example.com',
  otherMails: ['ada@home.example'],
  businessPhones: ['+1 555 0100'],
  mobilePhone: '+1 555 0101',
  streetAddress: '1 Main St',
  city: 'Springfield',
  state: 'IL',
  postalCode: '62701',
  country: 'US',
  preferredLanguage: 'en-US',
  employeeType: 'Employee',
  employeeId: '1001',
  department: 'R&D',
  companyName: 'Contoso',
  employeeOrgData: { costCenter: 'CC1', division: 'DIV1' },
  officeLocation: 'B1',
};
const licenseE3 = {
  method: 'POST',
  url: '/users/{ada@example.com}/assignLicense',
  body: { addLicenses: [{ disabledPlans: [], skuId: E3 }], removeLicenses: [] },
  status: 200,
};
const managerLink = {
  method: 'PUT',
  url: '/users/{ada@example.com}/manager/$ref',
  body: { '@odata.id': '{graph}/v1.0/directoryObjects/{boss@example.com}' },
  status: 204,
};
const UPN: Record<string, string> = { 'u-ada': 'ada@example.com', 'u-alan': 'alan@example.com' };
/** The group, then its two members in one members@odata.bind write, in the engine's order for siblings (their resource ids). */
const groupWrites = (hh: Harness) => [
  { method: 'POST', url: '/groups', body: { displayName: 'Engineering', mailNickname: 'Engineering', securityEnabled: true, mailEnabled: false }, status: 201 },
  {
    method: 'PATCH',
    url: '/groups/{Engineering}',
    body: { 'members@odata.bind': hh.scim.inIdOrder(['u-ada', 'u-alan']).map((name) => `{graph}/v1.0/directoryObjects/{${UPN[name]}}`) },
    status: 204,
  },
];
const tenantSwitch = { method: 'PATCH', url: '/organization/{org}', body: { onPremisesSyncEnabled: true }, status: 204 };

async function pushAll(hh: Harness) {
  const scim = hh.scim;
  await scim.createUser('u-boss', boss);
  await scim.createUser('u-ada', ada);
  await scim.createUser('u-alan', alan);
  await scim.createGroup('g-eng', 'Engineering', ['u-ada', 'u-alan']);
  return scim;
}

const graphIdOf = (hh: Harness, upn: string) => String(hh.sim.state.snapshot().users.find((u) => u.userPrincipalName === upn)!.id);

describe('profile-sync', () => {
  it('creates users with the basic set, licenses, immutableId only for the AD-linked user, groups only with groups.push', async () => {
    h = await startHarness({ mode: 'profile-sync', directories: AD_DIRECTORY, overrides: { 'groups.push': true } });
    await pushAll(h);
    // What the ingress recorded by mode, before any Graph write.
    for (const name of ['u-boss', 'u-ada', 'u-alan'])
      expect(await h.scim.bridge(name)).toMatchObject({ source: 'okta', dirSyncEnabled: false, syncState: 'pending' });
    await h.engine.runOnce();
    expect(named(h)).toEqual([
      { method: 'POST', url: '/users', body: { ...basic.boss, passwordProfile: pwd('Boss-Passw0rd!x') }, status: 201 },
      { method: 'POST', url: '/users', body: { ...basic.ada, passwordProfile: pwd('Ada-Passw0rd!x') }, status: 201 },
      { method: 'POST', url: '/users', body: { ...basic.alan, onPremisesImmutableId: GUID_IMMUTABLE, passwordProfile: pwd('Alan-Passw0rd!x') }, status: 201 },
      licenseE3,
      ...groupWrites(h),
    ]);
    expect(passwords(h)).toEqual(SENT);
    expect(await h.scim.bridge('u-ada')).toEqual({
      extensionAttribute1: 'x1',
      officeLocation: 'B1',
      source: 'okta',
      dirSyncEnabled: false,
      graphId: graphIdOf(h, 'ada@example.com'),
      syncState: 'synced',
    });
  });

  it('writes no groups without groups.push and leaves the tenant switch alone', async () => {
    h = await startHarness({ mode: 'profile-sync', directories: AD_DIRECTORY });
    await pushAll(h);
    await h.engine.runOnce();
    expect(named(h).filter((w) => w.url.startsWith('/groups') || w.url.startsWith('/organization'))).toEqual([]);
    expect(h.store.sync.get('Group', h.scim.id('g-eng'))).toMatchObject({
      state: 'skipped',
      graphId: null,
      lastError: 'profile-sync pushes groups only with groups.push: true',
    });
    expect(h.sim.state.snapshot().organization.onPremisesSyncEnabled ?? null).toBeNull();
  });
});

describe.each(['user-sync', 'universal-sync'] as const)('%s', (mode) => {
  it('turns the tenant switch on once, stamps every user, writes the extended set, manager, licenses and groups', async () => {
    h = await startHarness({ mode, directories: AD_DIRECTORY, overrides: { 'graph.allowTenantDirSync': true, 'groups.push': mode === 'user-sync' } });
    const scim = await pushAll(h);
    for (const name of ['u-boss', 'u-ada', 'u-alan']) expect(await scim.bridge(name)).toMatchObject({ dirSyncEnabled: true, syncState: 'pending' });
    await h.engine.runOnce();
    const all = mode === 'universal-sync' ? { onPremisesExtensionAttributes: { extensionAttribute1: 'x1' } } : {};
    expect(named(h)).toEqual([
      tenantSwitch,
      {
        method: 'POST',
        url: '/users',
        body: { ...basic.boss, onPremisesImmutableId: derivedImmutableId(scim.id('u-boss')), passwordProfile: pwd('Boss-Passw0rd!x') },
        status: 201,
      },
      {
        method: 'POST',
        url: '/users',
        body: { ...basic.ada, ...adaExtended, ...all, onPremisesImmutableId: derivedImmutableId(scim.id('u-ada')), passwordProfile: pwd('Ada-Passw0rd!x') },
        status: 201,
      },
      { method: 'POST', url: '/users', body: { ...basic.alan, onPremisesImmutableId: GUID_IMMUTABLE, passwordProfile: pwd('Alan-Passw0rd!x') }, status: 201 },
      licenseE3,
      managerLink,
      ...groupWrites(h),
    ]);
    expect(passwords(h)).toEqual(SENT);
    for (const [name, upn] of [
      ['u-boss', 'boss@example.com'],
      ['u-ada', 'ada@example.com'],
      ['u-alan', 'alan@example.com'],
    ]) {
      expect(await scim.bridge(name)).toMatchObject({ source: 'okta', dirSyncEnabled: true, graphId: graphIdOf(h, upn), syncState: 'synced' });
    }
    h.clearLog();
    await scim.replaceUser('u-boss', { ...boss, password: undefined, displayName: 'Grace B.' });
    await h.engine.runOnce();
    // The switch is not sent again.
    expect(named(h)).toEqual([{ method: 'PATCH', url: '/users/{boss@example.com}', body: { displayName: 'Grace B.' }, status: 204 }]);
  });
});

describe('license-only', () => {
  const seed = {
    users: [
      {
        id: '11111111-1111-4111-8111-111111111111',
        userPrincipalName: 'ada@example.com',
        displayName: 'Ada (tenant)',
        accountEnabled: true,
        usageLocation: 'US',
        mailNickname: 'ada',
      },
      {
        id: '22222222-2222-4222-8222-222222222222',
        userPrincipalName: 'alan.t@example.com',
        displayName: 'Alan (tenant)',
        accountEnabled: true,
        usageLocation: 'US',
        mailNickname: 'alant',
        onPremisesImmutableId: GUID_IMMUTABLE,
      },
    ],
  };

  it('matches existing users by immutableId, then UPN, writes licenses only and never creates', async () => {
    h = await startHarness({ mode: 'license-only', directories: AD_DIRECTORY, seed });
    const scim = h.scim;
    await scim.createUser('u-boss', boss);
    await scim.createUser('u-ada', ada);
    await scim.createUser('u-alan', { ...alan, entitlements: [{ value: E3 }] });
    await h.engine.runOnce();
    expect(named(h)).toEqual([
      licenseE3,
      {
        method: 'POST',
        url: '/users/{alan.t@example.com}/assignLicense',
        body: { addLicenses: [{ disabledPlans: [], skuId: E3 }], removeLicenses: [] },
        status: 200,
      },
    ]);
    expect(await scim.bridge('u-alan')).toMatchObject({
      source: 'okta',
      dirSyncEnabled: false,
      graphId: '22222222-2222-4222-8222-222222222222',
      syncState: 'synced',
    });
    expect(await scim.bridge('u-boss')).toEqual({
      source: 'okta',
      dirSyncEnabled: false,
      syncState: 'error',
      lastSyncError: 'license-only matches existing users only: no Graph user has onPremisesImmutableId (none) or userPrincipalName boss@example.com',
    });
    const tenantAda = h.sim.state.snapshot().users.find((u) => u.userPrincipalName === 'ada@example.com')!;
    expect([tenantAda.displayName, tenantAda.onPremisesImmutableId ?? null]).toEqual(['Ada (tenant)', null]);
  });

  it('writes no groups even with groups.push, never touches the tenant switch, and allows direct edits', async () => {
    h = await startHarness({ mode: 'license-only', seed, overrides: { 'groups.push': true, 'graph.allowTenantDirSync': true } });
    const scim = h.scim;
    await scim.createUser('u-ada', { ...adaAlone, entitlements: [] });
    await scim.createGroup('g-eng', 'Engineering', ['u-ada']);
    await h.engine.runOnce();
    h.sim.state.directory.users.get('11111111-1111-4111-8111-111111111111')!.props.displayName = 'Edited in Entra';
    expect((await h.engine.reconcile({ full: true })).drifted).toEqual([]);
    expect(named(h)).toEqual([]);
    expect(h.store.sync.get('Group', scim.id('g-eng'))).toMatchObject({
      state: 'skipped',
      graphId: null,
      lastError: 'license-only does not push groups to Graph',
    });
    expect(h.sim.state.snapshot().organization.onPremisesSyncEnabled ?? null).toBeNull();
  });

  it('revokes sessions on a password change (tokensValidFrom = now) and writes no password', async () => {
    h = await startHarness({ mode: 'license-only', seed });
    const scim = h.scim;
    await scim.createUser('u-ada', { ...adaAlone, entitlements: [] });
    await h.engine.runOnce();
    // Creation is not a password change.
    expect((await scim.bridge('u-ada')).tokensValidFrom).toBeUndefined();
    const before = Date.now();
    await scim.replaceUser('u-ada', { ...adaAlone, entitlements: [], password: 'N3w-Passw0rd!x' });
    const after = Date.now();
    // The ingress takes the time it accepted the change from the wall clock: read it back.
    const accepted = (await scim.bridge('u-ada')).tokensValidFrom;
    expect(Date.parse(accepted)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(accepted)).toBeLessThanOrEqual(after);
    await h.engine.runOnce();
    expect(named(h)).toEqual([{ method: 'POST', url: '/users/{ada@example.com}/revokeSignInSessions', status: 200 }]);
    expect(h.store.sync.get('User', scim.id('u-ada'))).toMatchObject({
      state: 'synced',
      tokensValidFrom: accepted,
      appliedTokensValidFrom: accepted,
      hasPendingPassword: false,
    });
    expect(await scim.bridge('u-ada')).toMatchObject({ syncState: 'synced', dirSyncEnabled: false, tokensValidFrom: accepted });
  });

  it('on deactivation removes the licenses the bridge assigned, and nothing else', async () => {
    h = await startHarness({ mode: 'license-only', seed });
    const scim = h.scim;
    await scim.createUser('u-ada', adaAlone);
    await h.engine.runOnce();
    h.clearLog();
    await scim.patchUser('u-ada', [{ op: 'replace', path: 'active', value: false }]);
    await h.engine.runOnce();
    expect(named(h)).toEqual([{ method: 'POST', url: '/users/{ada@example.com}/assignLicense', body: { addLicenses: [], removeLicenses: [E3] }, status: 200 }]);
  });
});

it('user-sync writes no groups without groups.push', async () => {
  h = await startHarness({ mode: 'user-sync', directories: AD_DIRECTORY, overrides: { 'graph.allowTenantDirSync': true } });
  await pushAll(h);
  await h.engine.runOnce();
  expect(named(h).filter((w) => w.url.startsWith('/groups'))).toEqual([]);
  expect(h.store.sync.get('Group', h.scim.id('g-eng'))).toMatchObject({
    state: 'skipped',
    graphId: null,
    lastError: 'user-sync pushes groups only with groups.push: true',
  });
});

describe.each(['profile-sync', 'user-sync', 'universal-sync'] as const)('deactivation in %s', (mode) => {
  it('sets accountEnabled false and revokes sessions', async () => {
    h = await startHarness({ mode, overrides: { 'graph.allowTenantDirSync': true } });
    const scim = h.scim;
    await scim.createUser('u-boss', boss);
    await h.engine.runOnce();
    h.clearLog();
    await scim.replaceUser('u-boss', { ...boss, password: undefined, active: false });
    await h.engine.runOnce();
    expect(named(h)).toEqual([
      { method: 'PATCH', url: '/users/{boss@example.com}', body: { accountEnabled: false }, status: 204 },
      { method: 'POST', url: '/users/{boss@example.com}/revokeSignInSessions', status: 200 },
    ]);
  });
});

it('profile-sync stamps onPremisesImmutableId for users in federated domains', async () => {
  h = await startHarness({
    mode: 'profile-sync',
    seed: {
      domains: [
        { name: 'example.com', isDefault: true },
        { name: 'fed.example.com', type: 'Federated' },
      ],
    },
  });
  await h.scim.createUser('u-fed', {
    ...boss,
    schemas: [...boss.schemas, BRIDGE_USER_SCHEMA],
    userName: 'fed@fed.example.com',
    [BRIDGE_USER_SCHEMA]: { immutableId: 'ZmVkLWltbXV0YWJsZQ==' },
  });
  await h.engine.runOnce();
  expect(named(h)[0]).toMatchObject({
    method: 'POST',
    url: '/users',
    body: { userPrincipalName: 'fed@fed.example.com', onPremisesImmutableId: 'ZmVkLWltbXV0YWJsZQ==' },
  });
});
