// Group memberships as Graph writes (SPEC section 7, the fewest writes throttling allows): adds go
// 20 to a PATCH /groups/{id} with members@odata.bind, removals one DELETE $ref each; a chunk Graph
// refuses because a member is already there (its own earlier write whose answer or record was
// lost) is sent again member by member and converges with nothing lost or added twice.
import { createGraphClient } from '../../src/graph/client';
import { createLogger } from '../../src/log';
import { adaptGraphClient } from '../../src/sync/graph-adapter';
import type { SyncGraph } from '../../src/sync/graph-port';
import { createSyncEngine } from '../../src/sync/engine';
import { boss } from './fixtures';
import { named, startHarness, type Harness } from './harness';

let h: Harness;
afterEach(async () => h?.close());

const person = (n: number) => ({ ...boss, userName: `p${n}@example.com`, displayName: `Person ${n}`, password: undefined });
const names = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `u-${from + i}`);
const ref = (name: string) => `{graph}/v1.0/directoryObjects/{p${name.slice(2)}@example.com}`;
const bind = (members: string[], status = 204) => ({ method: 'PATCH', url: '/groups/{Engineering}', body: { 'members@odata.bind': members.map(ref) }, status });
const addOne = (name: string, status = 204) => ({ method: 'POST', url: '/groups/{Engineering}/members/$ref', body: { '@odata.id': ref(name) }, status });
const ALREADY = "One or more added object references already exist for the following modified properties: 'members'.";

async function usersAndGroup(hh: Harness, count: number, members: string[]): Promise<void> {
  for (let i = 1; i <= count; i++) await hh.scim.createUser(`u-${i}`, person(i));
  await hh.scim.createGroup('g-eng', 'Engineering', members);
}

const graphMembers = (hh: Harness) => {
  const snap = hh.sim.state.snapshot();
  const upnOf = new Map(snap.users.map((u) => [String(u.id), String(u.userPrincipalName)]));
  const g = snap.groups.find((x) => x.displayName === 'Engineering')!;
  return [...(g.members as string[])].map((id) => upnOf.get(id)).sort();
};
const upns = (members: string[]) => members.map((m) => `p${m.slice(2)}@example.com`).sort();

it('writes 45 new members as 3 PATCH members@odata.bind (20 + 20 + 5), not 45 POSTs; removals stay one DELETE each', async () => {
  h = await startHarness({ mode: 'profile-sync', overrides: { 'groups.push': true } });
  await usersAndGroup(h, 45, names(1, 45));
  const summary = await h.engine.runOnce();
  const ordered = h.scim.inIdOrder(names(1, 45));
  expect(named(h).filter((w) => w.url.startsWith('/groups'))).toEqual([
    {
      method: 'POST',
      url: '/groups',
      body: { displayName: 'Engineering', mailNickname: 'Engineering', securityEnabled: true, mailEnabled: false },
      status: 201,
    },
    bind(ordered.slice(0, 20)),
    bind(ordered.slice(20, 40)),
    bind(ordered.slice(40)),
  ]);
  // 45 user creates, the group, 3 membership writes.
  expect(summary.writes).toBe(45 + 1 + 3);
  expect(graphMembers(h)).toEqual(upns(names(1, 45)));
  expect(h.store.sync.get('Group', h.scim.id('g-eng'))).toMatchObject({ state: 'synced' });

  h.clearLog();
  const after = [...names(4, 45), 'u-46', 'u-47'];
  await h.scim.createUser('u-46', person(46));
  await h.scim.createUser('u-47', person(47));
  await h.scim.setMembers('g-eng', after);
  await h.engine.runOnce();
  // Removals are urgent (sync.order priority): they go ahead of the new users, whose adds follow in the groups phase.
  expect(named(h).filter((w) => w.url.startsWith('/groups'))).toEqual([
    ...h.scim
      .inIdOrder(['u-1', 'u-2', 'u-3'])
      .map((name) => ({ method: 'DELETE', url: `/groups/{Engineering}/members/{p${name.slice(2)}@example.com}/$ref`, status: 204 })),
    bind(h.scim.inIdOrder(['u-46', 'u-47'])),
  ]);
  expect(graphMembers(h)).toEqual(upns(after));
  h.clearLog();
  await h.engine.runOnce();
  expect(named(h)).toEqual([]);
});

it('plan shows member adds as the engine writes them: 20 to a PATCH members@odata.bind, a lone one by $ref', async () => {
  h = await startHarness({ mode: 'profile-sync', overrides: { 'groups.push': true } });
  await usersAndGroup(h, 21, names(1, 21));
  const ordered = h.scim.inIdOrder(names(1, 21)).map((n) => h.scim.id(n));
  const group = h.scim.id('g-eng');
  expect(h.engine.plan().filter((w) => w.resourceType === 'Group')).toEqual([
    { resourceType: 'Group', id: group, method: 'POST', url: '/groups' },
    { resourceType: 'Group', id: group, method: 'PATCH', url: '/groups/{new}', note: `members@odata.bind: ${ordered.slice(0, 20).join(', ')}` },
    { resourceType: 'Group', id: group, method: 'POST', url: '/groups/{new}/members/$ref', note: `member ${ordered[20]}` },
  ]);
  await h.engine.runOnce();
  expect(named(h).filter((w) => w.url.startsWith('/groups/'))).toEqual([
    bind(h.scim.inIdOrder(names(1, 21)).slice(0, 20)),
    addOne(h.scim.inIdOrder(names(1, 21))[20]),
  ]);
});

