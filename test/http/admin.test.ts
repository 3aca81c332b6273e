// The admin surface of a started bridge: /healthz, /readyz, /metrics, and the dashboard with its
// JSON API behind the admin token. Secrets (source tokens, the admin token, passwords) never appear.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import request from 'supertest';
import { createAdminRouter } from '../../src/admin/router';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/log';
import { type Bridge, startBridge } from '../../src/main';
import { until } from '../e2e/cli-process';

const SOURCE_TOKEN = 'admin-test-source-token-0123456789';
const ADMIN_TOKEN = 'admin-test-admin-token-0123456789';
const PASSWORD = 'Sup3r-Secret-Passw0rd!';

let dir: string;
let bridge: Bridge;
let origin: string;

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
  await until(async () => (await request(origin).get('/healthz')).body.queue.synced === 1, { what: 'the user synced', ms: 15_000 });
});

afterAll(async () => {
  await bridge?.close();
  rmSync(dir, { recursive: true, force: true });
});

const COUNTS = {
  queue: { pending: 0, synced: 1, error: 0, blocked: 0, deprovisioning: 0, deprovisioned: 0 },
  resources: {
    User: { pending: 0, synced: 1, error: 0, blocked: 0, deprovisioning: 0, deprovisioned: 0 },
    Group: { pending: 0, synced: 0, error: 0, blocked: 0, deprovisioning: 0, deprovisioned: 0 },
  },
};

test('GET /healthz without the admin token gives state and counts only', async () => {
  const res = await request(origin).get('/healthz');
  expect(res.status).toBe(200);
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.body).toEqual({ status: 'ok', engine: { state: 'running' }, ...COUNTS });
});

test('GET /healthz with the admin token adds mode, reasons, warnings and the Graph target', async () => {
  const res = await request(origin).get('/healthz').set('Authorization', `Bearer ${ADMIN_TOKEN}`);
  expect(res.status).toBe(200);
  expect(res.body).toEqual({
    status: 'ok',
    mode: 'profile-sync',
    engine: { state: 'running', reasons: [], warnings: [], consecutiveFailedRuns: 0, failedRuns: 0, lastRunError: null },
    graph: { simulator: true, baseUrl: bridge.simulator!.url, dryRun: false },
    ...COUNTS,
  });
  // A source's token is not the admin token.
  const other = await request(origin).get('/healthz').set('Authorization', `Bearer ${SOURCE_TOKEN}`);
  expect(Object.keys(other.body).sort()).toEqual(['engine', 'queue', 'resources', 'status']);
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
  expect(res.text).toContain('bridge_sync_consecutive_failed_runs 0');
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

async function signIn(): Promise<string> {
  const good = await request(origin).post('/admin/login').type('form').send({ token: ADMIN_TOKEN });
  expect(good.status).toBe(303);
  return good.headers['set-cookie'][0].split(';')[0];
}

async function csrfOf(cookie: string, path: string): Promise<string> {
  const page = await request(origin).get(path).set('Cookie', cookie);
  return /name="csrf" value="([^"]+)"/.exec(page.text)![1];
}

test('POST /admin/login with the admin token opens a session: an httpOnly cookie holding a session id, not the token', async () => {
  const bad = await request(origin).post('/admin/login').type('form').send({ token: 'nope' });
  expect(bad.status).toBe(401);
  expect(bad.text).toContain('That token is not the admin token.');
  const good = await request(origin).post('/admin/login').type('form').send({ token: ADMIN_TOKEN });
  expect(good.status).toBe(303);
  expect(good.headers.location).toBe('./');
  const cookie = good.headers['set-cookie'][0];
  expect(cookie).toMatch(/^bridge_admin=[A-Za-z0-9_-]{43}; Path=\/admin; HttpOnly; SameSite=Strict$/);
  expect(cookie).not.toContain(ADMIN_TOKEN);
  const page = await request(origin).get('/admin/').set('Cookie', cookie.split(';')[0]);
  expect(page.status).toBe(200);
  expect(page.text).toContain('<h1>Overview</h1>');
  const forged = await request(origin)
    .get('/admin/api/overview')
    .set('Cookie', `bridge_admin=${encodeURIComponent(ADMIN_TOKEN)}`);
  expect(forged.status).toBe(401);
});

test('admin pages: CSP without inline scripts, no framing (login page too), admin data never cached', async () => {
  const cookie = await signIn();
  const csp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'";
  for (const path of ['/admin/login', '/admin/', '/admin/users', '/admin/api/overview']) {
    const res = await request(origin).get(path).set('Cookie', cookie);
    expect([path, res.status, res.headers['content-security-policy'], res.headers['x-frame-options']]).toEqual([path, 200, csp, 'DENY']);
    expect([path, res.headers['cache-control']]).toEqual([path, 'no-store']);
  }
  const page = await request(origin).get('/admin/').set('Cookie', cookie);
  // No inline script or style: everything comes from the bridge's own files.
  expect(page.text).not.toMatch(/<script>|<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=/i);
  expect(page.text).toContain('<script src="console.js" defer></script>');
  const js = await request(origin).get('/admin/console.js');
  expect([js.status, js.headers['content-type']]).toEqual([200, 'text/javascript; charset=utf-8']);
});

