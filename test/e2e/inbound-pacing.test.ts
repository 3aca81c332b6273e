// What the inbound writer spends of Microsoft's budgets, with the engine's own loop on a manual clock:
// bulkUpload calls (a daily quota of 2,000, however few records each carries: an IdP that pushes one
// user at a time fills one request rather than spending a call per user) and provisioning-log reads
// (5 per 10 s: a short pollSeconds never holds the loop waiting for one).
import { inboundKey } from '../../src/graph/inbound';
import { BRIDGE_USER_SCHEMA } from '../../src/rules/identity';
import type { SeedObject } from '../../src/simulator/types';
import { type ManualClock, manualClock } from '../../src/sync/clock';
import type { RunSummary } from '../../src/sync/engine';
import { until } from './cli-process';
import { boss, INBOUND_JOB, INBOUND_SP, quickInboundApp } from './fixtures';
import { driveClock, simulatorClock, startHarness, type Harness } from './harness';
import { CORE_USER, ENTERPRISE } from './ingress';

const SP = INBOUND_SP;
const JOB = INBOUND_JOB.entra;
const UPLOAD_URL = `/servicePrincipals/${SP}/synchronization/jobs/${JOB}/bulkUpload`;

let h: Harness;
let clock: ManualClock;
/** The engine's runs, as its events report them. */
let runs: RunSummary[];
afterEach(async () => {
  // The clock runs by itself while the engine stops: a run of a failed test may be sleeping on it.
  const stop = driveClock(clock);
  await h?.close();
  await stop();
});

const T0 = Date.parse('2026-12-01T09:00:00Z');

/** The inbound writer (Entra target) with the default batch wait; the engine and the simulator on one manual clock. */
async function start(inbound: Record<string, unknown> = {}, seed: SeedObject = {}) {
  clock = manualClock(T0);
  h = await startHarness({
    mode: 'profile-sync',
    seed,
    sim: { clock: simulatorClock(clock) },
    engine: { clock },
    overrides: { 'graph.writer': 'inbound', 'graph.inbound': { servicePrincipalId: SP, jobId: JOB, target: 'entra', pollSeconds: 1, ...inbound } },
  });
  h.sim.inbound.configure(quickInboundApp());
  runs = [];
  h.engine.onEvent((e) => {
    if (e.type === 'run') runs.push(e.summary as RunSummary);
  });
}

const iso = (ms: number) => new Date(ms).toISOString();
const person = (i: number) => ({ ...boss, userName: `p${i}@example.com`, displayName: `Person ${i}`, password: undefined });
const key = (name: string) => inboundKey(h.scim.id(name));
/** The record of person i as the bulkUpload carries it (profile-sync, Entra target). */
const record = (i: number, version = 1, active = true) => ({
  method: 'POST',
  bulkId: `${key(`u${i}`)}.${version}`,
  path: '/Users',
  data: {
    schemas: [CORE_USER, ENTERPRISE, BRIDGE_USER_SCHEMA],
    externalId: key(`u${i}`),
    userName: `p${i}@example.com`,
    displayName: `Person ${i}`,
    name: { givenName: 'Grace', familyName: 'Boss' },
    active,
    [BRIDGE_USER_SCHEMA]: { mailNickname: `p${i}`, usageLocation: 'US' },
  },
});
const bulk = (...operations: unknown[]) => ({
  url: UPLOAD_URL,
  status: 202,
  body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'], Operations: operations, failOnErrors: null },
});
const uploads = () =>
  h.sim.requests
    .list({ method: 'POST' })
    .filter((e) => /\/bulkUpload$/.test(e.url))
    .map((e) => ({ url: e.url, status: e.status, body: e.requestBody }));

/** Waits until the engine's loop sleeps on the clock: a change that arrives then wakes it at once (one during a run waits for the next). */
const idle = () => until(() => clock.pending() > 0, { what: "the engine's loop idle", ms: 10_000 });

/** Moves the clock to `at`, then waits for a run of the engine's loop that began at or after it (its idle wait is 500 ms). */
async function loopRunAt(at: number): Promise<void> {
  if (clock.now() < at) await clock.advance(at - clock.now());
  await until(
    async () => {
      if (runs.some((r) => Date.parse(r.startedAt) >= at)) return true;
      if (clock.pending()) await clock.advance(500);
      return false;
    },
    { what: `a run of the engine's loop at ${iso(at)}`, ms: 10_000 },
  );
}

