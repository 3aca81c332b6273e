// Group-based licensing (licenses.assignment: group): one licence group per SKU, created and
// licensed once, users added 20 to a PATCH; the simulator works the licences out asynchronously
// and the engine reads licenseAssignmentStates back, reporting a CountViolation on the user.
import { leastGrant } from '../../src/graph/permissions';
import { E3, named, startHarness, type Harness } from './harness';

jest.setTimeout(120_000);

const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP_NAME = 'scim-graph-bridge licence ENTERPRISEPACK';
const NICKNAME = new RegExp(`^sgb-licence-[0-9a-f]{12}-${E3.replace(/-/g, '')}$`);

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const group = (seats: number, overrides: Record<string, unknown> = {}) => ({
  mode: 'profile-sync' as const,
  seed: { skus: [{ skuId: E3, skuPartNumber: 'ENTERPRISEPACK', seats }] },
  overrides: { licenses: { default: ['ENTERPRISEPACK'], assignment: 'group' }, ...overrides },
  sim: { licenseProcessingMs: 0 },
  engine: { licenceReadbackDelayMs: 0 },
});

const memberRefs = (upns: string[]) => upns.map((u) => `{graph}/v1.0/directoryObjects/{${u}}`);
const upn = (i: number) => `u${String(i).padStart(2, '0')}@example.com`;
const stateOf = (h: Harness, u: string) => h.sim.state.snapshot().users.find((x) => x.userPrincipalName === u)!;

test('licences reach Graph as one group assignment and memberships 20 to a PATCH; licenseAssignmentStates read back 15 users to a read', async () => {
  h = await startHarness(group(30));
  const upns = Array.from({ length: 25 }, (_, i) => upn(i));
  for (const [i, u] of upns.entries()) await h.scim.createUser(`u-${i}`, { schemas: [USER_SCHEMA], userName: u, active: true });
  await h.engine.runOnce();
  const writes = named(h).filter((w) => !(w.method === 'POST' && w.url === '/users'));
  expect(writes).toEqual([
    {
      method: 'POST',
      url: '/groups',
      body: {
        displayName: GROUP_NAME,
        mailNickname: expect.stringMatching(NICKNAME),
        description: expect.stringContaining('Licence group of scim-graph-bridge'),
        mailEnabled: false,
        securityEnabled: true,
      },
      status: 201,
    },
    {
      method: 'POST',
      url: `/groups/{${GROUP_NAME}}/assignLicense`,
      body: { addLicenses: [{ disabledPlans: [], skuId: E3 }], removeLicenses: [] },
      status: 202,
    },
    { method: 'PATCH', url: `/groups/{${GROUP_NAME}}`, body: { 'members@odata.bind': memberRefs(upns.slice(0, 20)) }, status: 204 },
    { method: 'PATCH', url: `/groups/{${GROUP_NAME}}`, body: { 'members@odata.bind': memberRefs(upns.slice(20)) }, status: 204 },
  ]);
  const groupId = h.sim.state.snapshot().groups.find((g) => g.displayName === GROUP_NAME)!.id;
  // Entra's view: the licence is inherited from the group, one seat per user.
  expect(stateOf(h, upns[0]).assignedLicenses).toEqual([{ disabledPlans: [], skuId: E3 }]);
  expect(stateOf(h, upns[0]).licenseAssignmentStates).toEqual([
    { skuId: E3, disabledPlans: [], assignedByGroup: groupId, state: 'Active', error: 'None', lastUpdatedDateTime: expect.any(String) },
  ]);
  expect(h.sim.state.snapshot().subscribedSkus.find((s) => s.skuId === E3)).toMatchObject({ consumed: 25 });
  const reads = h.sim.requests.list({ method: 'GET', pathPrefix: '/users' }).filter((r) => decodeURIComponent(r.url).includes('licenseAssignmentStates'));
  expect(reads).toHaveLength(2);
  expect(decodeURIComponent(reads[0].url)).toMatch(/\$filter=id in \(('[0-9a-f-]{36}',?){15}\)&\$select=id,licenseAssignmentStates$/);
  for (let i = 0; i < 25; i++) expect(await h.scim.bridge(`u-${i}`)).toMatchObject({ syncState: 'synced' });

  // A second run writes nothing: the group is created and licensed once.
  h.clearLog();
  await h.scim.createUser('u-late', { schemas: [USER_SCHEMA], userName: 'late@example.com', active: true });
  // plan shows the membership instead of an assignLicense.
  const groupGraphId = String(h.sim.state.snapshot().groups.find((g) => g.displayName === GROUP_NAME)!.id);
  expect(h.engine.plan().filter((w) => w.id === h!.scim.id('u-late') && w.url !== '/users')).toEqual([
    {
      resourceType: 'User',
      id: h.scim.id('u-late'),
      method: 'PATCH',
      url: `/groups/${groupGraphId}`,
      note: 'members@odata.bind: {new} (licence ENTERPRISEPACK, with up to 19 other users)',
    },
  ]);
  await h.engine.runOnce();
  expect(named(h).filter((w) => !(w.method === 'POST' && w.url === '/users'))).toEqual([
    { method: 'POST', url: `/groups/{${GROUP_NAME}}/members/$ref`, body: { '@odata.id': '{graph}/v1.0/directoryObjects/{late@example.com}' }, status: 204 },
  ]);
});

