// Commands that only look never write: preflight, plan and status, run as a what-if in another
// mode, leave every table as it was and do not record a mode change (only a serving bridge does).
// Users a bridge marked synced under another mode are found and diffed again by reconcile --full.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import * as commands from '../../src/cli/engine-commands';
import { loadConfig, type Mode } from '../../src/config';
import { createGraphClient } from '../../src/graph/client';
import { derivedImmutableId } from '../../src/rules/identity';
import { createLogger } from '../../src/log';
import { leastGrant } from '../../src/graph/permissions';
import { startBridge, type Bridge } from '../../src/main';
import { startSimulator, type RunningSimulator } from '../../src/simulator';
import { openStore } from '../../src/store';
import { createSyncEngine } from '../../src/sync/engine';
import { snapshot } from '../http/scim-harness';
import { captureIo } from './cli-in-process';
import { until } from './cli-process';
import { ada } from './fixtures';
import { startHarness, type Harness, simulatorGraph } from './harness';

jest.setTimeout(90_000);

const TOKEN = 'okta-token-0123456789abcdef';
const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const EXT = 'urn:ietf:params:scim:schemas:extension:graphbridge:2.0:User';

describe('preflight, plan and status', () => {
  let dir: string;
  let sim: RunningSimulator;
  let bridge: Bridge | undefined;
  let io: ReturnType<typeof captureIo>;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bridge-look-'));
    sim = await startSimulator({ port: 0, dataDir: dir, throttling: false });
    io = captureIo();
  });
  afterEach(async () => {
    await bridge?.close();
    bridge = undefined;
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const configFile = (mode: Mode, extra: Record<string, unknown> = {}) => {
    const file = join(dir, `${mode}.json`);
    writeFileSync(
      file,
      JSON.stringify({
        mode,
        port: 0,
        logLevel: 'silent',
        database: join(dir, 'bridge.sqlite'),
        sources: [{ id: 'okta', token: TOKEN }],
        defaults: { usageLocation: 'US' },
        graph: {
          ...simulatorGraph(sim),
          allowTenantDirSync: true,
        },
        ...extra,
      }),
    );
    return file;
  };
  const synced = (id: string) =>
    until(async () => (await request(bridge!.scimUrl).get(`/Users/${id}`).set('Authorization', `Bearer ${TOKEN}`)).body[EXT].syncState === 'synced', {
      what: `user ${id} synced`,
    });
  const serveAndSync = async (file: string) => {
    bridge = await startBridge(loadConfig({ file, env: {} }));
    const created = await request(bridge.scimUrl)
      .post('/Users')
      .set('Authorization', `Bearer ${TOKEN}`)
      .send({ schemas: [USER_SCHEMA], userName: `u${Date.now()}@example.com` });
    expect(created.status).toBe(201);
    await synced(created.body.id);
    const previous = bridge.store.previousMode;
    await bridge.close();
    bridge = undefined;
    return previous;
  };

  test('a what-if in another mode changes no table, and the next start in the serving mode records no mode change', async () => {
    const profile = configFile('profile-sync');
    const user = configFile('user-sync');
    expect(await serveAndSync(profile)).toBe(null);
    const before = snapshot(join(dir, 'bridge.sqlite'));

    expect(await commands.preflight(user, io)).toBe(0);
    expect(await commands.plan(user, {}, io)).toBe(0);
    expect(await commands.plan(user, { mode: 'universal-sync' }, io)).toBe(0);
    expect(await commands.status(user, { json: true }, io)).toBe(0);
    expect(await commands.preflight(profile, io)).toBe(0);
    expect(await commands.status(profile, {}, io)).toBe(0);
    expect(io.stdout.text).toMatch(/^mode: user-sync\n(warning: .*\n)*preflight passed\n/);
    expect(snapshot(join(dir, 'bridge.sqlite'))).toEqual(before);

    // The bridge starts again in its own mode: no mode change was recorded by the what-ifs.
    expect(await serveAndSync(profile)).toBe(null);
  });

  test('a what-if preflight against a stopped user-sync bridge does not make its next start refuse to serve', async () => {
    const user = configFile('user-sync');
    const profile = configFile('profile-sync');
    await serveAndSync(user);
    const before = snapshot(join(dir, 'bridge.sqlite'));
    await commands.preflight(profile, io);
    await commands.plan(profile, {}, io);
    expect(snapshot(join(dir, 'bridge.sqlite'))).toEqual(before);
    expect(await serveAndSync(user)).toBe(null);
  });

  test('the dashboard, /healthz, /readyz and /metrics change no table', async () => {
    bridge = await startBridge(loadConfig({ file: configFile('profile-sync', { adminToken: 'admin-token-0123456789' }), env: {} }));
    const created = await request(bridge.scimUrl)
      .post('/Users')
      .set('Authorization', `Bearer ${TOKEN}`)
      .send({ schemas: [USER_SCHEMA], userName: 'ann@example.com' });
    await synced(created.body.id);
    // The engine's own loop is stopped, so that only the reads below could change anything.
    await bridge.engine.stop();
    const before = snapshot(join(dir, 'bridge.sqlite'));
    const origin = bridge.scimUrl.replace(/\/scim\/v2$/, '');
    for (const path of ['/healthz', '/readyz', '/metrics']) expect((await request(origin).get(path)).status).toBeLessThan(600);
    for (const path of ['/admin/', '/admin/api/overview', '/admin/api/users', '/admin/api/queue', '/admin/api/graph-log', '/admin/api/drift']) {
      expect([path, (await request(origin).get(path).set('Authorization', 'Bearer admin-token-0123456789')).status]).toEqual([path, 200]);
    }
    expect(snapshot(join(dir, 'bridge.sqlite'))).toEqual(before);
  });

  test('one-shot commands that change sync state refuse a mode other than the serving one', async () => {
    await serveAndSync(configFile('user-sync'));
    await expect(commands.retry(configFile('profile-sync'), {}, io)).rejects.toThrow(
      'the bridge runs in user-sync mode (recorded by serve) and this command was given profile-sync; run it with the serving mode, ' +
        'or start serve in profile-sync first (a mode change is recorded only by serve)',
    );
  });
});