it('ten single-user creates, one per engine run, go in one bulkUpload of ten once the first has waited 60 s; the loop sends it by itself', async () => {
  await start();
  h.engine.start();
  const t0 = clock.now();
  for (let i = 0; i < 10; i++) {
    await idle();
    await h.scim.createUser(`u${i}`, person(i));
    await until(() => h.store.inbound.latest(h.scim.id(`u${i}`)) !== null, { what: `the record of u${i} staged`, ms: 10_000 });
    await loopRunAt(t0 + (i + 1) * 1000);
    // Not sent: a request of one record would spend a call of the daily quota on one user.
    expect(uploads()).toEqual([]);
  }
  expect(h.engine.status().inbound).toEqual({ queued: 10, sent: 0, awaiting: 0, partialSendAt: iso(t0 + 60_000) });
  await loopRunAt(t0 + 59_000);
  expect(uploads()).toEqual([]);
  // No change arrives: the loop's own run sends them once the first has waited graph.inbound.batchWaitSeconds.
  await loopRunAt(t0 + 60_000);
  expect(uploads()).toEqual([bulk(...Array.from({ length: 10 }, (_, i) => record(i)))]);
  const stop = driveClock(clock);
  await until(() => h.engine.status().counts.synced === 10, { what: 'the ten users synced', ms: 20_000 });
  await stop();

  // A deactivation never waits: sent in the run the change wakes, in its own call, the clock not moved on.
  await idle();
  const at = clock.now();
  await h.scim.patchUser('u3', [{ op: 'replace', path: 'active', value: false }]);
  await until(() => uploads().length === 2, { what: 'the deactivation sent', ms: 10_000 });
  expect(clock.now()).toBe(at);
  expect(uploads()[1]).toEqual(bulk(record(3, 2, false)));

  // A record waiting for a fuller request goes with the next urgent one: one call, not two.
  await idle();
  await h.scim.createUser('u10', person(10));
  await until(() => h.store.inbound.counts().queued === 1, { what: 'the record of u10 staged', ms: 10_000 });
  await idle();
  await h.scim.patchUser('u4', [{ op: 'replace', path: 'active', value: false }]);
  await until(() => uploads().length === 3, { what: 'the deactivation sent', ms: 10_000 });
  expect(clock.now()).toBe(at);
  expect(uploads()[2]).toEqual(bulk(record(4, 2, false), record(10)));
});

it('a run or a sync-now that an operator asks for sends a partial request at once', async () => {
  await start();
  h.engine.start();
  const t0 = clock.now();
  await idle();
  await h.scim.createUser('u0', person(0));
  await until(() => h.store.inbound.counts().queued === 1, { what: 'the record of u0 staged', ms: 10_000 });
  expect(uploads()).toEqual([]);
  await h.engine.runOnce();
  expect(uploads()).toEqual([bulk(record(0))]);

  await idle();
  await h.scim.createUser('u1', person(1));
  await until(() => h.store.inbound.counts().queued === 1, { what: 'the record of u1 staged', ms: 10_000 });
  await h.engine.syncNow('User', h.scim.id('u1'));
  expect(uploads()).toEqual([bulk(record(0)), bulk(record(1))]);
  expect(clock.now()).toBe(t0);
});

it('with pollSeconds under 2, no run of the loop waits for a provisioning-log read (5 per 10 s)', async () => {
  await start({ pollSeconds: 0.5 });
  // The job is paused: the record stays in flight, and the bridge reads the log at every poll.
  h.sim.inbound.update(SP, JOB, { state: 'Paused' });
  await h.scim.createUser('u0', person(0));
  await h.engine.runOnce();
  expect(uploads()).toHaveLength(1);
  const t0 = clock.now();
  h.engine.start();
  // The loop runs every 500 ms of the clock; the clock moves on, 100 ms at a time, only while something sleeps on it.
  const end = Date.now() + 10_000;
  while (clock.now() < t0 + 29_900 && Date.now() < end) await (clock.pending() ? clock.advance(100) : new Promise((r) => setTimeout(r, 1)));
  const reads = h.sim.requests.list({ method: 'GET' }).filter((e) => e.url.startsWith('/auditLogs/provisioning'));
  // Each run takes no time on the clock: a poll that finds the reports service's budget spent is left to a later run.
  expect(Math.max(...runs.map((r) => r.durationMs))).toBe(0);
  // As many polls as the budget allows and no more: at t0 (the run above) and every 500 ms to t0 + 2 s, the
  // same from t0 + 10 s and from t0 + 20 s, as the first reads of each ten seconds leave the window.
  expect(reads.map((e) => e.status)).toEqual(Array(15).fill(200));
});

