// What the bridge logs, read from the pino stream of a started bridge: ISO times and level names,
// access lines with the request id (the caller's X-Request-Id, else a new one, echoed either way), the
// source and the resource id; the engine's lines for preflight, the tenant switch, a 429 pause, each run, a resource
// that goes to error with Graph's message, a deletion pause and its approval. One JSON object per line,
// no key twice, no secret.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import request from 'supertest';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/log';
import { type Bridge, startBridge } from '../../src/main';
import { until } from './cli-process';

jest.setTimeout(60_000);

const SOURCE_TOKEN = 'logs-lines-source-token-0123456789';
const ADMIN_TOKEN = 'logs-lines-admin-token-0123456789';
const PASSWORD = 'Log-Line-Passw0rd!zq';
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';

let dir: string;
let bridge: Bridge;
let origin: string;
let raw = '';
const lines = () => raw.split('\n').filter(Boolean);
const entries = () => lines().map((l) => JSON.parse(l) as Record<string, any>);

/** Top-level keys of one JSON object text, in order, duplicates kept (JSON.parse would hide them). */
function topLevelKeys(text: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (depth === 1 && expectKey) keys.push(JSON.parse(text.slice(i, j + 1)));
      expectKey = false;
      i = j;
    } else if (c === '{' || c === '[') {
      depth++;
      expectKey = depth === 1 && c === '{';
    } else if (c === '}' || c === ']') depth--;
    else if (c === ',' && depth === 1) expectKey = true;
  }
  return keys;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bridge-log-lines-'));
  const sink = new Writable({
    write(chunk, _enc, done) {
      raw += String(chunk);
      done();
    },
  });
  const config = loadConfig({
    env: {},
    overrides: {
      port: 0,
      host: '127.0.0.1',
      database: join(dir, 'b.sqlite'),
      adminToken: ADMIN_TOKEN,
      mode: 'user-sync',
      'graph.allowTenantDirSync': true,
      deletionThreshold: 0,
      sources: [{ id: 'okta', token: SOURCE_TOKEN }],
    },
  });
  bridge = await startBridge(config, { logger: createLogger('info', sink) });
  origin = bridge.scimUrl.replace(/\/scim\/v2$/, '');
});

afterAll(async () => {
  await bridge?.close();
  rmSync(dir, { recursive: true, force: true });
});

const auth = { Authorization: `Bearer ${SOURCE_TOKEN}` };
const ids: Record<string, string> = {};