test('licence states are read back between the passes of a long run, not only once the whole run (an initial load: hours) is done', async () => {
  // Passes of 20 rows: the first 20 users' read-back is due once their PATCH is acknowledged.
  h = await startHarness({ ...group(30), engine: { licenceReadbackDelayMs: 0, batchSize: 20 } });
  for (let i = 0; i < 25; i++) await h.scim.createUser(`u-${i}`, { schemas: [USER_SCHEMA], userName: upn(i), active: true });
  await h.engine.runOnce();
  const log = h.sim.requests.list();
  const creates = log.flatMap((r, i) => (r.method === 'POST' && r.url === '/users' ? [i] : []));
  const reads = log.flatMap((r, i) => (r.method === 'GET' && decodeURIComponent(r.url).includes('licenseAssignmentStates') ? [i] : []));
  expect(creates).toHaveLength(25);
  // The first read-back (15 of the first 20 users) comes before the 21st user is created.
  expect(reads.length).toBeGreaterThanOrEqual(2);
  expect(reads[0]).toBeLessThan(creates[20]);
  for (let i = 0; i < 25; i++) expect(await h.scim.bridge(`u-${i}`)).toMatchObject({ syncState: 'synced' });
});

test('a CountViolation Graph reports for the group licence shows on the user and in the seat-shortage count; retry reprocesses it', async () => {
  h = await startHarness(group(2));
  for (const i of [0, 1, 2]) await h.scim.createUser(`u-${i}`, { schemas: [USER_SCHEMA], userName: upn(i), active: true });
  await h.engine.runOnce();
  const groupId = h.sim.state.snapshot().groups.find((g) => g.displayName === GROUP_NAME)!.id;
  // Entra processes members in the order they were added: the third finds no seat.
  expect(stateOf(h, upn(2)).licenseAssignmentStates).toEqual([
    { skuId: E3, disabledPlans: [], assignedByGroup: groupId, state: 'Error', error: 'CountViolation', lastUpdatedDateTime: expect.any(String) },
  ]);
  expect(stateOf(h, upn(2)).assignedLicenses).toEqual([]);
  expect(await h.scim.bridge('u-2')).toMatchObject({
    syncState: 'error',
    lastSyncError: `no free seat of SKU ENTERPRISEPACK: Graph reports CountViolation for the licence inherited from the licence group ${groupId} (group-based licensing). Add seats or free some, then run "scim-graph-bridge retry".`,
  });
  expect(await h.scim.bridge('u-0')).toMatchObject({ syncState: 'synced' });
  expect(h.store.sync.seatShortages()).toEqual({ ENTERPRISEPACK: 1 });

  // A seat is bought; retry has Entra work the user out again, and the read-back clears the error.
  h.sim.state.directory.skus.get(E3)!.seats = 3;
  h.clearLog();
  h.engine.retry('User', h.scim.id('u-2'));
  await h.engine.runOnce();
  expect(named(h)).toEqual([{ method: 'POST', url: `/users/{${upn(2)}}/reprocessLicenseAssignment`, status: 200 }]);
  expect(stateOf(h, upn(2)).assignedLicenses).toEqual([{ disabledPlans: [], skuId: E3 }]);
  expect(await h.scim.bridge('u-2')).toMatchObject({ syncState: 'synced' });
  expect(h.store.sync.seatShortages()).toEqual({});
});

