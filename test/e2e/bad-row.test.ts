// One bad resource never stops the others: whatever one row raises while it is planned or applied
// puts that row in error with the reason, and every other row still reaches Graph. The bad rows are
// written straight into the store (as data stored before ingress refused such values would be).
import { boss } from './fixtures';
import { named, startHarness, type Harness } from './harness';
import { CORE_GROUP, CORE_USER } from './ingress';

let h: Harness;
afterEach(async () => h?.close());

const LONE_SURROGATE = '\ud800x@example.com';

it('a userName with a lone surrogate puts that user in error, and another source user still reaches Graph', async () => {
  h = await startHarness({ mode: 'profile-sync', extraSources: [{ id: 'entra', token: 'entra-token-0123456789abcdef' }] });
  const bad = h.store.users.create(
    { schemas: [CORE_USER], userName: LONE_SURROGATE, displayName: 'Bad', active: true },
    { sourceId: 'okta', sync: { dirSyncEnabled: false } },
  ).id;
  await h.scim.createUser('u-boss', { ...boss, password: undefined });
  const summary = await h.engine.runOnce();
  expect(summary.error).toBeUndefined();
  expect(named(h).map((w) => `${w.method} ${w.url} ${w.status} ${(w.body as { userPrincipalName?: string }).userPrincipalName}`)).toEqual([
    'POST /users 201 boss@example.com',
  ]);
  expect(await h.scim.bridge('u-boss')).toMatchObject({ syncState: 'synced' });
  expect(h.store.sync.get('User', bad)).toMatchObject({ state: 'error', lastError: 'the bridge failed on this resource (fix it, or retry): URI malformed' });
  // The row waits for a change or retry: the next run sends nothing and fails nothing.
  h.clearLog();
  const again = await h.engine.runOnce();
  expect([named(h), again.error, h.engine.status().consecutiveFailedRuns]).toEqual([[], undefined, 0]);
});

it('a group displayName with a lone surrogate puts that group in error, and another group still reaches Graph', async () => {
  h = await startHarness({ mode: 'profile-sync', overrides: { 'groups.push': true } });
  const bad = h.store.groups.create({ schemas: [CORE_GROUP], displayName: '\udc00 Admins' }, { sourceId: 'okta' }).id;
  await h.scim.createGroup('g-ok', 'Engineers', []);
  const summary = await h.engine.runOnce();
  expect(summary.error).toBeUndefined();
  expect(named(h).map((w) => `${w.method} ${w.url} ${w.status} ${(w.body as { displayName?: string }).displayName}`)).toEqual(['POST /groups 201 Engineers']);
  expect(h.store.sync.get('Group', h.scim.id('g-ok'))).toMatchObject({ state: 'synced' });
  expect(h.store.sync.get('Group', bad)).toMatchObject({ state: 'error', lastError: 'the bridge failed on this resource (fix it, or retry): URI malformed' });
});

it('runs that fail as a whole show in engine status and clear once a run completes', async () => {
  h = await startHarness({ mode: 'profile-sync' });
  await h.scim.createUser('u-boss', { ...boss, password: undefined });
  await h.engine.runOnce();
  const listDue = jest.spyOn(h.store.sync, 'listDue').mockImplementation(() => {
    throw new Error('database disk image is malformed');
  });
  await h.scim.patchUser('u-boss', [{ op: 'replace', path: 'displayName', value: 'Grace B' }]);
  await h.engine.runOnce();
  const second = await h.engine.runOnce();
  expect(second.error).toBe('database disk image is malformed');
  expect(h.engine.status()).toMatchObject({ consecutiveFailedRuns: 2, failedRuns: 2, lastRunError: { message: 'database disk image is malformed' } });
  listDue.mockRestore();
  await h.engine.runOnce();
  expect(h.engine.status()).toMatchObject({ consecutiveFailedRuns: 0, failedRuns: 2, lastRunError: null });
  expect(await h.scim.bridge('u-boss')).toMatchObject({ syncState: 'synced' });
});
