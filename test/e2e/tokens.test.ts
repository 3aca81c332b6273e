// SPEC section 4: token validity (StsRefreshTokensValidFrom) per mode, and revokeSignInSessions
// only when tokensValidFrom advances past the last applied value. The value is the one the SCIM
// ingress computed, read back from the bridge extension on GET.
import { BRIDGE_USER_SCHEMA } from '../../src/rules/identity';
import { AD_DIRECTORY, alan, boss } from './fixtures';
import { named, passwordOf, startHarness, type Harness } from './harness';

// Password changes of existing users need User-PasswordProfile.ReadWrite.All: these tests grant it.
let h: Harness;
afterEach(async () => h?.close());

const revoke = (upn: string) => ({ method: 'POST', url: `/users/{${upn}}/revokeSignInSessions`, status: 200 });
const PWD_2022 = '133000000000000000';
const PWD_2023 = '133300000000000000';
/** PWD_2023 as UTC: 13,330,000,000 s after 1601-01-01 is 1,685,526,400 s after 1970-01-01. */
const PWD_2023_UTC = '2023-05-31T09:46:40.000Z';

/** A write, and the tokensValidFrom GET reports after it: the wall-clock time it was accepted. */
async function acceptedAt(write: () => Promise<unknown>, name: string): Promise<string> {
  const before = Date.now();
  await write();
  const after = Date.now();
  const value = (await h.scim.bridge(name)).tokensValidFrom;
  expect(Date.parse(value)).toBeGreaterThanOrEqual(before);
  expect(Date.parse(value)).toBeLessThanOrEqual(after);
  return value;
}

it('profile-sync: a password change revokes once, with tokensValidFrom the time it was accepted', async () => {
  h = await startHarness({ mode: 'profile-sync', permissions: 'recommended' });
  const scim = h.scim;
  await scim.createUser('u-boss', boss);
  await h.engine.runOnce();
  // Creation is not a password change.
  expect(named(h).filter((w) => w.url.endsWith('revokeSignInSessions'))).toEqual([]);
  expect((await scim.bridge('u-boss')).tokensValidFrom).toBeUndefined();
  h.clearLog();
  const accepted = await acceptedAt(() => scim.replaceUser('u-boss', { ...boss, password: 'N3w-Passw0rd!x' }), 'u-boss');
  await h.engine.runOnce();
  expect(named(h)).toEqual([
    {
      method: 'PATCH',
      url: '/users/{boss@example.com}',
      body: { passwordProfile: { password: '[redacted]', forceChangePasswordNextSignIn: false } },
      status: 204,
    },
    revoke('boss@example.com'),
  ]);
  expect(passwordOf(h, 'boss@example.com')).toBe('N3w-Passw0rd!x');
  const row = h.store.sync.get('User', scim.id('u-boss'))!;
  const graphUser = h.sim.state.snapshot().users.find((u) => u.userPrincipalName === 'boss@example.com')!;
  expect(row).toMatchObject({
    state: 'synced',
    hasPendingPassword: false,
    tokensValidFrom: accepted,
    appliedTokensValidFrom: accepted,
    graphTokensValidFrom: graphUser.signInSessionsValidFromDateTime,
  });
  expect(await scim.bridge('u-boss')).toEqual({ source: 'okta', dirSyncEnabled: false, tokensValidFrom: accepted, graphId: graphUser.id, syncState: 'synced' });
  h.clearLog();
  await h.engine.runOnce();
  expect(named(h)).toEqual([]);
});

