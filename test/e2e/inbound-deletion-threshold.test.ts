// The deletion threshold (SPEC section 7) under the inbound writer: a deactivation the provisioning
// service applied counts towards the source's hour like one the direct writer applied, so the next
// deactivations past deletionThreshold are held.
import { boss, INBOUND_JOB, INBOUND_SP, quickInboundApp } from './fixtures';
import { startHarness, type Harness } from './harness';

const SP = INBOUND_SP;
const JOB = INBOUND_JOB.entra;

let h: Harness;
afterEach(async () => h?.close());

const person = (n: number) => ({ ...boss, userName: `p${n}@example.com`, displayName: `Person ${n}`, password: undefined });
const deactivate = (name: string) => h.scim.patchUser(name, [{ op: 'replace', path: 'active', value: false }]);
const graphUser = (upn: string) => h.sim.state.snapshot().users.find((u) => u.userPrincipalName === upn);

/** Runs the engine until none of the named rows is pending, at most `runs` runs. */
async function settle(names: string[], runs = 10): Promise<void> {
  for (let i = 0; i < runs; i++) {
    await h.engine.runOnce();
    if (names.every((n) => h.store.sync.get('User', h.scim.id(n))?.state !== 'pending')) return;
  }
}

/** The simulator's inbound app, processing and logging at once, with usageLocation mapped. */
const configureApp = () => h.sim.inbound.configure(quickInboundApp());

test('inbound writer: deactivations the service applied count towards deletionThreshold within the hour', async () => {
  h = await startHarness({
    mode: 'profile-sync',
    permissions: 'recommended',
    overrides: {
      deletionThreshold: 2,
      'graph.writer': 'inbound',
      'graph.inbound': { servicePrincipalId: SP, jobId: JOB, target: 'entra', pollSeconds: 0.001 },
    },
  });
  configureApp();
  const names = [1, 2, 3].map((n) => `u-${n}`);
  for (const [i, name] of names.entries()) await h.scim.createUser(name, person(i + 1));
  await settle(names);
  expect(names.map((n) => h.store.sync.get('User', h.scim.id(n))?.state)).toEqual(['synced', 'synced', 'synced']);

  await deactivate('u-1');
  await deactivate('u-2');
  await settle(['u-1', 'u-2']);
  expect([graphUser('p1@example.com')?.accountEnabled, graphUser('p2@example.com')?.accountEnabled]).toEqual([false, false]);

  // Two this hour already: a third is past the threshold and waits for approval.
  await deactivate('u-3');
  await h.engine.runOnce();
  await h.engine.runOnce();
  expect(h.engine.status().pendingDeletions).toEqual([{ sourceId: 'okta', pending: 1, recent: 2 }]);
  expect(graphUser('p3@example.com')?.accountEnabled).toBe(true);
  expect(h.engine.approveDeletions()).toMatchObject({ approved: 1 });
  await settle(['u-3']);
  expect(graphUser('p3@example.com')?.accountEnabled).toBe(false);
});

test('inbound writer: a password change revokes once; a later profile update revokes nothing (SPEC section 4)', async () => {
  h = await startHarness({
    mode: 'profile-sync',
    permissions: 'recommended',
    overrides: { 'graph.writer': 'inbound', 'graph.inbound': { servicePrincipalId: SP, jobId: JOB, target: 'entra', pollSeconds: 0.001 } },
  });
  configureApp();
  const revokes = () => h.sim.requests.list({ method: 'POST' }).filter((e) => /revokeSignInSessions$/.test(e.url)).length;
  await h.scim.createUser('u-1', person(1));
  await settle(['u-1']);
  expect(revokes()).toBe(0);
  await h.scim.patchUser('u-1', [{ op: 'replace', path: 'password', value: 'N3w-secret!x' }]);
  await settle(['u-1']);
  expect(revokes()).toBe(1);
  await h.scim.patchUser('u-1', [{ op: 'replace', path: 'displayName', value: 'Person One' }]);
  await settle(['u-1']);
  expect(graphUser('p1@example.com')?.displayName).toBe('Person One');
  expect(revokes()).toBe(1);
});

test('inbound writer with the AD target: dirSyncEnabled is what Graph reports, even in profile-sync, and unknown until then', async () => {
  const ADJOB = INBOUND_JOB.ad;
  h = await startHarness({
    mode: 'profile-sync',
    permissions: 'recommended',
    overrides: { 'graph.writer': 'inbound', 'graph.inbound': { servicePrincipalId: SP, jobId: ADJOB, target: 'ad', pollSeconds: 0.001 } },
  });
  h.sim.inbound.configure({ servicePrincipalId: SP, jobId: ADJOB, target: 'ad', processingDelayMs: 0, logDelayMs: 0 });
  await h.scim.createUser('u-1', person(1));
  expect((await h.scim.bridge('u-1')).dirSyncEnabled).toBeUndefined();
  await settle(['u-1']);
  expect(await h.scim.bridge('u-1')).toMatchObject({ syncState: 'synced', dirSyncEnabled: true });
});
