// graph.writer "inbound" end to end against the simulator's API-driven inbound provisioning app:
// the exact bulkUpload bodies the bridge sends, the provisioning log followed back to each user's
// syncState, and the Graph side (licences, passwords, revocation) once the user exists; both targets.
import type { Mode } from '../../src/config';
import { inboundKey } from '../../src/graph/inbound';
import { BRIDGE_USER_SCHEMA } from '../../src/rules/identity';
import { adaAlone, boss, INBOUND_JOB, INBOUND_SP, quickInboundApp } from './fixtures';
import { manualClock } from '../../src/sync/clock';
import { E3, named, startHarness, type Harness } from './harness';
import { CORE_USER, ENTERPRISE } from './ingress';

const SP = INBOUND_SP;
const JOB = INBOUND_JOB;

let h: Harness;
afterEach(async () => h?.close());

async function start(target: 'entra' | 'ad', mode: Mode = target === 'ad' ? 'user-sync' : 'profile-sync', overrides: Record<string, unknown> = {}) {
  h = await startHarness({
    mode,
    // Synchronization.Read.All (recommended) lets preflight read the job.
    permissions: 'recommended',
    overrides: {
      'graph.writer': 'inbound',
      'graph.inbound': { servicePrincipalId: SP, jobId: JOB[target], target, pollSeconds: 0.001 },
      ...overrides,
    },
  });
  // The app's attribute list carries the bridge extension's usageLocation (docs/inbound-writer.md).
  h.sim.inbound.configure(quickInboundApp(target));
  return h;
}

/** The bulkUpload requests the bridge sent, with their bodies (the simulator answers 400 without application/scim+json). */
const uploads = () =>
  h.sim.requests
    .list({ method: 'POST' })
    .filter((e) => /\/bulkUpload$/.test(e.url))
    .map((e) => ({ url: e.url, status: e.status, body: e.requestBody }));

/** Runs the engine until the resource's row is settled (not pending), at most `runs` runs. */
async function settle(name: string, runs = 8): Promise<void> {
  for (let i = 0; i < runs; i++) {
    await h.engine.runOnce();
    const row = h.store.sync.get('User', h.scim.id(name));
    if (row && row.state !== 'pending') return;
  }
}

const key = (name: string) => inboundKey(h.scim.id(name));
const graphUser = (upn: string) => h.sim.state.snapshot().users.find((u) => u.userPrincipalName === upn);

describe.each(['entra', 'ad'] as const)('target %s', (target) => {
  it('creates a user through bulkUpload with the exact record, learns its Graph id from the log, then licenses it through Graph', async () => {
    await start(target);
    await h.scim.createUser('u-ada', { ...adaAlone, password: undefined });
    await settle('u-ada');
    const k = key('u-ada');
    const data: Record<string, unknown> = {
      schemas: [CORE_USER, ENTERPRISE, BRIDGE_USER_SCHEMA],
      externalId: k,
      userName: 'ada@example.com',
      displayName: 'Ada Lovelace',
      name: { givenName: 'Ada', familyName: 'Lovelace' },
      active: true,
      [BRIDGE_USER_SCHEMA]: { mailNickname: 'ada', usageLocation: 'US' },
    };
    if (target === 'ad') {
      // user-sync: the extended set too.
      Object.assign(data, {
        title: 'Engineer',
        userType: 'Employee',
        preferredLanguage: 'en-US',
        emails: [
          { value: 'ada@example.com', type: 'work', primary: true },
          { value: 'ada@home.example', type: 'other' },
        ],
        phoneNumbers: [
          { value: '+1 555 0100', type: 'work' },
          { value: '+1 555 0101', type: 'mobile' },
        ],
        addresses: [{ type: 'work', streetAddress: '1 Main St', locality: 'Springfield', region: 'IL', postalCode: '62701', country: 'US' }],
        [ENTERPRISE]: { employeeNumber: '1001', department: 'R&D', organization: 'Contoso', costCenter: 'CC1', division: 'DIV1' },
        [BRIDGE_USER_SCHEMA]: { mailNickname: 'ada', usageLocation: 'US', officeLocation: 'B1' },
      });
    }
    expect(uploads()).toEqual([
      {
        url: `/servicePrincipals/${SP}/synchronization/jobs/${JOB[target]}/bulkUpload`,
        status: 202,
        body: {
          schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
          Operations: [{ method: 'POST', bulkId: `${k}.1`, path: '/Users', data }],
          failOnErrors: null,
        },
      },
    ]);
    const user = graphUser('ada@example.com');
    expect(user).toMatchObject({ employeeId: k, accountEnabled: true, usageLocation: 'US', onPremisesSyncEnabled: target === 'ad' ? true : null });
    expect(await h.scim.bridge('u-ada')).toMatchObject({ syncState: 'synced', graphId: user?.id });
    // With the AD target, dirSyncEnabled is what Graph reports for the synced user; the direct writer's meaning otherwise.
    expect((await h.scim.bridge('u-ada')).dirSyncEnabled).toBe(target === 'ad' ? true : false);
    // The bridge's own Graph writes: the licence only; the profile was the provisioning service's.
    expect(named(h).filter((w) => !/bulkUpload/.test(w.url))).toEqual([
      {
        method: 'POST',
        url: '/users/{ada@example.com}/assignLicense',
        body: { addLicenses: [{ disabledPlans: [], skuId: E3 }], removeLicenses: [] },
        status: 200,
      },
    ]);
  });
});