test('a user that no longer gets the licence leaves the group, and Entra takes the licence and the seat back', async () => {
  h = await startHarness({ ...group(5, { licenses: { assignment: 'group' } }) });
  await h.scim.createUser('u-1', { schemas: [USER_SCHEMA], userName: upn(1), active: true, entitlements: [{ value: 'ENTERPRISEPACK' }] });
  await h.engine.runOnce();
  expect(stateOf(h, upn(1)).assignedLicenses).toEqual([{ disabledPlans: [], skuId: E3 }]);
  h.clearLog();
  await h.scim.patchUser('u-1', [{ op: 'remove', path: 'entitlements' }]);
  await h.engine.runOnce();
  expect(named(h)).toEqual([{ method: 'DELETE', url: `/groups/{${GROUP_NAME}}/members/{${upn(1)}}/$ref`, status: 204 }]);
  expect(stateOf(h, upn(1)).assignedLicenses).toEqual([]);
  expect(stateOf(h, upn(1)).licenseAssignmentStates).toEqual([]);
  expect(h.sim.state.snapshot().subscribedSkus.find((s) => s.skuId === E3)).toMatchObject({ consumed: 0 });
  expect(await h.scim.bridge('u-1')).toMatchObject({ syncState: 'synced' });
});

test('direct -> group: the user joins the group first, and the direct licence goes only once Graph reports the group licence Active', async () => {
  h = await startHarness({
    mode: 'profile-sync',
    seed: { skus: [{ skuId: E3, skuPartNumber: 'ENTERPRISEPACK', seats: 5 }] },
    overrides: { licenses: { default: ['ENTERPRISEPACK'] } },
    // Entra takes its time: the first read-back finds no group state yet.
    sim: { licenseProcessingMs: 60_000 },
    engine: { licenceReadbackDelayMs: 0 },
  });
  await h.scim.createUser('u-1', { schemas: [USER_SCHEMA], userName: upn(1), active: true });
  await h.engine.runOnce();
  expect(named(h).filter((w) => w.url !== '/users')).toEqual([
    { method: 'POST', url: `/users/{${upn(1)}}/assignLicense`, body: { addLicenses: [{ disabledPlans: [], skuId: E3 }], removeLicenses: [] }, status: 200 },
  ]);
  await h.engine.stop();

  // The same database and tenant, now with licenses.assignment group.
  const config = { ...h.config, licenses: { ...h.config.licenses, assignment: 'group' as const } };
  // The admin grants what group assignment needs (Group.ReadWrite.All) before switching.
  h.sim.grant(leastGrant(config, config.mode));
  const engine = h.newEngine({ config, licenceReadbackDelayMs: 0, tokenReadbackDelayMs: 0 });
  try {
    h.clearLog();
    await engine.runOnce();
    expect(named(h).filter((w) => w.method !== 'POST' || w.url !== '/groups')).toEqual([
      {
        method: 'POST',
        url: `/groups/{${GROUP_NAME}}/assignLicense`,
        body: { addLicenses: [{ disabledPlans: [], skuId: E3 }], removeLicenses: [] },
        status: 202,
      },
      { method: 'POST', url: `/groups/{${GROUP_NAME}}/members/$ref`, body: { '@odata.id': `{graph}/v1.0/directoryObjects/{${upn(1)}}` }, status: 204 },
    ]);
    // Not processed yet: the direct licence stays, and the user holds it.
    expect(stateOf(h, upn(1)).assignedLicenses).toEqual([{ disabledPlans: [], skuId: E3 }]);
    h.clearLog();
    await engine.runOnce();
    expect(named(h)).toEqual([]);

    // Entra has processed the membership: the next read-back sees Active, then the direct licence goes.
    for (const [id] of h.sim.state.directory.licenseQueue) h.sim.state.directory.licenseQueue.set(id, 0);
    await engine.runOnce();
    expect(named(h)).toEqual([]);
    await engine.runOnce();
    expect(named(h)).toEqual([{ method: 'POST', url: `/users/{${upn(1)}}/assignLicense`, body: { addLicenses: [], removeLicenses: [E3] }, status: 200 }]);
    const groupId = h.sim.state.snapshot().groups.find((g) => g.displayName === GROUP_NAME)!.id;
    expect(stateOf(h, upn(1)).assignedLicenses).toEqual([{ disabledPlans: [], skuId: E3 }]);
    expect(stateOf(h, upn(1)).licenseAssignmentStates).toEqual([
      { skuId: E3, disabledPlans: [], assignedByGroup: groupId, state: 'Active', error: 'None', lastUpdatedDateTime: expect.any(String) },
    ]);
    expect(h.sim.state.snapshot().subscribedSkus.find((s) => s.skuId === E3)).toMatchObject({ consumed: 1 });
    expect(await h.scim.bridge('u-1')).toMatchObject({ syncState: 'synced' });
  } finally {
    await engine.stop();
  }
});