it('a chunk refused because one member is already in the Graph group is added member by member and converges', async () => {
  const seed = {
    users: [
      {
        id: '33333333-3333-4333-8333-333333333333',
        userPrincipalName: 'p3@example.com',
        displayName: 'Person 3',
        accountEnabled: true,
        mailNickname: 'p3',
        usageLocation: 'US',
      },
    ],
    groups: [
      {
        id: '77777777-7777-4777-8777-777777777777',
        displayName: 'Engineering',
        mailNickname: 'Engineering',
        securityEnabled: true,
        mailEnabled: false,
        members: ['33333333-3333-4333-8333-333333333333'],
      },
    ],
  };
  // The tenant's user and group are adopted (the source's adopt setting allows it).
  h = await startHarness({ mode: 'profile-sync', seed, okta: { adopt: { domains: ['example.com'], groups: true } }, overrides: { 'groups.push': true } });
  await usersAndGroup(h, 25, names(1, 25));
  await h.engine.runOnce();
  const ordered = h.scim.inIdOrder(names(1, 25));
  const chunks = [ordered.slice(0, 20), ordered.slice(20)];
  const refused = chunks.findIndex((c) => c.includes('u-3'));
  expect(named(h).filter((w) => w.url.startsWith('/groups'))).toEqual([
    ...chunks.map((c, i) => (i === refused ? { ...bind(c, 400) } : bind(c))),
    ...chunks[refused].map((name) => addOne(name, name === 'u-3' ? 400 : 204)),
  ]);
  const log = h.sim.requests.list({ method: 'PATCH', pathPrefix: '/groups/' }).find((e) => e.status === 400)!;
  expect((log.responseBody as { error: { code: string; message: string } }).error).toMatchObject({ message: ALREADY });
  expect(graphMembers(h)).toEqual(upns(names(1, 25)));
  expect(h.store.sync.get('Group', h.scim.id('g-eng'))).toMatchObject({ state: 'synced', graphId: '77777777-7777-4777-8777-777777777777' });
  h.clearLog();
  await h.engine.runOnce();
  expect(named(h)).toEqual([]);
});

it('a PATCH members@odata.bind whose answer is lost (Graph applied it, nothing was recorded) converges on the next run', async () => {
  h = await startHarness({ mode: 'profile-sync', overrides: { 'groups.push': true } });
  await usersAndGroup(h, 3, names(1, 3));
  // The engine's Graph port loses the answer to the first members@odata.bind write after Graph applied it,
  // which leaves the store as a crash between the write and markMembersApplied does.
  const real = adaptGraphClient(createGraphClient(h.config.graph, { logger: createLogger('silent') }));
  let lost = false;
  const isBind = (op: { method: string; body?: unknown }) =>
    op.method === 'PATCH' && Boolean((op.body as Record<string, unknown> | undefined)?.['members@odata.bind']);
  const loseOnce = (hasBind: boolean) => {
    if (!hasBind || lost) return;
    lost = true;
    throw Object.assign(new Error('socket hang up'), { status: 503 });
  };
  const graph: SyncGraph = {
    tokenRoles: () => real.tokenRoles(),
    send: async (op) => {
      const res = await real.send(op);
      loseOnce(isBind(op));
      return res;
    },
    batch: async (ops) => {
      const res = await real.batch(ops);
      loseOnce(ops.some(isBind));
      return res;
    },
  };
  const engine = createSyncEngine({ config: h.config, store: h.store, graph, logger: createLogger('silent'), retry: { baseMs: 60_000, capMs: 60_000 } });
  try {
    await engine.runOnce();
    expect(lost).toBe(true);
    expect(h.store.sync.get('Group', h.scim.id('g-eng'))).toMatchObject({ state: 'pending' });
    expect(h.store.groups.pendingMemberChanges(h.scim.id('g-eng')).adds.sort()).toEqual(
      names(1, 3)
        .map((n) => h.scim.id(n))
        .sort(),
    );
    // Due again now rather than after its backoff (as `retry` does).
    expect(engine.retry('Group', h.scim.id('g-eng'))).toBe(1);
    await engine.runOnce();
  } finally {
    await engine.stop();
  }
  const ordered = h.scim.inIdOrder(names(1, 3));
  expect(named(h).filter((w) => w.url.startsWith('/groups/'))).toEqual([bind(ordered), bind(ordered, 400), ...ordered.map((name) => addOne(name, 400))]);
  expect(graphMembers(h)).toEqual(upns(names(1, 3)));
  expect(h.store.sync.get('Group', h.scim.id('g-eng'))).toMatchObject({ state: 'synced' });
  expect(h.store.groups.pendingMemberChanges(h.scim.id('g-eng'))).toEqual({ adds: [], removes: [] });
});

