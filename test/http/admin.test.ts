// The admin surface of a started bridge: /healthz, /readyz, /metrics, and the dashboard with its
// JSON API behind the admin token. Secrets (source tokens, the admin token, passwords) never appear.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/log';
import { type Bridge, startBridge } from '../../src/main';

const SOURCE_TOKEN = 'admin-test-source-token-0123456789';
const ADMIN_TOKEN = 'admin-test-admin-token-0123456789';
const PASSWORD = 'Sup3r-Secret-Passw0rd!';

let dir: string;
let bridge: Bridge;
let origin: string;

async function waitFor<T>(fn: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bridge-admin-'));
  const config = loadConfig({
    env: {},
    overrides: {
      port: 0,
      host: '127.0.0.1',
      database: join(dir, 'bridge.sqlite'),
      adminToken: ADMIN_TOKEN,
      sources: [{ id: 'okta', token: SOURCE_TOKEN }],
      logLevel: 'silent',
    },
  });
  bridge = await startBridge(config, { logger: createLogger('silent') });
  origin = bridge.scimUrl.replace(/\/scim\/v2$/, '');
  const created = await request(origin)
    .post('/scim/v2/Users')
    .set('Authorization', `Bearer ${SOURCE_TOKEN}`)
    .send({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'ada@example.com', displayName: 'Ada Lovelace', password: PASSWORD });
  expect(created.status).toBe(201);
  await waitFor(async () => {
    const r = await request(origin).get('/healthz');
    return r.body.queue.synced === 1 ? true : undefined;
  });
});

afterAll(async () => {
  await bridge?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('GET /healthz reports mode, engine state, Graph target and counts by sync state', async () => {
  const res = await request(origin).get('/healthz');
  expect(res.status).toBe(200);
  expect(res.body).toEqual({
    status: 'ok',
    mode: 'profile-sync',
    engine: { state: 'running', reasons: [], warnings: [] },
    graph: { simulator: true, baseUrl: bridge.simulator!.url, dryRun: false },
    queue: { pending: 0, synced: 1, error: 0, blocked: 0, 'User.synced': 1 },
  });
});

test('GET /readyz answers 200 once preflight has run', async () => {
  const res = await request(origin).get('/readyz');
  expect(res.status).toBe(200);
  expect(res.body).toEqual({ ready: true });
});

test('GET /metrics exposes resources by type and state and Graph requests by kind and status', async () => {
  const res = await request(origin).get('/metrics');
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain/);
  expect(res.text).toContain('bridge_resources{type="User",state="synced"} 1');
  expect(res.text).toContain('bridge_engine_blocked 0');
  expect(res.text).toContain('bridge_graph_requests_total{kind="POST /users",status="201"} 1');
  expect(res.text).toContain('bridge_scim_requests_total{source="okta",method="POST",route="/scim/v2/Users",status="201"} 1');
});

test('the dashboard without the admin token: JSON 401, HTML redirect to sign-in', async () => {
  const api = await request(origin).get('/admin/api/overview');
  expect(api.status).toBe(401);
  expect(api.headers['www-authenticate']).toBe('Bearer realm="scim-graph-bridge admin"');
  expect(api.body).toEqual({ error: 'admin token required' });
  const page = await request(origin).get('/admin/').set('Accept', 'text/html');
  expect(page.status).toBe(302);
  expect(page.headers.location).toBe('/admin/login');
  const wrong = await request(origin).get('/admin/api/overview').set('Authorization', `Bearer ${SOURCE_TOKEN}`);
  expect(wrong.status).toBe(401);
});

test('POST /admin/login with the admin token sets an httpOnly cookie that opens the dashboard', async () => {
  const bad = await request(origin).post('/admin/login').type('form').send({ token: 'nope' });
  expect(bad.status).toBe(401);
  expect(bad.text).toContain('That token is not the admin token.');
  const good = await request(origin).post('/admin/login').type('form').send({ token: ADMIN_TOKEN });
  expect(good.status).toBe(303);
  const cookie = good.headers['set-cookie'][0];
  expect(cookie).toMatch(/^bridge_admin=.+; Path=\/admin; HttpOnly; SameSite=Strict$/);
  const page = await request(origin).get('/admin/').set('Cookie', cookie.split(';')[0]);
  expect(page.status).toBe(200);
  expect(page.text).toContain('<h2>Users <span id="users-total"');
});

test('GET /admin/api/users shows sync state, Graph id and per-attribute attribution', async () => {
  const res = await request(origin).get('/admin/api/users?limit=10').set('Authorization', `Bearer ${ADMIN_TOKEN}`);
  expect(res.status).toBe(200);
  const graphUser = bridge.simulator!.state.snapshot().users.find((u: any) => u.userPrincipalName === 'ada@example.com') as any;
  expect(res.body.total).toBe(1);
  const [row] = res.body.items;
  expect(row).toEqual({
    id: expect.any(String),
    userName: 'ada@example.com',
    source: 'okta',
    active: true,
    syncState: 'synced',
    lastSyncError: null,
    graphId: graphUser.id,
    dirSyncEnabled: false,
    tokensValidFrom: null,
    attribution: expect.objectContaining({ userName: { source: 'okta', at: expect.any(String) }, displayName: { source: 'okta', at: expect.any(String) } }),
  });
});

test('GET /admin/api/graph-log lists the Graph operations without bodies', async () => {
  const res = await request(origin).get('/admin/api/graph-log').set('Authorization', `Bearer ${ADMIN_TOKEN}`);
  expect(res.status).toBe(200);
  const create = res.body.find((e: any) => e.method === 'POST' && e.path === '/users');
  expect(create).toEqual({ at: expect.any(String), method: 'POST', path: '/users', status: 201, ms: expect.any(Number) });
});

test('no admin response carries a token or a password', async () => {
  const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };
  const bodies = await Promise.all(
    ['/healthz', '/metrics', '/admin/api/overview', '/admin/api/users', '/admin/api/queue', '/admin/api/graph-log', '/admin/api/drift', '/admin/'].map(
      (p) => request(origin).get(p).set(auth).then((r) => r.text),
    ),
  );
  for (const text of bodies) {
    expect(text).not.toContain(SOURCE_TOKEN);
    expect(text).not.toContain(ADMIN_TOKEN);
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(bridge.simulator!.clientSecret);
  }
});
