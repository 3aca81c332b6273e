// SPEC section 4: token validity (StsRefreshTokensValidFrom) per mode, and revokeSignInSessions
// only when tokensValidFrom advances past the last applied value.
import { BRIDGE_USER_SCHEMA, pwdLastSetToDate } from '../../src/graph/identity';
import { AD_DIRECTORY, alan, boss } from './fixtures';
import { named, startHarness, type Harness } from './harness';
import { createIngress } from './ingress';

let h: Harness;
afterEach(async () => h?.close());

const revoke = (upn: string) => ({ method: 'POST', url: `/users/{${upn}}/revokeSignInSessions`, status: 200 });
const PWD_2022 = '133000000000000000';
const PWD_2023 = '133300000000000000';

it('profile-sync: a password change revokes once, with tokensValidFrom the time it was accepted', async () => {
  h = await startHarness({ mode: 'profile-sync' });
  const accepted = new Date('2026-11-26T10:00:00.000Z');
  const scim = createIngress(h.store, 'profile-sync', 'okta', () => accepted);
  scim.createUser('u-boss', boss);
  await h.engine.runOnce();
  // Creation is not a password change.
  expect(named(h).filter((w) => w.url.endsWith('revokeSignInSessions'))).toEqual([]);
  h.clearLog();
  scim.replaceUser('u-boss', { ...boss, password: 'N3w-Passw0rd!x' });
  await h.engine.runOnce();
  expect(named(h)).toEqual([
    { method: 'PATCH', url: '/users/{boss@example.com}', body: { passwordProfile: { password: 'N3w-Passw0rd!x', forceChangePasswordNextSignIn: false } }, status: 204 },
    revoke('boss@example.com'),
  ]);
  const row = h.store.sync.get('User', 'u-boss')!;
  const graphUser = h.sim.state.snapshot().users.find((u) => u.userPrincipalName === 'boss@example.com')!;
  expect(row).toMatchObject({ state: 'synced', pendingPassword: null, tokensValidFrom: accepted.toISOString(), appliedTokensValidFrom: accepted.toISOString(), graphTokensValidFrom: graphUser.signInSessionsValidFromDateTime });
  h.clearLog();
  await h.engine.runOnce();
  expect(named(h)).toEqual([]);
});

describe.each(['user-sync', 'universal-sync'] as const)('%s', (mode) => {
  it('gives an AD-linked user tokensValidFrom = pwdLastSet, revokes once, and a replay revokes nothing', async () => {
    h = await startHarness({ mode, directories: AD_DIRECTORY, overrides: { 'graph.allowTenantDirSync': true } });
    const scim = createIngress(h.store, mode);
    const user = { ...alan, password: undefined };
    scim.createUser('u-alan', { ...user, [BRIDGE_USER_SCHEMA]: { ...alan[BRIDGE_USER_SCHEMA], pwdLastSet: PWD_2022 } });
    await h.engine.runOnce();
    h.clearLog();
    const advanced = { ...user, [BRIDGE_USER_SCHEMA]: { ...alan[BRIDGE_USER_SCHEMA], pwdLastSet: PWD_2023 } };
    scim.replaceUser('u-alan', advanced);
    await h.engine.runOnce();
    expect(named(h)).toEqual([revoke('alan@example.com')]);
    const expected = pwdLastSetToDate(PWD_2023)!.toISOString();
    expect(h.store.sync.get('User', 'u-alan')).toMatchObject({ tokensValidFrom: expected, appliedTokensValidFrom: expected, dirSyncEnabled: true });
    h.clearLog();
    scim.replaceUser('u-alan', advanced);
    await h.engine.runOnce();
    expect(named(h)).toEqual([]);
  });

  it('revokes nothing for an out-of-order older tokensValidFrom', async () => {
    h = await startHarness({ mode, directories: AD_DIRECTORY, overrides: { 'graph.allowTenantDirSync': true } });
    const scim = createIngress(h.store, mode);
    scim.createUser('u-alan', { ...alan, password: undefined, [BRIDGE_USER_SCHEMA]: { ...alan[BRIDGE_USER_SCHEMA], pwdLastSet: PWD_2022 } });
    await h.engine.runOnce();
    h.store.users.replace('u-alan', h.store.users.get('u-alan')!.data, { sourceId: 'okta', sync: { tokensValidFrom: pwdLastSetToDate(PWD_2023)!.toISOString() } });
    await h.engine.runOnce();
    h.clearLog();
    h.store.users.replace('u-alan', h.store.users.get('u-alan')!.data, { sourceId: 'okta', sync: { tokensValidFrom: pwdLastSetToDate(PWD_2022)!.toISOString() } });
    await h.engine.runOnce();
    expect(named(h)).toEqual([]);
  });

  it('gives a cloud user tokensValidFrom = now on a password change', async () => {
    h = await startHarness({ mode, overrides: { 'graph.allowTenantDirSync': true } });
    const accepted = new Date('2026-11-26T11:00:00.000Z');
    const scim = createIngress(h.store, mode, 'okta', () => accepted);
    scim.createUser('u-boss', boss);
    await h.engine.runOnce();
    h.clearLog();
    scim.replaceUser('u-boss', { ...boss, password: 'N3w-Passw0rd!x' });
    await h.engine.runOnce();
    expect(named(h).map((w) => `${w.method} ${w.url}`)).toEqual(['PATCH /users/{boss@example.com}', 'POST /users/{boss@example.com}/revokeSignInSessions']);
    expect(h.store.sync.get('User', 'u-boss')).toMatchObject({ tokensValidFrom: accepted.toISOString(), appliedTokensValidFrom: accepted.toISOString() });
  });
});