test('the session cookie is Secure when the console is served over TLS', async () => {
  const app = express();
  // As behind a TLS-terminating proxy on loopback: Express sets req.secure from X-Forwarded-Proto.
  app.set('trust proxy', 'loopback');
  app.use(createAdminRouter({ adminToken: ADMIN_TOKEN, data: bridge.admin(), metrics: bridge.metrics.registry }));
  const tls = await request(app).post('/admin/login').set('X-Forwarded-Proto', 'https').type('form').send({ token: ADMIN_TOKEN });
  expect(tls.headers['set-cookie'][0]).toMatch(/^bridge_admin=[A-Za-z0-9_-]{43}; Path=\/admin; HttpOnly; Secure; SameSite=Strict$/);
  const plain = await request(app).post('/admin/login').type('form').send({ token: ADMIN_TOKEN });
  expect(plain.headers['set-cookie'][0]).not.toContain('Secure');
});

test('every console action needs the admin session and its CSRF token; refused ones change nothing', async () => {
  const adaId = bridge.store.admin.userList({ text: 'ada@example.com', offset: 0, limit: 1 }).items[0].id;
  const path = `/admin/users/${adaId}/retry`;
  const cookie = await signIn();
  const csrf = await csrfOf(cookie, `/admin/users/${adaId}`);
  const otherCookie = await signIn();
  const otherCsrf = await csrfOf(otherCookie, '/admin/');
  expect(otherCsrf).not.toBe(csrf);
  const auditBefore = bridge.store.audit.list({ limit: 1000 }).length;
  const refused = [
    await request(origin).post(path).set('Cookie', cookie).type('form').send({}),
    await request(origin)
      .post(path)
      .set('Cookie', cookie)
      .type('form')
      .send({ csrf: 'x'.repeat(43) }),
    await request(origin).post(path).set('Cookie', cookie).type('form').send({ csrf: otherCsrf }),
    await request(origin).post(path).set('Authorization', `Bearer ${ADMIN_TOKEN}`).type('form').send({ csrf }),
  ];
  expect(refused.map((r) => r.status)).toEqual([403, 403, 403, 403]);
  expect(refused[0].text).toContain('This action needs a signed-in console session and its form token');
  const noAuth = await request(origin).post(path).type('form').send({ csrf });
  expect(noAuth.status).toBe(401);
  expect(bridge.store.sync.get('User', adaId)!.state).toBe('synced');
  expect(bridge.store.audit.list({ limit: 1000 })).toHaveLength(auditBefore);
  for (const action of ['/admin/deletions/okta/approve', '/admin/deletions/okta/reject', '/admin/logout', `/admin/users/${adaId}/sync`]) {
    const r = await request(origin).post(action).set('Cookie', cookie).type('form').send({});
    expect([action, r.status]).toEqual([action, 403]);
  }
  expect(bridge.store.audit.list({ limit: 1000 })).toHaveLength(auditBefore);

  const ok = await request(origin).post(path).set('Cookie', cookie).type('form').send({ csrf });
  expect([ok.status, ok.headers.location]).toEqual([303, `/admin/users/${adaId}?done=retried`]);
  const out = await request(origin).post('/admin/logout').set('Cookie', cookie).type('form').send({ csrf });
  expect(out.status).toBe(303);
  expect((await request(origin).get('/admin/api/overview').set('Cookie', cookie)).status).toBe(401);
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
  expect(create).toEqual({
    seq: expect.any(Number),
    at: expect.any(String),
    method: 'POST',
    path: '/users',
    status: 201,
    ms: expect.any(Number),
    resource: { type: 'User', id: expect.any(String) },
  });
});

test('no admin response carries a token or a password', async () => {
  const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };
  const bodies = await Promise.all(
    [
      '/healthz',
      '/metrics',
      '/admin/api/overview',
      '/admin/api/users',
      '/admin/api/queue',
      '/admin/api/graph-log',
      '/admin/api/drift',
      '/admin/',
      '/admin/users',
      '/admin/audit',
      '/admin/graph',
    ].map((p) =>
      request(origin)
        .get(p)
        .set(auth)
        .then((r) => r.text),
    ),
  );
  for (const text of bodies) {
    expect(text).not.toContain(SOURCE_TOKEN);
    expect(text).not.toContain(ADMIN_TOKEN);
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(bridge.simulator!.clientSecret);
  }
});

test('sync now answers within its wait when the engine is busy with a run, and the page says so', async () => {
  const data = bridge.admin();
  const busy = { ...data, console: { ...data.console, syncNow: () => new Promise<never>(() => undefined) } };
  const app = express();
  app.use(createAdminRouter({ adminToken: ADMIN_TOKEN, data: busy, metrics: bridge.metrics.registry, syncNowWaitMs: 50 }));
  const login = await request(app).post('/admin/login').type('form').send({ token: ADMIN_TOKEN });
  const cookie = login.headers['set-cookie'][0].split(';')[0];
  const adaId = bridge.store.admin.userList({ text: 'ada@example.com', offset: 0, limit: 1 }).items[0].id;
  const page = await request(app).get(`/admin/users/${adaId}`).set('Cookie', cookie);
  const csrf = /name="csrf" value="([^"]+)"/.exec(page.text)![1];
  const res = await request(app).post(`/admin/users/${adaId}/sync`).set('Cookie', cookie).type('form').send({ csrf });
  expect(res.status).toBe(303);
  expect(res.headers.location).toMatch(new RegExp(`^/admin/users/${adaId}\\?ran=\\d+&waiting=1#sync-now$`));
  const after = await request(app).get(res.headers.location.replace(/#.*$/, '')).set('Cookie', cookie);
  expect(after.text).toContain(
    '<h2>Sync now: waiting for the engine</h2><p>The engine is finishing a run; this sync follows it. Reload the page to see its Graph requests.</p>',
  );
});