describe.each(['entra', 'ad'] as const)('target %s: changes', (target) => {
  async function provisioned() {
    await start(target);
    await h.scim.createUser('u-boss', { ...boss, password: undefined });
    await settle('u-boss');
    expect(await h.scim.bridge('u-boss')).toMatchObject({ syncState: 'synced' });
    h.clearLog();
    return graphUser('boss@example.com')!;
  }

  it('an update is one record with the new state; the profile is not written through Graph', async () => {
    const before = await provisioned();
    await h.scim.patchUser('u-boss', [{ op: 'replace', path: 'displayName', value: 'Grace M. Boss' }]);
    await settle('u-boss');
    const k = key('u-boss');
    expect(uploads().map((u) => u.body)).toEqual([
      {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
        Operations: [
          {
            method: 'POST',
            bulkId: `${k}.2`,
            path: '/Users',
            data: {
              schemas: [CORE_USER, ENTERPRISE, BRIDGE_USER_SCHEMA],
              externalId: k,
              userName: 'boss@example.com',
              displayName: 'Grace M. Boss',
              name: { givenName: 'Grace', familyName: 'Boss' },
              active: true,
              [BRIDGE_USER_SCHEMA]: { mailNickname: 'boss', usageLocation: 'US' },
            },
          },
        ],
        failOnErrors: null,
      },
    ]);
    expect(named(h).filter((w) => !/bulkUpload/.test(w.url))).toEqual([]);
    expect(graphUser('boss@example.com')).toMatchObject({ id: before.id, displayName: 'Grace M. Boss' });
    expect(await h.scim.bridge('u-boss')).toMatchObject({ syncState: 'synced', graphId: before.id });
  });

  it('a deactivation is a record with active false, and the sessions are revoked through Graph at once', async () => {
    const before = await provisioned();
    await h.scim.patchUser('u-boss', [{ op: 'replace', path: 'active', value: false }]);
    // One run: the record is staged and sent, the revoke is not left waiting for the service.
    h.sim.inbound.update(SP, JOB[target], { state: 'Paused' });
    await h.engine.runOnce();
    expect(named(h)).toEqual([
      { method: 'POST', url: '/users/{boss@example.com}/revokeSignInSessions', status: 200 },
      expect.objectContaining({ method: 'POST', url: `/servicePrincipals/${SP}/synchronization/jobs/${JOB[target]}/bulkUpload`, status: 202 }),
    ]);
    expect((uploads()[0].body as { Operations: { data: { active: boolean } }[] }).Operations[0].data.active).toBe(false);
    expect(graphUser('boss@example.com')).toMatchObject({ accountEnabled: true });
    expect(await h.scim.bridge('u-boss')).toMatchObject({ syncState: 'pending' });
    expect(h.engine.status().inbound).toEqual({ queued: 0, sent: 1, awaiting: 0 });
    h.sim.inbound.update(SP, JOB[target], { state: 'Active' });
    await settle('u-boss');
    expect(graphUser('boss@example.com')).toMatchObject({ id: before.id, accountEnabled: false });
    expect(await h.scim.bridge('u-boss')).toMatchObject({ syncState: 'synced' });
    // Revoked once: the Graph side does not revoke again.
    expect(named(h).filter((w) => /revokeSignInSessions/.test(w.url))).toHaveLength(1);
  });

  it('a SCIM delete disables the user through the app (the API does not delete) and revokes its sessions', async () => {
    const before = await provisioned();
    await h.scim.deleteUser('u-boss');
    await settle('u-boss');
    const k = key('u-boss');
    expect(uploads().map((u) => (u.body as { Operations: unknown[] }).Operations)).toEqual([
      [
        {
          method: 'POST',
          bulkId: `${k}.2`,
          path: '/Users',
          data: {
            schemas: [CORE_USER, ENTERPRISE, BRIDGE_USER_SCHEMA],
            externalId: k,
            userName: 'boss@example.com',
            displayName: 'Grace Boss',
            name: { givenName: 'Grace', familyName: 'Boss' },
            active: false,
            [BRIDGE_USER_SCHEMA]: { mailNickname: 'boss', usageLocation: 'US' },
          },
        },
      ],
    ]);
    expect(named(h).filter((w) => !/bulkUpload/.test(w.url))).toEqual([{ method: 'POST', url: '/users/{boss@example.com}/revokeSignInSessions', status: 200 }]);
    expect(graphUser('boss@example.com')).toMatchObject({ id: before.id, accountEnabled: false });
    expect(h.store.sync.get('User', h.scim.id('u-boss'))).toMatchObject({ state: 'synced', deleted: true });
    const audit = h.store.audit.list({ resourceId: h.scim.id('u-boss') }).filter((a) => a.action.startsWith('sync.deprovision'));
    expect(audit.map((a) => [a.action, a.detail])).toEqual([['sync.deprovision.disable', { graphId: before.id, via: 'inbound' }]]);
  });

  it("a record the service refuses puts the user in error with Entra's reason, and nothing more is sent for it", async () => {
    await start(target);
    await h.scim.createUser('u-boss', { ...boss, password: undefined });
    h.sim.inbound.failNext(key('u-boss'), {
      errorCode: 'AzureActiveDirectoryInvalidUserPrincipalName',
      reason: 'The UPN is in use.',
      errorCategory: 'nonServiceFailure',
    });
    await settle('u-boss');
    expect(await h.scim.bridge('u-boss')).toMatchObject({
      syncState: 'error',
      lastSyncError: 'the provisioning service refused the record: AzureActiveDirectoryInvalidUserPrincipalName: The UPN is in use.',
    });
    expect(uploads()).toHaveLength(1);
    await h.engine.runOnce();
    expect(uploads()).toHaveLength(1);
    expect(graphUser('boss@example.com')).toBeUndefined();
  });
});

