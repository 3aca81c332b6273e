// /metrics after a scripted run: SCIM writes through the bridge's ingress, the engine syncing them to
// the embedded simulator with one 429 injected through the simulator's fault API, and a deletion held
// by the threshold. Every series an operator's dashboard uses is checked by name and labels.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/log';
import { type Bridge, startBridge } from '../../src/main';
import { until } from '../e2e/cli-process';

jest.setTimeout(60_000);

const SOURCE_TOKEN = 'metrics-test-source-token-0123456789';
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parse(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[k] = v;
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

let dir: string;
let bridge: Bridge;
let origin: string;
let samples: Sample[];
let startedAt: number;

/** The value of the one sample with exactly these labels (undefined when absent). */
function value(name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === JSON.stringify(Object.entries(labels).sort()));
  if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} appears ${found.length} times`);
  return found[0]?.value;
}
const labelSets = (name: string) => samples.filter((s) => s.name === name).map((s) => s.labels);

beforeAll(async () => {
  startedAt = Date.now();
  dir = mkdtempSync(join(tmpdir(), 'bridge-metrics-'));
  const config = loadConfig({
    env: {},
    overrides: {
      port: 0,
      host: '127.0.0.1',
      database: join(dir, 'bridge.sqlite'),
      adminToken: 'metrics-test-admin-token-0123456789',
      sources: [{ id: 'okta', token: SOURCE_TOKEN }],
      // Every deprovision waits for approval, so the held deletion below is certain.
      deletionThreshold: 0,
      logLevel: 'silent',
    },
  });
  bridge = await startBridge(config, { logger: createLogger('silent') });
  origin = bridge.scimUrl.replace(/\/scim\/v2$/, '');
  // The first user create answers 429 with Retry-After: 1.
  bridge.simulator!.faults.set({ failNext: [{ status: 429, method: 'POST', pathPrefix: '/users', count: 1 }] });
  const auth = { Authorization: `Bearer ${SOURCE_TOKEN}`, 'Content-Type': 'application/scim+json' };
  const ids: string[] = [];
  for (const name of ['ada', 'grace']) {
    const r = await request(origin)
      .post('/scim/v2/Users')
      .set(auth)
      .send({ schemas: [USER], userName: `${name}@example.com`, displayName: name });
    expect(r.status).toBe(201);
    ids.push(r.body.id);
  }
  expect((await request(origin).get(`/scim/v2/Users/${ids[0]}`).set(auth)).status).toBe(200);
  expect((await request(origin).get('/scim/v2/Users/no-such-id').set(auth)).status).toBe(404);
  expect((await request(origin).get('/scim/v2/Users').set('Authorization', 'Bearer wrong-token')).status).toBe(401);
  expect(
    (
      await request(origin)
        .post('/scim/v2/Groups')
        .set(auth)
        .send({ schemas: [GROUP], displayName: 'Engineering' })
    ).status,
  ).toBe(201);
  const synced = async () => (await request(origin).get('/healthz')).body.resources?.User?.synced === 2;
  await until(synced, { what: 'both users synced', ms: 20_000 });
  expect((await request(origin).delete(`/scim/v2/Users/${ids[1]}`).set(auth)).status).toBe(204);
  await until(async () => (await request(origin).get('/healthz')).body.engine.state === 'paused', { what: 'the deletion held', ms: 20_000 });
  const scraped = await request(origin).get('/metrics');
  expect(scraped.status).toBe(200);
  samples = parse(scraped.text);
});

afterAll(async () => {
  await bridge?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('Node default metrics keep their standard names, with no doubled prefix', () => {
  expect(value('process_cpu_user_seconds_total')).toBeGreaterThan(0);
  expect(value('process_resident_memory_bytes')).toBeGreaterThan(0);
  expect(value('nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
  expect(value('nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
  expect(samples.filter((s) => s.name.startsWith('bridge_process_') || s.name.startsWith('bridge_nodejs_'))).toEqual([]);
});

test('bridge_resources counts by type and state, the type never inside the state', () => {
  const ss = ['pending', 'synced', 'error', 'blocked', 'deprovisioning', 'deprovisioned'];
  expect(labelSets('bridge_resources')).toEqual(
    expect.arrayContaining(
      ss.flatMap((state) => [
        { type: 'User', state },
        { type: 'Group', state },
      ]),
    ),
  );
  // The group is skipped: profile-sync without groups.push does not push groups.
  expect(labelSets('bridge_resources')).toContainEqual({ type: 'Group', state: 'skipped' });
  expect(labelSets('bridge_resources')).toHaveLength(13);
  // ada synced; grace deleted in SCIM with her deprovision held: deprovisioning until approved.
  expect(value('bridge_resources', { type: 'User', state: 'synced' })).toBe(1);
  expect(value('bridge_resources', { type: 'User', state: 'deprovisioning' })).toBe(1);
  expect(value('bridge_resources', { type: 'User', state: 'pending' })).toBe(0);
  expect(value('bridge_resources', { type: 'User', state: 'error' })).toBe(0);
  expect(value('bridge_resources', { type: 'Group', state: 'skipped' })).toBe(1);
  expect(value('bridge_resources', { type: 'Group', state: 'synced' })).toBe(0);
});

test('bridge_resources agrees with the counts of /healthz', async () => {
  const health = (await request(origin).get('/healthz')).body;
  for (const type of ['User', 'Group']) {
    for (const [state, n] of Object.entries(health.resources[type] as Record<string, number>))
      expect({ type, state, n: value('bridge_resources', { type, state }) }).toEqual({ type, state, n });
  }
});

test('SCIM requests by source, method, route pattern and status, with a latency histogram', () => {
  const req = (source: string, method: string, route: string, status: string) => ({ source, method, route, status });
  expect(value('bridge_scim_requests_total', req('okta', 'POST', '/scim/v2/Users', '201'))).toBe(2);
  expect(value('bridge_scim_requests_total', req('okta', 'GET', '/scim/v2/Users/:id', '200'))).toBe(1);
  expect(value('bridge_scim_requests_total', req('okta', 'GET', '/scim/v2/Users/:id', '404'))).toBe(1);
  expect(value('bridge_scim_requests_total', req('okta', 'DELETE', '/scim/v2/Users/:id', '204'))).toBe(1);
  expect(value('bridge_scim_requests_total', req('okta', 'POST', '/scim/v2/Groups', '201'))).toBe(1);
  // A refused token names no source, and the request never reached a route.
  expect(value('bridge_scim_requests_total', req('-', 'GET', 'unmatched', '401'))).toBe(1);
  // No raw ids in any route label.
  for (const l of labelSets('bridge_scim_requests_total')) expect(l.route).not.toMatch(/[0-9a-f]{8}-|no-such-id/);
  const labels = req('okta', 'POST', '/scim/v2/Users', '201');
  expect(value('bridge_scim_request_duration_seconds_count', labels)).toBe(2);
  expect(value('bridge_scim_request_duration_seconds_bucket', { ...labels, le: '+Inf' })).toBe(2);
  expect(value('bridge_scim_request_duration_seconds_sum', labels)).toBeGreaterThan(0);
});

test('Graph requests by kind and status with a latency histogram; the 429 and its Retry-After', () => {
  expect(value('bridge_graph_requests_total', { kind: 'POST /users', status: '429' })).toBe(1);
  expect(value('bridge_graph_requests_total', { kind: 'POST /users', status: '201' })).toBe(2);
  expect(value('bridge_graph_request_duration_seconds_count', { kind: 'POST /users' })).toBe(3);
  expect(value('bridge_graph_request_duration_seconds_bucket', { kind: 'POST /users', le: '+Inf' })).toBe(3);
  // Preflight's reads are there too, with ids folded into {id}.
  expect(value('bridge_graph_requests_total', { kind: 'GET /organization', status: '200' })).toBeGreaterThanOrEqual(1);
  for (const l of labelSets('bridge_graph_requests_total')) expect(l.kind).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}|@/);
  expect(value('bridge_graph_throttled_total')).toBe(1);
  // The simulator's forced 429 says Retry-After: 1; the engine held its writes for that second.
  const waited = value('bridge_graph_retry_after_seconds_total')!;
  expect(waited).toBeGreaterThanOrEqual(0.99);
  expect(waited).toBeLessThan(1.1);
});

test('write budget and resource units: capacity, available now, spent', () => {
  expect(value('bridge_graph_write_budget_capacity')).toBe(3000);
  expect(value('bridge_graph_resource_units_capacity')).toBe(3500);
  // Writes paid for: two user creates (one of them refused with 429, paid all the same).
  expect(value('bridge_graph_write_budget_spent_total')).toBe(3);
  // The 429 told the engine Graph's bucket was empty: its own starts again from empty, at half the rate
  // (about ten writes a second), so it holds far less than the 2,997 the three writes left.
  expect(value('bridge_graph_write_budget_available')).toBeGreaterThanOrEqual(0);
  expect(value('bridge_graph_write_budget_available')).toBeLessThan(2997);
  expect(value('bridge_graph_resource_units_spent_total')).toBeGreaterThan(3);
  expect(value('bridge_graph_resource_units_available')).toBeLessThanOrEqual(3500);
});

test('queue depth, oldest change, pending deletions, engine state and the last successful run', () => {
  // grace's deprovision waits for approval: one change in the queue, accepted before the scrape.
  expect(value('bridge_queue_depth')).toBe(1);
  expect(value('bridge_queue_oldest_change_age_seconds')).toBeGreaterThanOrEqual(0);
  expect(value('bridge_queue_oldest_change_age_seconds')).toBeLessThan((Date.now() - startedAt) / 1000 + 1);
  expect(value('bridge_pending_deletions', { source: 'okta' })).toBe(1);
  expect(value('bridge_engine_blocked')).toBe(0);
  expect(value('bridge_sync_runs_total', { outcome: 'ok' })).toBeGreaterThan(0);
  const last = value('bridge_last_successful_run_timestamp_seconds')!;
  expect(last * 1000).toBeGreaterThanOrEqual(startedAt);
  expect(last * 1000).toBeLessThanOrEqual(Date.now());
});

test('every series the example alerting rules use is exposed', () => {
  const rules = readFileSync(join(__dirname, '../../examples/prometheus/scim-graph-bridge.rules.yml'), 'utf8');
  const exprs = [...rules.matchAll(/^\s*expr: (.+)$/gm)].map((m) => m[1]);
  expect(exprs).toHaveLength(6);
  const names = new Set(samples.map((s) => s.name));
  const used = new Set(exprs.flatMap((e) => [...e.matchAll(/\bbridge_[a-z0-9_]+/g)].map((m) => m[0])));
  expect([...used].filter((n) => !names.has(n))).toEqual([]);
});

test('every series the example Grafana dashboard queries is exposed', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dashboard = require('../../examples/grafana/scim-graph-bridge.dashboard.json') as { panels: { title: string; targets: { expr: string }[] }[] };
  const names = new Set(samples.map((s) => s.name));
  const used = new Set<string>();
  for (const p of dashboard.panels) {
    expect(p.targets.length).toBeGreaterThan(0);
    for (const t of p.targets) for (const [name] of t.expr.matchAll(/\b(?:bridge|process|nodejs)_[a-z0-9_]+/g)) used.add(name);
  }
  expect([...used].filter((n) => !names.has(n))).toEqual([]);
  // The dashboard covers each family of the bridge's own series.
  for (const family of [
    'bridge_resources',
    'bridge_scim_request_duration_seconds_bucket',
    'bridge_graph_request_duration_seconds_bucket',
    'bridge_graph_throttled_total',
    'bridge_graph_retry_after_seconds_total',
    'bridge_graph_write_budget_available',
    'bridge_graph_resource_units_available',
    'bridge_queue_depth',
    'bridge_queue_oldest_change_age_seconds',
    'bridge_pending_deletions',
    'bridge_last_successful_run_timestamp_seconds',
  ]) {
    expect(used).toContain(family);
  }
});