describe('reconcile --full', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  test('re-queues users marked synced under another mode, so they get the serving mode attributes', async () => {
    h = await startHarness({ mode: 'profile-sync', overrides: { 'graph.allowTenantDirSync': true } });
    await h.scim.createUser('u-ada', { ...ada, entitlements: [], ['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User']: { department: 'R&D' } });
    await h.engine.runOnce();
    const id = h.scim.id('u-ada');
    // What the old behaviour left: user-sync recorded (by a what-if command), then the profile-sync
    // bridge still running re-applied everyone under profile-sync and marked them synced.
    const userSyncConfig = loadConfig({ env: {}, overrides: { ...structuredClone(h.config), mode: 'user-sync' } });
    const store = openStore(h.dbPath, { mode: 'user-sync', sources: h.config.sources });
    // The app holds what user-sync needs (an operator grants it before moving up).
    h.sim.grant(leastGrant(userSyncConfig, 'user-sync', { optional: true }));
    await h.engine.runOnce();
    expect(h.store.sync.get('User', id)).toMatchObject({ state: 'synced' });
    const logger = createLogger('silent');
    const engine = createSyncEngine({ config: userSyncConfig, store, graph: createGraphClient(userSyncConfig.graph, { logger }), logger });
    try {
      await engine.runOnce();
      const graphUser = () => h.sim.state.snapshot().users.find((u) => u.userPrincipalName === 'ada@example.com')!;
      expect(graphUser().onPremisesImmutableId ?? null).toBe(null);

      const summary = await engine.reconcile({ full: true });
      expect(summary).toMatchObject({ full: true, requeued: 1, errors: [] });
      expect(store.sync.get('User', id)).toMatchObject({ state: 'pending' });
      h.clearLog();
      await engine.runOnce();
      expect(graphUser()).toMatchObject({ onPremisesImmutableId: derivedImmutableId(id), mail: 'ada@example.com', department: 'R&D', jobTitle: 'Engineer' });
      expect(store.sync.get('User', id)).toMatchObject({ state: 'synced' });
      // Applied under user-sync now: a second full reconcile finds nothing to re-queue.
      expect(await engine.reconcile({ full: true })).toMatchObject({ requeued: 0 });
    } finally {
      await engine.stop();
      store.close();
    }
  });
});
