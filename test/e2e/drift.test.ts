// SPEC section 8: in user-sync and universal-sync a managed attribute changed in Entra is found by
// the delta query, recorded (audit sync.drift) and reverted; profile-sync allows direct edits.
import { loadConfig } from '../../src/config';
import { adaAlone as ada, ada as withManager, boss } from './fixtures';
import { named, startHarness, type Harness } from './harness';

let h: Harness;
afterEach(async () => h?.close());

function editInEntra(hh: Harness, upn: string, props: Record<string, unknown>) {
  const dir = hh.sim.state.directory;
  const user = [...dir.users.values()].find((u) => u.props.userPrincipalName === upn)!;
  Object.assign(user.props, props);
  dir.touch(user);
}

describe.each(['user-sync', 'universal-sync'] as const)('%s', (mode) => {
  it('reverts a managed attribute changed outside the bridge and records who/what/when', async () => {
    h = await startHarness({ mode, overrides: { 'graph.allowTenantDirSync': true } });
    const scim = h.scim;
    await scim.createUser('u-ada', { ...ada, entitlements: [] });
    await scim.createUser('u-boss', { ...boss, password: undefined });
    await h.engine.runOnce();
    // The first delta round sees the bridge's own writes: nothing to revert.
    expect((await h.engine.reconcile({ full: false })).drifted).toEqual([]);
    h.clearLog();
    editInEntra(h, 'ada@example.com', { jobTitle: 'Intruder', department: 'Nowhere', officeLocation: 'B1' });
    const events: string[] = [];
    h.engine.onEvent((e) => e.type === 'drift' && events.push(`${e.id} ${e.attributes.join(',')}`));
    const summary = await h.engine.reconcile({ full: false });
    expect(summary).toMatchObject({
      reverted: 1,
      errors: [],
      drifted: [{ resourceType: 'User', id: scim.id('u-ada'), attributes: ['jobTitle', 'department'] }],
    });
    expect(named(h)).toEqual([{ method: 'PATCH', url: '/users/{ada@example.com}', body: { jobTitle: 'Engineer', department: 'R&D' }, status: 204 }]);
    expect(events).toEqual([`${scim.id('u-ada')} jobTitle,department`]);
    const audit = h.store.audit.list({ resourceType: 'User', resourceId: scim.id('u-ada') }).filter((a) => a.action === 'sync.drift');
    expect(audit).toHaveLength(1);
    expect(audit[0].detail).toMatchObject({ attributes: ['jobTitle', 'department'], changedBy: 'outside the bridge (Graph delta)', reverted: true });
    // The revert itself is not drift.
    h.clearLog();
    expect((await h.engine.reconcile({ full: false })).drifted).toEqual([]);
    expect(named(h)).toEqual([]);
  });

  it('a complex property cleared outside the bridge (employeeOrgData null) is drift of each member the bridge set', async () => {
    h = await startHarness({ mode, overrides: { 'graph.allowTenantDirSync': true } });
    await h.scim.createUser('u-ada', { ...ada, entitlements: [] });
    await h.engine.runOnce();
    expect((await h.engine.reconcile({ full: false })).drifted).toEqual([]);
    h.clearLog();
    editInEntra(h, 'ada@example.com', { employeeOrgData: null });
    const summary = await h.engine.reconcile({ full: false });
    expect(summary).toMatchObject({
      reverted: 1,
      errors: [],
      drifted: [{ resourceType: 'User', id: h.scim.id('u-ada'), attributes: ['employeeOrgData.costCenter', 'employeeOrgData.division'] }],
    });
    expect(named(h)).toEqual([
      { method: 'PATCH', url: '/users/{ada@example.com}', body: { employeeOrgData: { costCenter: 'CC1', division: 'DIV1' } }, status: 204 },
    ]);
  });

  it('reconcile --full compares every user', async () => {
    h = await startHarness({ mode, overrides: { 'graph.allowTenantDirSync': true } });
    await h.scim.createUser('u-boss', { ...boss, password: undefined });
    await h.engine.runOnce();
    await h.engine.reconcile({ full: false });
    editInEntra(h, 'boss@example.com', { displayName: 'Renamed' });
    h.clearLog();
    const summary = await h.engine.reconcile({ full: true });
    expect([summary.full, summary.reverted, named(h)]).toEqual([
      true,
      1,
      [{ method: 'PATCH', url: '/users/{boss@example.com}', body: { displayName: 'Grace Boss' }, status: 204 }],
    ]);
  });
});

