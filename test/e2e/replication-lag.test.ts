// Replication delay (SPEC section 7, docs/internals.md sync/): right after the bridge creates a
// user or group, Graph can answer writes naming it 404 Request_ResourceNotFound, or 400 "The source
// resource object or one of the objects being referenced do not exist." for member adds, until its
// replicas catch up. Within REPLICATION_WINDOW_MS of the create these are retried (pending, never
// error); after it they are permanent errors with Graph's message, as before.
import { systemClock } from '../../src/sync/clock';
import { type SyncEngine } from '../../src/sync/engine';
import { REPLICATION_WINDOW_MS } from '../../src/sync/replication';
import { ada, boss } from './fixtures';
import { E3, named, startHarness, type Harness } from './harness';
import { ENTERPRISE } from './ingress';

let h: Harness;
let restarted: SyncEngine | undefined;
afterEach(async () => {
  await restarted?.stop();
  restarted = undefined;
  await h?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const USER_SYNC = { mode: 'user-sync' as const, overrides: { 'graph.allowTenantDirSync': true, 'groups.push': true } };
const notFound = (id: string) => `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`;

/** The statuses of each write (method and url), in the order sent, consecutive repeats kept. */
function attempts(h: Harness): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const w of named(h)) (out[`${w.method} ${w.url}`] ??= []).push(w.status);
  return out;
}

it('retries the license, manager and member writes refused while a new user and group replicate, and ends synced with exactly that Graph state', async () => {
  h = await startHarness({ ...USER_SYNC, engine: { retry: { baseMs: 100, capMs: 200 } } });
  h.sim.faults.set({ replicationLagMs: 400 });
  await h.scim.createUser('u-boss', { ...boss, password: undefined });
  await h.scim.createUser('u-ada', ada);
  await h.scim.createGroup('g-eng', 'Engineering', ['u-boss', 'u-ada']);
  await h.engine.runOnce();
  const seen: string[] = [];
  h.engine.onEvent((e) => e.type === 'error' && seen.push(e.id));
  // Nothing is an error while Graph catches up: the follow-ups wait, pending.
  expect([(await h.scim.bridge('u-ada')).syncState, h.store.sync.get('Group', h.scim.id('g-eng'))!.state]).toEqual(['pending', 'pending']);
  expect(h.store.sync.get('User', h.scim.id('u-ada'))!.lastError).toMatch(
    /^Request_ResourceNotFound: Resource '[0-9a-f-]{36}' does not exist or one of its queried reference-property objects are not present\. \(replication delay after create; retrying\)$/,
  );
  expect(h.store.sync.get('Group', h.scim.id('g-eng'))!.lastError).toBe(
    'Request_BadRequest: The source resource object or one of the objects being referenced do not exist. (replication delay after create; retrying)',
  );

  // The retries run on a new engine over the same database: the create times survive a restart.
  await h.engine.stop();
  restarted = h.newEngine({ retry: { baseMs: 100, capMs: 200 } });
  restarted.onEvent((e) => e.type === 'error' && seen.push(e.id));
  for (let i = 0; i < 30 && h.store.sync.listDue(Number.MAX_SAFE_INTEGER, 10).length; i++) {
    await sleep(100);
    await restarted.runOnce();
  }

  const tries = attempts(h);
  const [licensed, managed, bound] = [
    'POST /users/{ada@example.com}/assignLicense',
    'PUT /users/{ada@example.com}/manager/$ref',
    'PATCH /groups/{Engineering}',
  ].map((k) => tries[k]);
  // Refused at first, retried until the replica caught up, then written once.
  expect(licensed[0]).toBe(404);
  expect(licensed.slice(1)).toEqual([...Array(licensed.length - 2).fill(404), 200]);
  expect(managed[0]).toBe(404);
  expect(managed.slice(1)).toEqual([...Array(managed.length - 2).fill(404), 204]);
  expect(bound[0]).toBe(400);
  expect(bound.slice(1)).toEqual([...Array(bound.length - 2).fill(400), 204]);
  // Every other write went once (the tenant switch, two users, one group): nothing restored or created twice.
  expect(Object.entries(tries).filter(([k]) => ![licensed, managed, bound].includes(tries[k]))).toEqual([
    ['PATCH /organization/{org}', [204]],
    ['POST /users', [201, 201]],
    ['POST /groups', [201]],
  ]);
  expect(named(h).find((w) => w.url === '/users/{ada@example.com}/manager/$ref' && w.status === 204)!.body).toEqual({
    '@odata.id': '{graph}/v1.0/directoryObjects/{boss@example.com}',
  });
  expect(named(h).find((w) => w.url === '/groups/{Engineering}' && w.status === 204)!.body).toEqual({
    'members@odata.bind': h.scim.inIdOrder(['u-boss', 'u-ada']).map((n) => `{graph}/v1.0/directoryObjects/{${n === 'u-ada' ? 'ada' : 'boss'}@example.com}`),
  });

  const snap = h.sim.state.snapshot();
  const byUpn = (upn: string) => snap.users.find((u) => u.userPrincipalName === upn)!;
  expect(snap.users).toHaveLength(2);
  expect(byUpn('ada@example.com').assignedLicenses).toEqual([{ disabledPlans: [], skuId: E3 }]);
  expect(h.sim.state.directory.users.get(String(byUpn('ada@example.com').id))!.managerId).toBe(byUpn('boss@example.com').id);
  expect(byUpn('boss@example.com').assignedLicenses).toEqual([]);
  expect(snap.groups.map((g) => [g.displayName, [...(g.members as string[])].sort()])).toEqual([
    ['Engineering', [String(byUpn('ada@example.com').id), String(byUpn('boss@example.com').id)].sort()],
  ]);
  expect([(await h.scim.bridge('u-boss')).syncState, (await h.scim.bridge('u-ada')).syncState, h.store.sync.get('Group', h.scim.id('g-eng'))!.state]).toEqual([
    'synced',
    'synced',
    'synced',
  ]);
  expect(restarted.status().counts).toEqual({ pending: 0, synced: 3, error: 0, blocked: 0 });
  expect(seen).toEqual([]);
});

it("the same 404 long after the create is a permanent error with Graph's message", async () => {
  let offset = 0;
  const clock = { now: () => Date.now() + offset, sleep: systemClock.sleep };
  h = await startHarness({ ...USER_SYNC, engine: { clock, retry: { baseMs: 100, capMs: 200 } } });
  await h.scim.createUser('u-boss', { ...boss, password: undefined });
  await h.engine.runOnce();
  // Ada's replica never catches up within the test; her manager link is refused every time.
  h.sim.faults.set({ replicationLagMs: 60 * 60_000 });
  await h.scim.createUser('u-ada', { ...ada, entitlements: [], [ENTERPRISE]: { ...ada[ENTERPRISE] } });
  await h.engine.runOnce();
  const adaId = (await h.scim.bridge('u-ada')).graphId as string;
  expect(await h.scim.bridge('u-ada')).toMatchObject({ syncState: 'pending' });
  h.clearLog();
  offset = REPLICATION_WINDOW_MS + 1000;
  await h.engine.runOnce();
  expect(named(h)).toEqual([
    { method: 'PUT', url: '/users/{ada@example.com}/manager/$ref', body: { '@odata.id': '{graph}/v1.0/directoryObjects/{boss@example.com}' }, status: 404 },
  ]);
  expect(await h.scim.bridge('u-ada')).toMatchObject({ syncState: 'error', lastSyncError: notFound(adaId) });
  expect(h.store.sync.get('User', h.scim.id('u-ada'))).toMatchObject({ state: 'error', lastError: notFound(adaId), graphId: adaId });
});