it('a poll of more log pages than the reports service allows now reads the rest in later runs; a deactivation made meanwhile goes at once', async () => {
  // 2,600 entries of another client's records on the job, a millisecond apart from T0 + 130 s and
  // written to the log at T0 + 90 s: six pages of 500 at the bridge's $top, one more than the 5 reads
  // per 10 s allow at once.
  const provisioningLogs = Array.from({ length: 2600 }, (_, i) => ({
    visibleAt: T0 + 90_000,
    entry: {
      id: `other-${i}`,
      jobId: JOB,
      activityDateTime: iso(T0 + 130_000 + i),
      sourceIdentity: { id: `other-client-${i}` },
      provisioningStatusInfo: { status: 'success' },
    },
  }));
  await start({ pollSeconds: 60 }, { provisioningLogs } as SeedObject);
  const logReads = () =>
    h.sim.requests
      .list({ method: 'GET' })
      .filter((e) => e.url.startsWith('/auditLogs/provisioning'))
      // A read from a time (the first page of a poll) or the next page of one (the service's nextLink).
      .map((e) => `${e.status} ${/skiptoken/i.test(e.url) ? 'next page' : `from ${/activityDateTime ge (\S+?)(?:&|$)/.exec(decodeURIComponent(e.url))?.[1]}`}`);

  // u1 is created in Entra before the log fills: reported by the first poll, found in Entra by the next run.
  await h.scim.createUser('u1', person(1));
  await h.engine.runOnce();
  await clock.advance(60_000);
  await h.engine.runOnce();
  expect(h.engine.status().counts.synced).toBe(1);
  expect(logReads()).toEqual([`200 from ${iso(T0 - 5000)}`]);

  // A pollSeconds on, u0 goes to a paused job and stays in flight; the poll of the same run finds six
  // pages. Before, the sixth waited for the first read to leave the window: the run slept 10 s on the clock.
  await clock.advance(61_000);
  const t1 = clock.now();
  h.sim.inbound.update(SP, JOB, { state: 'Paused' });
  await h.scim.createUser('u0', person(0));
  const run = h.engine.runOnce().then(() => 'returned');
  expect(await Promise.race([run, new Promise((r) => setTimeout(() => r('still waiting for a log read'), 3000))])).toBe('returned');
  expect(uploads()).toEqual([bulk(record(1)), bulk(record(0))]);
  expect(logReads().slice(1)).toEqual([`200 from ${iso(t1 - 5000)}`, ...Array(4).fill('200 next page')]);

  // The loop runs on; the deactivation is sent in the run it wakes, the clock not moved on.
  h.engine.start();
  await idle();
  await h.scim.patchUser('u1', [{ op: 'replace', path: 'active', value: false }]);
  await until(() => uploads().length === 3, { what: 'the deactivation sent', ms: 10_000 });
  expect(clock.now()).toBe(t1);
  expect(uploads()[2]).toEqual(bulk(record(1, 2, false)));

  // Once the first read of that poll leaves the window (t1 + 10 s), a run reads the next page, not a
  // pollSeconds (60 s) later. Another reader of the app's budget has it answered 429 (Retry-After 1 s): the
  // same page is read again once the pause ends, rather than the poll started over.
  h.sim.faults.set({ failNext: [{ status: 429, method: 'GET', pathPrefix: '/auditLogs/provisioning', count: 1 }] });
  await loopRunAt(t1 + 10_000);
  await until(() => logReads().length === 7, { what: 'the next page read', ms: 10_000 });
  await loopRunAt(t1 + 11_500);
  await until(() => logReads().length === 8, { what: 'the same page read again', ms: 10_000 });
  expect(clock.now()).toBeLessThan(t1 + 60_000);
  expect(logReads().slice(6)).toEqual(['429 next page', '200 next page']);
});
