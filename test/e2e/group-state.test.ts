// Groups report their sync state and Graph id on GET like users, in the bridge's Group extension:
// `skipped` with the reason when the mode or groups.push does not push them (and /healthz does not
// count them synced); pushed once groups.push is turned on.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { loadConfig } from '../../src/config';
import { leastGrant } from '../../src/graph/permissions';
import { startBridge, type Bridge } from '../../src/main';
import { startSimulator, type RunningSimulator } from '../../src/simulator';
import { boss } from './fixtures';
import { named, startHarness, type Harness, simulatorGraph } from './harness';

jest.setTimeout(60_000);

const GROUP_EXT = 'urn:ietf:params:scim:schemas:extension:graphbridge:2.0:Group';
const CORE_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const person = { ...boss, password: undefined };

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

test('universal-sync: GET reports the group synced with its Graph id', async () => {
  h = await startHarness({ mode: 'universal-sync', overrides: { 'graph.allowTenantDirSync': true } });
  await h.scim.createUser('u-boss', person);
  await h.scim.createGroup('g-eng', 'Engineering', ['u-boss']);
  expect((await h.scim.getGroup('g-eng'))[GROUP_EXT]).toEqual({ source: 'okta', syncState: 'pending' });
  await h.engine.runOnce();
  const graphGroup = h.sim.state.snapshot().groups.find((g) => g.displayName === 'Engineering')!;
  const body = await h.scim.getGroup('g-eng');
  expect(body.schemas).toEqual([CORE_GROUP, GROUP_EXT]);
  expect(body[GROUP_EXT]).toEqual({ source: 'okta', graphId: graphGroup.id, syncState: 'synced' });
});

test('profile-sync without groups.push: skipped with the reason; pushed once groups.push is on', async () => {
  h = await startHarness({ mode: 'profile-sync' });
  await h.scim.createUser('u-boss', person);
  await h.scim.createGroup('g-eng', 'Engineering', ['u-boss']);
  await h.engine.runOnce();
  expect(named(h).filter((w) => w.url.startsWith('/groups'))).toEqual([]);
  expect((await h.scim.getGroup('g-eng'))[GROUP_EXT]).toEqual({
    source: 'okta',
    syncState: 'skipped',
    lastSyncError: 'profile-sync pushes groups only with groups.push: true',
  });
  expect(h.engine.status().counts).toEqual({ pending: 0, synced: 1, error: 0, blocked: 0, skipped: 1 });

  // The bridge restarted with groups.push: the skipped group is pushed, with its member.
  const config = loadConfig({ env: {}, overrides: { ...structuredClone(h.config), groups: { push: true } } });
  // The app holds what pushing groups needs (an operator grants it with groups.push).
  h.sim.grant(leastGrant(config, config.mode));
  const engine = h.newEngine({ config });
  try {
    h.clearLog();
    await engine.runOnce();
    expect(named(h)).toEqual([
      {
        method: 'POST',
        url: '/groups',
        body: { displayName: 'Engineering', mailNickname: 'Engineering', securityEnabled: true, mailEnabled: false },
        status: 201,
      },
      { method: 'POST', url: '/groups/{Engineering}/members/$ref', body: { '@odata.id': '{graph}/v1.0/directoryObjects/{boss@example.com}' }, status: 204 },
    ]);
    const graphGroup = h.sim.state.snapshot().groups.find((g) => g.displayName === 'Engineering')!;
    expect((await h.scim.getGroup('g-eng'))[GROUP_EXT]).toEqual({ source: 'okta', graphId: graphGroup.id, syncState: 'synced' });
  } finally {
    await engine.stop();
  }
});

describe('/healthz', () => {
  let dir: string;
  let sim: RunningSimulator;
  let bridge: Bridge | undefined;
  afterEach(async () => {
    await bridge?.close();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('does not count a group the mode does not push as synced', async () => {
    dir = mkdtempSync(join(tmpdir(), 'bridge-groups-'));
    sim = await startSimulator({ port: 0, dataDir: dir, throttling: false });
    const token = 'okta-token-0123456789abcdef';
    const file = join(dir, 'bridge.json');
    writeFileSync(
      file,
      JSON.stringify({
        mode: 'license-only',
        port: 0,
        logLevel: 'silent',
        database: join(dir, 'bridge.sqlite'),
        sources: [{ id: 'okta', token }],
        groups: { push: true },
        graph: simulatorGraph(sim),
      }),
    );
    bridge = await startBridge(loadConfig({ file, env: {} }));
    const created = await request(bridge.scimUrl)
      .post('/Groups')
      .set('Authorization', `Bearer ${token}`)
      .send({ schemas: [CORE_GROUP], displayName: 'Sales' });
    expect(created.status).toBe(201);
    let ext: Record<string, unknown> = {};
    while (ext.syncState !== 'skipped') {
      ext = (await request(bridge.scimUrl).get(`/Groups/${created.body.id}`).set('Authorization', `Bearer ${token}`)).body[GROUP_EXT];
      if (ext.syncState !== 'skipped') await new Promise((r) => setTimeout(r, 100));
    }
    expect(ext).toEqual({ source: 'okta', syncState: 'skipped', lastSyncError: 'license-only does not push groups to Graph' });
    const health = await request(bridge.scimUrl.replace(/\/scim\/v2$/, '')).get('/healthz');
    expect(health.body.queue).toMatchObject({ pending: 0, synced: 0, error: 0, blocked: 0, skipped: 1 });
  });
});