describe.each(['user-sync', 'universal-sync'] as const)('%s', (mode) => {
  const withPwdLastSet = (pwdLastSet: string) => ({ ...alan, password: undefined, [BRIDGE_USER_SCHEMA]: { ...alan[BRIDGE_USER_SCHEMA], pwdLastSet } });

  it('gives an AD-linked user tokensValidFrom = pwdLastSet, revokes once, and a replay revokes nothing', async () => {
    h = await startHarness({ mode, directories: AD_DIRECTORY, permissions: 'recommended', overrides: { 'graph.allowTenantDirSync': true } });
    const scim = h.scim;
    await scim.createUser('u-alan', withPwdLastSet(PWD_2022));
    await h.engine.runOnce();
    h.clearLog();
    await scim.replaceUser('u-alan', withPwdLastSet(PWD_2023));
    const expected = PWD_2023_UTC;
    expect(await scim.bridge('u-alan')).toMatchObject({ dirSyncEnabled: true, tokensValidFrom: expected, syncState: 'pending' });
    await h.engine.runOnce();
    expect(named(h)).toEqual([revoke('alan@example.com')]);
    expect(h.store.sync.get('User', scim.id('u-alan'))).toMatchObject({ tokensValidFrom: expected, appliedTokensValidFrom: expected, dirSyncEnabled: true });
    expect(await scim.bridge('u-alan')).toMatchObject({ dirSyncEnabled: true, tokensValidFrom: expected, syncState: 'synced' });
    h.clearLog();
    await scim.replaceUser('u-alan', withPwdLastSet(PWD_2023));
    await h.engine.runOnce();
    expect(named(h)).toEqual([]);
    expect((await scim.bridge('u-alan')).tokensValidFrom).toBe(expected);
  });

  it('revokes nothing for an out-of-order older pwdLastSet, nor for the newer one sent again after it', async () => {
    h = await startHarness({ mode, directories: AD_DIRECTORY, permissions: 'recommended', overrides: { 'graph.allowTenantDirSync': true } });
    const scim = h.scim;
    await scim.createUser('u-alan', withPwdLastSet(PWD_2022));
    await h.engine.runOnce();
    await scim.replaceUser('u-alan', withPwdLastSet(PWD_2023));
    await h.engine.runOnce();
    const newer = PWD_2023_UTC;
    h.clearLog();
    // The older value arrives late (out of order).
    await scim.replaceUser('u-alan', withPwdLastSet(PWD_2022));
    expect((await scim.bridge('u-alan')).tokensValidFrom).toBe(newer);
    await h.engine.runOnce();
    expect(named(h)).toEqual([]);
    // Again with a password: the password is written, the older pwdLastSet still revokes nothing.
    await scim.replaceUser('u-alan', { ...withPwdLastSet(PWD_2022), password: 'Alan-Passw0rd!y' });
    expect((await scim.bridge('u-alan')).tokensValidFrom).toBe(newer);
    await h.engine.runOnce();
    expect(named(h)).toEqual([
      {
        method: 'PATCH',
        url: '/users/{alan@example.com}',
        body: { passwordProfile: { password: '[redacted]', forceChangePasswordNextSignIn: false } },
        status: 204,
      },
    ]);
    expect(passwordOf(h, 'alan@example.com')).toBe('Alan-Passw0rd!y');
    h.clearLog();
    // The newer value once more: no further than what was applied.
    await scim.replaceUser('u-alan', withPwdLastSet(PWD_2023));
    expect((await scim.bridge('u-alan')).tokensValidFrom).toBe(newer);
    await h.engine.runOnce();
    expect(named(h)).toEqual([]);
    expect(h.store.sync.get('User', scim.id('u-alan'))).toMatchObject({ tokensValidFrom: newer, appliedTokensValidFrom: newer });
  });

  it('gives a cloud user tokensValidFrom = now on a password change', async () => {
    h = await startHarness({ mode, permissions: 'recommended', overrides: { 'graph.allowTenantDirSync': true } });
    const scim = h.scim;
    await scim.createUser('u-boss', boss);
    await h.engine.runOnce();
    h.clearLog();
    const accepted = await acceptedAt(() => scim.replaceUser('u-boss', { ...boss, password: 'N3w-Passw0rd!x' }), 'u-boss');
    await h.engine.runOnce();
    expect(named(h).map((w) => `${w.method} ${w.url}`)).toEqual(['PATCH /users/{boss@example.com}', 'POST /users/{boss@example.com}/revokeSignInSessions']);
    expect(h.store.sync.get('User', scim.id('u-boss'))).toMatchObject({ tokensValidFrom: accepted, appliedTokensValidFrom: accepted });
    expect(await scim.bridge('u-boss')).toMatchObject({ dirSyncEnabled: true, tokensValidFrom: accepted, syncState: 'synced' });
  });
});