it('a member whose user is not in Graph yet waits while the others are added', async () => {
  h = await startHarness({ mode: 'profile-sync', overrides: { 'groups.push': true } });
  await usersAndGroup(h, 3, names(1, 3));
  // u-2's create fails permanently (Graph refuses it), so it has no Graph id.
  h.sim.faults.set({
    failNext: [{ status: 400, method: 'POST', pathPrefix: '/users', code: 'Request_BadRequest', message: 'Invalid value specified for property.', count: 1 }],
  });
  await h.engine.runOnce();
  const created = h.sim.state.snapshot().users.map((u) => String(u.userPrincipalName));
  const missing = names(1, 3).find((n) => !created.includes(`p${n.slice(2)}@example.com`))!;
  const present = h.scim.inIdOrder(names(1, 3).filter((n) => n !== missing));
  expect(named(h).filter((w) => w.url.startsWith('/groups/'))).toEqual([bind(present)]);
  expect(graphMembers(h)).toEqual(upns(present));
  expect(h.store.sync.get('Group', h.scim.id('g-eng'))).toMatchObject({ state: 'pending', lastError: 'waiting for 1 member(s) to exist in Graph' });
  expect(h.store.groups.pendingMemberChanges(h.scim.id('g-eng'))).toEqual({ adds: [h.scim.id(missing)], removes: [] });
});

it("a chunk refused for a member gone from Graph adds the others one by one and fails the group with Graph's message for that member only", async () => {
  h = await startHarness({ mode: 'profile-sync', overrides: { 'groups.push': true } });
  for (let i = 1; i <= 3; i++) await h.scim.createUser(`u-${i}`, person(i));
  await h.engine.runOnce();
  // p2 is hard-deleted in Entra, outside the bridge, which still holds its Graph id.
  const dir = h.sim.state.directory;
  const gone = dir.userByKey('p2@example.com')!;
  dir.removeUser(gone, 'deleted');
  h.clearLog();
  await h.scim.createGroup('g-eng', 'Engineering', names(1, 3));
  await h.engine.runOnce();
  const ordered = h.scim.inIdOrder(names(1, 3));
  const refs = named(h)
    .filter((w) => w.url.startsWith('/groups/'))
    .map((w) => (w.body ? { ...w, body: JSON.parse(JSON.stringify(w.body).split(gone.id).join('{p2}')) } : w));
  const refOf = (name: string) => (name === 'u-2' ? '{graph}/v1.0/directoryObjects/{p2}' : ref(name));
  expect(refs).toEqual([
    { method: 'PATCH', url: '/groups/{Engineering}', body: { 'members@odata.bind': ordered.map(refOf) }, status: 404 },
    ...ordered.map((name) => ({
      method: 'POST',
      url: '/groups/{Engineering}/members/$ref',
      body: { '@odata.id': refOf(name) },
      status: name === 'u-2' ? 404 : 204,
    })),
  ]);
  expect(graphMembers(h)).toEqual(upns(['u-1', 'u-3']));
  expect(h.store.sync.get('Group', h.scim.id('g-eng'))).toMatchObject({
    state: 'error',
    lastError: `Resource '${gone.id}' does not exist or one of its queried reference-property objects are not present.`,
  });
  expect(h.store.groups.pendingMemberChanges(h.scim.id('g-eng'))).toEqual({ adds: [h.scim.id('u-2')], removes: [] });
});

it('a chunk answered 429 is recorded as nothing applied and sent again whole', async () => {
  h = await startHarness({ mode: 'profile-sync', overrides: { 'groups.push': true }, engine: { retry: { baseMs: 60_000, capMs: 60_000 } } });
  await usersAndGroup(h, 3, names(1, 3));
  h.sim.faults.set({ failNext: [{ status: 429, method: 'PATCH', pathPrefix: '/groups/', count: 1 }] });
  await h.engine.runOnce();
  expect(h.store.sync.get('Group', h.scim.id('g-eng'))).toMatchObject({ state: 'pending' });
  expect(h.store.groups.pendingMemberChanges(h.scim.id('g-eng')).adds).toHaveLength(3);
  expect(h.engine.retry('Group', h.scim.id('g-eng'))).toBe(1);
  await h.engine.runOnce();
  const ordered = h.scim.inIdOrder(names(1, 3));
  expect(named(h).filter((w) => w.url.startsWith('/groups/'))).toEqual([bind(ordered, 429), bind(ordered)]);
  expect(graphMembers(h)).toEqual(upns(names(1, 3)));
  expect(h.store.sync.get('Group', h.scim.id('g-eng'))).toMatchObject({ state: 'synced' });
});