test('access lines carry the request id, echoed in the response, with the source and the resource id', async () => {
  // Graph throttles the first create (Retry-After: 1): the engine logs the pause.
  bridge.simulator!.faults.set({ failNext: [{ status: 429, method: 'POST', pathPrefix: '/users', count: 1 }] });
  const created = await request(origin)
    .post('/scim/v2/Users')
    .set(auth)
    .set('X-Request-Id', 'okta-req-42')
    .send({ schemas: [USER], userName: 'ada@example.com', password: PASSWORD });
  expect(created.status).toBe(201);
  expect(created.headers['x-request-id']).toBe('okta-req-42');
  ids.ada = created.body.id;
  const read = await request(origin).get(`/scim/v2/Users/${ids.ada}`).set(auth);
  const generated = read.headers['x-request-id'];
  expect(generated).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  // A header that is not a plain token (here 300 characters) is replaced, not logged.
  const odd = await request(origin).get('/scim/v2/Users').set(auth).set('X-Request-Id', 'x'.repeat(300));
  expect(odd.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  expect((await request(origin).get('/scim/v2/Users').set('Authorization', 'Bearer nope')).status).toBe(401);
  // A large body costs the log nothing: the line names the request, not its content.
  const big = await request(origin)
    .put(`/scim/v2/Users/${ids.ada}`)
    .set(auth)
    .set('X-Request-Id', 'big-body')
    .send({ schemas: [USER], userName: 'ada@example.com', displayName: 'A'.repeat(60_000), title: 'T'.repeat(60_000), nickName: 'N'.repeat(60_000) });
  expect(big.status).toBe(200);

  const access = entries().filter((e) => e.msg === 'request');
  const post = access.find((e) => e.reqId === 'okta-req-42')!;
  expect(post).toEqual({
    level: 'info',
    time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    service: 'scim-graph-bridge',
    component: 'http',
    reqId: 'okta-req-42',
    method: 'POST',
    path: '/scim/v2/Users',
    route: '/scim/v2/Users',
    status: 201,
    ms: expect.any(Number),
    source: 'okta',
    resourceId: ids.ada,
    msg: 'request',
  });
  expect(access.find((e) => e.reqId === generated)).toMatchObject({
    method: 'GET',
    route: '/scim/v2/Users/:id',
    status: 200,
    source: 'okta',
    resourceId: ids.ada,
  });
  expect(access.find((e) => e.reqId === odd.headers['x-request-id'])).toMatchObject({ route: '/scim/v2/Users', status: 200, source: 'okta' });
  const bigLine = lines().find((l) => l.includes('"reqId":"big-body"'))!;
  expect(bigLine.length).toBeLessThan(400);
  expect(bigLine).not.toContain('AAAA');
  // No source for a refused token, and no resource.
  const refused = access.find((e) => e.status === 401)!;
  expect(refused).not.toHaveProperty('source');
  expect(refused).not.toHaveProperty('resourceId');
  expect(refused.reqId).toMatch(/^[0-9a-f-]{36}$/);
});

test('the engine logs preflight, the tenant switch, each busy run, a failed resource with Graph message, a pause and its approval', async () => {
  await until(() => entries().some((e) => e.msg === 'sync run' && e.created === 1), { what: 'ada created', ms: 20_000 });
  // Graph refuses the next create with its own message.
  bridge.simulator!.faults.set({
    failNext: [
      {
        status: 400,
        method: 'POST',
        pathPrefix: '/users',
        code: 'Request_BadRequest',
        message: 'Invalid value specified for property mailNickname of resource User.',
        count: 1,
      },
    ],
  });
  const bad = await request(origin)
    .post('/scim/v2/Users')
    .set(auth)
    .send({ schemas: [USER], userName: 'bob@example.com' });
  ids.bob = bad.body.id;
  await until(() => entries().some((e) => e.msg === 'resource sync failed'), { what: 'bob failed', ms: 20_000 });
  expect((await request(origin).delete(`/scim/v2/Users/${ids.ada}`).set(auth)).status).toBe(204);
  await until(() => entries().some((e) => e.msg.startsWith('deprovisioning paused')), { what: 'deletion held', ms: 20_000 });
  bridge.engine.approveDeletions();
  await until(() => entries().some((e) => e.msg === 'sync run' && e.deprovisioned === 1), { what: 'ada deprovisioned', ms: 20_000 });

  const sync = entries().filter((e) => e.component === 'sync');
  const pick = (msg: string) => sync.filter((e) => e.msg === msg);
  expect(pick('preflight passed')).toEqual([expect.objectContaining({ level: 'info', mode: 'user-sync', warnings: expect.any(Number), unblocked: false })]);
  expect(pick('tenant switch: organization.onPremisesSyncEnabled turned on')).toEqual([
    expect.objectContaining({ level: 'info', organizationId: bridge.simulator!.state.snapshot().organization.id }),
  ]);
  expect(pick('resource sync failed')).toEqual([
    expect.objectContaining({
      level: 'warn',
      resourceType: 'User',
      resourceId: ids.bob,
      graphError: expect.stringContaining('Invalid value specified for property mailNickname'),
    }),
  ]);
  // One line per pause, however many passes find the deletion still held.
  expect(pick('deprovisioning paused by the deletion threshold; approve with approve-deletions')).toEqual([
    expect.objectContaining({ level: 'warn', sourceId: 'okta', pending: 1 }),
  ]);
  expect(pick('Graph throttled (429): writes paused')).toEqual([
    expect.objectContaining({ level: 'info', retryAfterMs: 1000, resumeAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) }),
  ]);
  expect(pick('held deprovisions approved')).toEqual([expect.objectContaining({ level: 'info', approved: 1 })]);
  const runs = pick('sync run');
  expect(runs.find((e) => e.created === 1)).toEqual(
    expect.objectContaining({
      level: 'info',
      durationMs: expect.any(Number),
      passes: expect.any(Number),
      applied: expect.any(Number),
      failed: 0,
      writes: expect.any(Number),
      requests: expect.any(Number),
      throttled: 0,
      queueDepth: expect.any(Number),
    }),
  );
  expect(runs.find((e) => e.failed === 1)).toBeDefined();
  expect(runs.find((e) => e.deprovisioned === 1)).toBeDefined();
  // Idle runs are not logged at info.
  expect(runs.every((e) => e.requests > 0 || e.applied > 0 || e.failed > 0 || e.retried > 0)).toBe(true);
});

test('every line is one JSON object with ISO time, a level name, no key twice and no secret', () => {
  expect(lines().length).toBeGreaterThan(10);
  for (const line of lines()) {
    const keys = topLevelKeys(line);
    expect({ line, duplicates: keys.filter((k, i) => keys.indexOf(k) !== i) }).toEqual({ line, duplicates: [] });
    const e = JSON.parse(line);
    expect(e.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).toContain(e.level);
  }
  for (const secret of [SOURCE_TOKEN, ADMIN_TOKEN, PASSWORD, bridge.simulator!.clientSecret]) expect(raw).not.toContain(secret);
});