test('group -> direct: the direct licence is assigned first, and the user leaves the group after it', async () => {
  h = await startHarness(group(5));
  await h.scim.createUser('u-1', { schemas: [USER_SCHEMA], userName: upn(1), active: true });
  await h.engine.runOnce();
  expect(stateOf(h, upn(1)).assignedLicenses).toEqual([{ disabledPlans: [], skuId: E3 }]);
  await h.engine.stop();
  const config = { ...h.config, licenses: { ...h.config.licenses, assignment: 'direct' as const } };
  const engine = h.newEngine({ config, licenceReadbackDelayMs: 0, tokenReadbackDelayMs: 0 });
  try {
    h.clearLog();
    await engine.runOnce();
    expect(named(h)).toEqual([
      { method: 'POST', url: `/users/{${upn(1)}}/assignLicense`, body: { addLicenses: [{ disabledPlans: [], skuId: E3 }], removeLicenses: [] }, status: 200 },
      { method: 'DELETE', url: `/groups/{${GROUP_NAME}}/members/{${upn(1)}}/$ref`, status: 204 },
    ]);
    expect(stateOf(h, upn(1)).licenseAssignmentStates).toEqual([
      { skuId: E3, disabledPlans: [], assignedByGroup: null, state: 'Active', error: 'None', lastUpdatedDateTime: expect.any(String) },
    ]);
    expect(h.sim.state.snapshot().subscribedSkus.find((s) => s.skuId === E3)).toMatchObject({ consumed: 1 });
    expect(await h.scim.bridge('u-1')).toMatchObject({ syncState: 'synced' });
  } finally {
    await engine.stop();
  }
});

test('finds its own licence group again by its marker, and never uses a group under that name it did not create', async () => {
  h = await startHarness(group(5));
  const marker = 'abcdefabcdef';
  const nickname = `sgb-licence-${marker}-${E3.replace(/-/g, '')}`;
  h.store.engine.setMeta('licenses.groups', JSON.stringify({ marker, groups: {} }));
  const seedGroup = (id: string, description: string) =>
    h!.sim.state.directory.groups.set(id, {
      kind: 'group',
      id,
      props: { id, displayName: GROUP_NAME, mailNickname: nickname, description, securityEnabled: true, mailEnabled: false, groupTypes: [] },
      members: new Set(),
      seq: 0,
    });
  const foreign = '11111111-1111-4111-8111-111111111111';
  seedGroup(foreign, 'made by hand');
  await h.scim.createUser('u-1', { schemas: [USER_SCHEMA], userName: upn(1), active: true });
  await h.engine.runOnce();
  expect(named(h).filter((w) => w.url !== '/users')).toEqual([]);
  expect(await h.scim.bridge('u-1')).toMatchObject({
    syncState: 'pending',
    lastSyncError: `a group named ${nickname} exists that the bridge did not create; it is never used as a licence group`,
  });

  // The bridge's own group (created before a crash lost its id): used, not created again.
  h.sim.state.directory.groups.delete(foreign);
  const own = '22222222-2222-4222-8222-222222222222';
  seedGroup(own, `Licence group of scim-graph-bridge (${marker}) for ENTERPRISEPACK`);
  h.clearLog();
  await h.engine.runOnce();
  expect(named(h)).toEqual([
    {
      method: 'POST',
      url: `/groups/{${GROUP_NAME}}/assignLicense`,
      body: { addLicenses: [{ disabledPlans: [], skuId: E3 }], removeLicenses: [] },
      status: 202,
    },
    { method: 'POST', url: `/groups/{${GROUP_NAME}}/members/$ref`, body: { '@odata.id': `{graph}/v1.0/directoryObjects/{${upn(1)}}` }, status: 204 },
  ]);
  expect(h.sim.state.snapshot().groups.find((g) => g.id === own)!.members).toHaveLength(1);
});