it('profile-sync: an advanced pwdLastSet is a password change, and its tokensValidFrom is now, not pwdLastSet', async () => {
  h = await startHarness({ mode: 'profile-sync', directories: AD_DIRECTORY, permissions: 'recommended' });
  const scim = h.scim;
  const withPwdLastSet = (pwdLastSet: string) => ({ ...alan, password: undefined, [BRIDGE_USER_SCHEMA]: { ...alan[BRIDGE_USER_SCHEMA], pwdLastSet } });
  await scim.createUser('u-alan', withPwdLastSet(PWD_2022));
  await h.engine.runOnce();
  h.clearLog();
  const accepted = await acceptedAt(() => scim.replaceUser('u-alan', withPwdLastSet(PWD_2023)), 'u-alan');
  await h.engine.runOnce();
  expect(named(h)).toEqual([revoke('alan@example.com')]);
  expect(await scim.bridge('u-alan')).toMatchObject({ dirSyncEnabled: false, tokensValidFrom: accepted, syncState: 'synced' });
});

describe.each(['user-sync', 'universal-sync'] as const)('%s, AD-linked user', (mode) => {
  it('without pwdLastSet (0) a password change gives tokensValidFrom = now', async () => {
    h = await startHarness({ mode, directories: AD_DIRECTORY, permissions: 'recommended', overrides: { 'graph.allowTenantDirSync': true } });
    const scim = h.scim;
    const noPwdLastSet = { ...alan, [BRIDGE_USER_SCHEMA]: { ...alan[BRIDGE_USER_SCHEMA], pwdLastSet: '0' } };
    await scim.createUser('u-alan', noPwdLastSet);
    await h.engine.runOnce();
    h.clearLog();
    const accepted = await acceptedAt(() => scim.replaceUser('u-alan', { ...noPwdLastSet, password: 'N3w-Passw0rd!x' }), 'u-alan');
    await h.engine.runOnce();
    expect(named(h)).toEqual([
      {
        method: 'PATCH',
        url: '/users/{alan@example.com}',
        body: { passwordProfile: { password: '[redacted]', forceChangePasswordNextSignIn: false } },
        status: 204,
      },
      revoke('alan@example.com'),
    ]);
    expect(passwordOf(h, 'alan@example.com')).toBe('N3w-Passw0rd!x');
    expect(await scim.bridge('u-alan')).toMatchObject({ dirSyncEnabled: true, tokensValidFrom: accepted, syncState: 'synced' });
  });

  it('linked by objectGUID alone (the source has exactly one ad directory) gets tokensValidFrom = pwdLastSet', async () => {
    h = await startHarness({ mode, directories: AD_DIRECTORY, permissions: 'recommended', overrides: { 'graph.allowTenantDirSync': true } });
    const scim = h.scim;
    const { sourceDirectory: _none, ...guidOnly } = alan[BRIDGE_USER_SCHEMA];
    const user = (pwdLastSet: string) => ({ ...alan, password: undefined, [BRIDGE_USER_SCHEMA]: { ...guidOnly, pwdLastSet } });
    await scim.createUser('u-alan', user(PWD_2022));
    await h.engine.runOnce();
    h.clearLog();
    await scim.replaceUser('u-alan', user(PWD_2023));
    await h.engine.runOnce();
    expect(named(h)).toEqual([revoke('alan@example.com')]);
    expect(await scim.bridge('u-alan')).toMatchObject({ dirSyncEnabled: true, tokensValidFrom: PWD_2023_UTC, syncState: 'synced' });
  });
});