describe('around the records', () => {
  it('the password of a cloud user goes through Graph once the service created the user; an AD user gets none from the bridge', async () => {
    for (const target of ['entra', 'ad'] as const) {
      h = await startHarness({
        mode: target === 'ad' ? 'user-sync' : 'profile-sync',
        permissions: 'recommended',
        overrides: { 'graph.writer': 'inbound', 'graph.inbound': { servicePrincipalId: SP, jobId: JOB[target], target, pollSeconds: 0.001 } },
      });
      h.sim.inbound.configure({ servicePrincipalId: SP, jobId: JOB[target], target, processingDelayMs: 0, logDelayMs: 0 });
      await h.scim.createUser('u-boss', boss);
      await settle('u-boss');
      expect(await h.scim.bridge('u-boss')).toMatchObject({ syncState: 'synced' });
      const graphSide = named(h).filter((w) => !/bulkUpload/.test(w.url));
      // The record never carries the password.
      expect(JSON.stringify(uploads())).not.toContain('Boss-Passw0rd');
      expect([target, graphSide]).toEqual([
        target,
        target === 'entra'
          ? [
              {
                method: 'PATCH',
                url: '/users/{boss@example.com}',
                body: { passwordProfile: { password: '[redacted]', forceChangePasswordNextSignIn: false } },
                status: 204,
              },
            ]
          : [],
      ]);
      expect(h.store.sync.get('User', h.scim.id('u-boss'))).toMatchObject({ hasPendingPassword: false });
      await h.close();
    }
  });

  it('preflight blocks while the job is paused or quarantined, and while the AD agent is inactive', async () => {
    await start('ad');
    expect((await h.engine.preflight()).blocked).toEqual([]);
    h.sim.inbound.update(SP, JOB.ad, { state: 'Paused' });
    expect((await h.engine.preflight()).blocked).toEqual([
      `the inbound provisioning job ${JOB.ad} is Paused, not running: start provisioning in the Entra admin center; records sent now would wait`,
    ]);
    h.sim.inbound.update(SP, JOB.ad, { state: 'Quarantine', quarantineReason: 'EncounteredQuarantineException' });
    expect((await h.engine.preflight()).blocked).toEqual([
      `the inbound provisioning job ${JOB.ad} is in quarantine (EncounteredQuarantineException); fix it in the Entra admin center and restart provisioning`,
    ]);
    h.sim.inbound.update(SP, JOB.ad, { state: 'Active', agentActive: false });
    expect((await h.engine.preflight()).blocked).toEqual([]);
    // Graph tells of the agent once a cycle found it inactive with records to process.
    await h.scim.createUser('u-boss', { ...boss, password: undefined });
    await h.engine.runOnce();
    h.sim.inbound.process();
    expect((await h.engine.preflight()).blocked).toEqual([
      expect.stringMatching(new RegExp(`^the inbound provisioning job ${JOB.ad} reports its on-premises provisioning agent unavailable \\(AgentUnavailable: `)),
    ]);
  });

  it('a failure the service reports as its own is sent again, and the user is created on the next try', async () => {
    await start('entra');
    await h.scim.createUser('u-boss', { ...boss, password: undefined });
    h.sim.inbound.failNext(key('u-boss'), { errorCode: 'SystemForCrossDomainIdentityManagementServiceTimeout', reason: 'Timed out', errorCategory: 'failure' });
    await settle('u-boss', 12);
    expect(await h.scim.bridge('u-boss')).toMatchObject({ syncState: 'synced', graphId: graphUser('boss@example.com')?.id });
    expect(uploads().map((u) => (u.body as { Operations: { bulkId: string }[] }).Operations.map((o) => o.bulkId))).toEqual([
      [`${key('u-boss')}.1`],
      [`${key('u-boss')}.1`],
    ]);
  });
});