test('a licence group and users that Graph is still replicating are retried, never an error', async () => {
  h = await startHarness({ ...group(5), engine: { licenceReadbackDelayMs: 0, retry: { baseMs: 100, capMs: 200 } } });
  h.sim.faults.set({ replicationLagMs: 400 });
  await h.scim.createUser('u-1', { schemas: [USER_SCHEMA], userName: upn(1), active: true });
  await h.engine.runOnce();
  expect(await h.scim.bridge('u-1')).toMatchObject({ syncState: 'pending' });
  for (let i = 0; i < 50 && (await h.scim.bridge('u-1')).syncState !== 'synced'; i++) {
    await new Promise((r) => setTimeout(r, 200));
    await h.engine.runOnce();
  }
  expect(await h.scim.bridge('u-1')).toMatchObject({ syncState: 'synced' });
  expect(stateOf(h, upn(1)).assignedLicenses).toEqual([{ disabledPlans: [], skuId: E3 }]);
  expect(h.sim.state.snapshot().groups.filter((g) => g.displayName === GROUP_NAME)).toHaveLength(1);
  // The group is old now; a user created in this pass is added before it replicated.
  await h.scim.createUser('u-2', { schemas: [USER_SCHEMA], userName: upn(2), active: true });
  await h.engine.runOnce();
  expect(await h.scim.bridge('u-2')).toMatchObject({
    syncState: 'pending',
    lastSyncError:
      'Request_BadRequest: The source resource object or one of the objects being referenced do not exist. (replication delay after create; retrying)',
  });
  for (let i = 0; i < 50 && (await h.scim.bridge('u-2')).syncState !== 'synced'; i++) {
    await new Promise((r) => setTimeout(r, 200));
    await h.engine.runOnce();
  }
  expect(stateOf(h, upn(2)).assignedLicenses).toEqual([{ disabledPlans: [], skuId: E3 }]);
});

test('license-only: a matched user joins the licence group, and leaves it when deleted in SCIM', async () => {
  const existing = {
    id: '00000000-0000-4000-8000-000000000001',
    userPrincipalName: upn(1),
    displayName: 'P1',
    accountEnabled: true,
    usageLocation: 'US',
    mailNickname: 'p1',
  };
  h = await startHarness({ ...group(5), mode: 'license-only', seed: { skus: [{ skuId: E3, skuPartNumber: 'ENTERPRISEPACK', seats: 5 }], users: [existing] } });
  await h.scim.createUser('u-1', { schemas: [USER_SCHEMA], userName: upn(1), active: true });
  await h.engine.runOnce();
  expect(named(h).filter((w) => w.url !== '/groups')).toEqual([
    {
      method: 'POST',
      url: `/groups/{${GROUP_NAME}}/assignLicense`,
      body: { addLicenses: [{ disabledPlans: [], skuId: E3 }], removeLicenses: [] },
      status: 202,
    },
    { method: 'POST', url: `/groups/{${GROUP_NAME}}/members/$ref`, body: { '@odata.id': `{graph}/v1.0/directoryObjects/{${upn(1)}}` }, status: 204 },
  ]);
  expect(stateOf(h, upn(1)).assignedLicenses).toEqual([{ disabledPlans: [], skuId: E3 }]);
  h.clearLog();
  await h.scim.deleteUser('u-1');
  await h.engine.runOnce();
  expect(named(h)).toEqual([{ method: 'DELETE', url: `/groups/{${GROUP_NAME}}/members/{${upn(1)}}/$ref`, status: 204 }]);
  expect(stateOf(h, upn(1)).assignedLicenses).toEqual([]);
});

test('direct assignment is unchanged: one assignLicense per user, no group', async () => {
  h = await startHarness({ ...group(5, { licenses: { default: ['ENTERPRISEPACK'] } }) });
  await h.scim.createUser('u-1', { schemas: [USER_SCHEMA], userName: upn(1), active: true });
  await h.engine.runOnce();
  expect(named(h).filter((w) => w.url !== '/users')).toEqual([
    { method: 'POST', url: `/users/{${upn(1)}}/assignLicense`, body: { addLicenses: [{ disabledPlans: [], skuId: E3 }], removeLicenses: [] }, status: 200 },
  ]);
});