it('profile-sync allows direct edits in Entra: reconcile writes nothing', async () => {
  h = await startHarness({ mode: 'profile-sync' });
  await h.scim.createUser('u-boss', { ...boss, password: undefined });
  await h.engine.runOnce();
  editInEntra(h, 'boss@example.com', { displayName: 'Renamed' });
  h.clearLog();
  const summary = await h.engine.reconcile({ full: true });
  expect([summary.drifted, named(h)]).toEqual([[], []]);
});

it('universal-sync removes a member added outside the bridge and restores one removed', async () => {
  h = await startHarness({ mode: 'universal-sync', overrides: { 'graph.allowTenantDirSync': true } });
  const scim = h.scim;
  await scim.createUser('u-ada', { ...ada, entitlements: [] });
  await scim.createUser('u-boss', { ...boss, password: undefined });
  await scim.createGroup('g-eng', 'Engineering', ['u-ada']);
  await h.engine.runOnce();
  await h.engine.reconcile({ full: false });
  const dir = h.sim.state.directory;
  const group = [...dir.groups.values()].find((g) => g.props.displayName === 'Engineering')!;
  const bossId = (await scim.bridge('u-boss')).graphId;
  const adaId = (await scim.bridge('u-ada')).graphId;
  group.members.add(bossId);
  dir.removeMember(group, adaId);
  h.clearLog();
  await h.engine.reconcile({ full: false });
  await h.engine.runOnce();
  expect(named(h)).toEqual([
    { method: 'DELETE', url: '/groups/{Engineering}/members/{boss@example.com}/$ref', status: 204 },
    { method: 'POST', url: '/groups/{Engineering}/members/$ref', body: { '@odata.id': '{graph}/v1.0/directoryObjects/{ada@example.com}' }, status: 204 },
  ]);
  expect([...group.members]).toEqual([adaId]);
});

it('the running engine checks drift every drift.intervalSeconds', async () => {
  h = await startHarness({ mode: 'user-sync', overrides: { 'graph.allowTenantDirSync': true, 'drift.intervalSeconds': 0.5 }, engine: { idleMs: 50 } });
  await h.scim.createUser('u-boss', { ...boss, password: undefined });
  h.engine.start();
  while (h.engine.status().counts.synced < 1 || !h.engine.status().lastDrift) await new Promise((r) => setTimeout(r, 50));
  h.clearLog();
  editInEntra(h, 'boss@example.com', { surname: 'Changed' });
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && !named(h).length) await new Promise((r) => setTimeout(r, 100));
  expect(named(h)).toEqual([{ method: 'PATCH', url: '/users/{boss@example.com}', body: { surname: 'Boss' }, status: 204 }]);
});

describe('a user deleted in Entra behind the bridge', () => {
  it('is restored in user-sync, found by the delta query', async () => {
    h = await startHarness({ mode: 'user-sync', overrides: { 'graph.allowTenantDirSync': true } });
    await h.scim.createUser('u-boss', { ...boss, password: undefined });
    await h.engine.runOnce();
    await h.engine.reconcile({ full: false });
    const gid = (await h.scim.bridge('u-boss')).graphId;
    const dir = h.sim.state.directory;
    const user = dir.users.get(gid)!;
    dir.removeUser(user, 'changed');
    dir.deleted.set(gid, user);
    h.clearLog();
    const summary = await h.engine.reconcile({ full: false });
    expect(summary.drifted).toEqual([{ resourceType: 'User', id: h.scim.id('u-boss'), graphId: gid, attributes: ['deleted'] }]);
    expect(named(h)).toEqual([{ method: 'POST', url: '/directory/deletedItems/{boss@example.com}/restore', status: 200 }]);
    expect(h.sim.state.snapshot().users.map((u) => u.id)).toEqual([gid]);
  });

  it('is created again in profile-sync on its next change', async () => {
    h = await startHarness({ mode: 'profile-sync' });
    const scim = h.scim;
    await scim.createUser('u-boss', { ...boss, password: undefined });
    await h.engine.runOnce();
    const gid = (await scim.bridge('u-boss')).graphId;
    const dir = h.sim.state.directory;
    dir.removeUser(dir.users.get(gid)!, 'deleted');
    h.clearLog();
    await scim.patchUser('u-boss', [{ op: 'replace', path: 'displayName', value: 'Grace B.' }]);
    await h.engine.runOnce();
    expect(named(h).map((w) => `${w.method} ${w.url} ${w.status}`)).toEqual([`PATCH /users/${gid} 404`, 'POST /users 201']);
    const recreated = h.sim.state.snapshot().users[0];
    expect(await scim.bridge('u-boss')).toMatchObject({ syncState: 'synced', graphId: recreated.id });
    expect(h.sim.state.snapshot().users.map((u) => u.displayName)).toEqual(['Grace B.']);
  });
});