it('log entries that appear 5 to 10 minutes late and out of order still settle every record once', async () => {
  h = await startHarness({
    mode: 'profile-sync',
    timeScale: 600,
    overrides: { 'graph.writer': 'inbound', 'graph.inbound': { servicePrincipalId: SP, jobId: JOB.entra, target: 'entra' } },
  });
  h.sim.inbound.configure({ servicePrincipalId: SP, jobId: JOB.entra, target: 'entra', logDelayMs: 300_000, logDelayJitterMs: 300_000 });
  for (let i = 0; i < 60; i++) await h.scim.createUser(`u${i}`, { ...boss, userName: `p${i}@example.com`, displayName: `Person ${i}`, password: undefined });
  h.engine.start();
  const deadline = Date.now() + 60_000;
  while (h.engine.status().counts.synced < 60 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  expect(h.engine.status().counts).toMatchObject({ synced: 60, pending: 0, error: 0 });
  const ids = Array.from({ length: 60 }, (_, i) => h.store.sync.get('User', h.scim.id(`u${i}`))!.graphId);
  expect(new Set(ids).size).toBe(60);
  expect(h.sim.state.snapshot().users).toHaveLength(60);
  expect(uploads().flatMap((u) => (u.body as { Operations: unknown[] }).Operations)).toHaveLength(60);
});

it('universal-sync with the AD target: a group and its memberships go through Graph once its members exist', async () => {
  await start('ad', 'universal-sync');
  await h.scim.createUser('u-boss', { ...boss, password: undefined });
  await h.scim.createUser('u-ada', { ...adaAlone, password: undefined, entitlements: [] });
  await h.scim.createGroup('g-eng', 'Engineers', ['u-boss', 'u-ada']);
  for (let i = 0; i < 10 && h.store.sync.get('Group', h.scim.id('g-eng'))?.state !== 'synced'; i++) {
    await h.engine.runOnce();
    // The group waits for its members with a short backoff: let it come due.
    await new Promise((r) => setTimeout(r, 300));
  }
  const snap = h.sim.state.snapshot();
  const group = snap.groups.find((g) => g.displayName === 'Engineers');
  const ids = ['boss@example.com', 'ada@example.com'].map((upn) => snap.users.find((u) => u.userPrincipalName === upn)?.id);
  expect(snap.users.filter((u) => ids.includes(u.id)).map((u) => u.onPremisesSyncEnabled)).toEqual([true, true]);
  expect([...((group?.members as string[]) ?? [])].sort()).toEqual([...ids].sort());
  expect(h.store.sync.get('Group', h.scim.id('g-eng'))).toMatchObject({ state: 'synced' });
});

it('a user deleted while its create is still with the service is disabled right after it is created', async () => {
  await start('entra');
  // The service holds records for an hour.
  h.sim.inbound.update(SP, JOB.entra, { processingDelayMs: 3_600_000 });
  await h.scim.createUser('u-boss', { ...boss, password: undefined });
  await h.engine.runOnce();
  await h.scim.deleteUser('u-boss');
  await h.engine.runOnce();
  expect(uploads().map((u) => (u.body as { Operations: { data: { active: boolean } }[] }).Operations.map((o) => o.data.active))).toEqual([[true], [false]]);
  expect(graphUser('boss@example.com')).toBeUndefined();
  h.sim.inbound.process();
  await settle('u-boss');
  expect(graphUser('boss@example.com')).toMatchObject({ accountEnabled: false });
  expect(h.store.sync.get('User', h.scim.id('u-boss'))).toMatchObject({ state: 'synced', deleted: true, graphId: graphUser('boss@example.com')?.id });
});

describe('a long provisioning log', () => {
  /**
   * A harness whose engine and simulator budgets share one manual clock, a paused job holding the bridge's
   * record of u-ada (sent), and `others` entries of the same job from another client of the app, logged after
   * the bridge's 202 (`spacing` ms apart, whole seconds) and before the bridge's own record, which the job
   * processes once it runs again, `runAfterMs` later.
   */
  async function longLog(others: number, spacing: number, runAfterMs: number) {
    const clock = manualClock(Date.parse('2026-12-01T09:00:00Z'));
    h = await startHarness({
      mode: 'profile-sync',
      throttling: true,
      sim: { clock: { timeScale: 1, now: () => clock.now(), toReal: (ms) => ms } },
      engine: { clock },
      overrides: { 'graph.writer': 'inbound', 'graph.inbound': { servicePrincipalId: SP, jobId: JOB.entra, target: 'entra', pollSeconds: 1 } },
    });
    h.sim.inbound.configure(quickInboundApp('entra', { state: 'Paused' }));
    /** One engine run; the clock moves on only while the run waits on it (the log reads' pacing), a second at a time. */
    const run = async () => {
      await clock.advance(1000);
      let done = false;
      const finished = h.engine.runOnce().finally(() => (done = true));
      while (!done) await (clock.pending() ? clock.advance(1000) : new Promise((r) => setTimeout(r, 1)));
      await finished;
    };
    await h.scim.createUser('u-ada', { ...adaAlone, password: undefined });
    await run();
    expect(uploads().map((u) => u.status)).toEqual([202]);
    const from = clock.now();
    for (let i = 0; i < others; i++)
      h.sim.state.directory.inbound.logs.push({
        visibleAt: 0,
        entry: {
          id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
          activityDateTime: new Date(from + i * spacing).toISOString().slice(0, 19) + 'Z',
          jobId: JOB.entra,
          provisioningAction: 'create',
          sourceIdentity: { id: `other-${i}`, displayName: `Other ${i}`, identityType: 'User', details: {} },
          targetIdentity: { id: '', displayName: '', identityType: 'User', details: {} },
          provisioningStatusInfo: { status: 'success', errorInformation: null },
        },
      });
    await clock.advance(runAfterMs);
    h.sim.inbound.update(SP, JOB.entra, { state: 'Active' });
    // A run reads the pages the reports service's budget allows now (5 per 10 s) and leaves the rest to later
    // runs: a run a second until the user settles.
    for (let i = 0; i < 60 && (await h.scim.bridge('u-ada')).syncState !== 'synced'; i++) await run();
    expect(await h.scim.bridge('u-ada')).toMatchObject({ syncState: 'synced', graphId: graphUser('ada@example.com')?.id });
    return h.sim.requests.list({ method: 'GET' }).filter((e) => e.url.startsWith('/auditLogs/provisioning'));
  }

  it('more pages than the reports service serves at once (5 per 10 s) are read in one poll over several runs: no 429, the user settles', async () => {
    // 3,000 entries in one second: seven pages of the bridge's 500.
    const reads = await longLog(3000, 0, 1000);
    // One page at the first poll; the poll that found the record read all seven (the 3,000 entries, then the
    // bridge's own), the last through the service's nextLink in a run after the budget had a read free
    // again (the 3,000 share one second: going on from a time would read them again).
    expect(reads.map((e) => e.status)).toEqual([200, 200, 200, 200, 200, 200, 200, 200]);
  });

  it('a read cut short at 20 pages goes on from where it stopped, though 20 pages hold less than the 30 minutes it looks back', async () => {
    // 10,500 entries over ten minutes (about 17 a second): 22 pages.
    const reads = await longLog(10_500, 57, 11 * 60_000);
    const skips = reads.map((e) => /\$skiptoken=/.test(e.url));
    // The first poll: one page; the second: 20 pages over several runs, cut short; the third: from the newest entry read on.
    expect(reads.map((e) => e.status).every((status) => status === 200)).toBe(true);
    expect([reads.length, skips.slice(0, 2), skips.slice(21, 23)]).toEqual([23, [false, false], [false, true]]);
  });
});