it('assigns again a license the bridge assigned and sets again the manager it set, when changed in Entra', async () => {
  h = await startHarness({ mode: 'user-sync', overrides: { 'graph.allowTenantDirSync': true } });
  const scim = h.scim;
  await scim.createUser('u-boss', { ...boss, password: undefined });
  await scim.createUser('u-ada', withManager);
  await h.engine.runOnce();
  await h.engine.reconcile({ full: false });
  const dir = h.sim.state.directory;
  const adaId = (await scim.bridge('u-ada')).graphId;
  const user = dir.users.get(adaId)!;
  user.props.assignedLicenses = [];
  user.managerId = undefined;
  dir.touch(user);
  h.clearLog();
  const summary = await h.engine.reconcile({ full: false });
  expect(summary.drifted).toEqual([{ resourceType: 'User', id: scim.id('u-ada'), graphId: adaId, attributes: ['assignedLicenses', 'manager'] }]);
  expect(named(h)).toEqual([
    {
      method: 'POST',
      url: '/users/{ada@example.com}/assignLicense',
      body: { addLicenses: [{ disabledPlans: [], skuId: '6fd2c87f-b296-42f0-b197-1e91e994b900' }], removeLicenses: [] },
      status: 200,
    },
    { method: 'PUT', url: '/users/{ada@example.com}/manager/$ref', body: { '@odata.id': '{graph}/v1.0/directoryObjects/{boss@example.com}' }, status: 204 },
  ]);
});

it("the console's drift view lists the drift events the engine recorded", async () => {
  h = await startHarness({ mode: 'user-sync', overrides: { 'graph.allowTenantDirSync': true } });
  await h.scim.createUser('u-ada', { ...ada, entitlements: [] });
  await h.engine.runOnce();
  await h.engine.reconcile({ full: false });
  editInEntra(h, 'ada@example.com', { jobTitle: 'Intruder' });
  await h.engine.reconcile({ full: false });
  const graphId = (await h.scim.bridge('u-ada')).graphId;
  // What /admin/api/drift and the console's Drift page read.
  expect(h.store.admin.drift(10)).toEqual([
    {
      seq: expect.any(Number),
      at: expect.any(String),
      action: 'sync.drift',
      resourceType: 'User',
      resourceId: h.scim.id('u-ada'),
      detail: { graphId, attributes: ['jobTitle'], changedBy: 'outside the bridge (Graph delta)', detectedAt: expect.any(String), reverted: true },
    },
  ]);
});

it('a dry-run deployment finds drift but sends no revert and never records one as reverted', async () => {
  h = await startHarness({ mode: 'user-sync', overrides: { 'graph.allowTenantDirSync': true } });
  await h.scim.createUser('u-boss', { ...boss, password: undefined });
  await h.engine.runOnce();
  await h.engine.reconcile({ full: false });
  // The same database under graph.dryRun, as after a restart with the flag set.
  await h.engine.stop();
  const config = loadConfig({ env: {}, overrides: { ...structuredClone(h.config), graph: { ...h.config.graph, dryRun: true } } });
  const dry = h.newEngine({ config });
  editInEntra(h, 'boss@example.com', { displayName: 'Renamed' });
  h.clearLog();
  const summary = await dry.reconcile({ full: false });
  await dry.stop();
  expect(summary).toEqual({
    full: false,
    examined: 1,
    reverted: 0,
    errors: [],
    drifted: [{ resourceType: 'User', id: h.scim.id('u-boss'), graphId: expect.any(String), attributes: ['displayName'] }],
  });
  expect(named(h)).toEqual([]);
  const audit = h.store.audit.list({ resourceType: 'User', resourceId: h.scim.id('u-boss') }).filter((a) => a.action === 'sync.drift');
  expect(audit.map((a) => a.detail)).toEqual([
    {
      graphId: expect.any(String),
      attributes: ['displayName'],
      changedBy: 'outside the bridge (Graph delta)',
      detectedAt: expect.any(String),
      reverted: false,
      dryRun: true,
    },
  ]);
});
