import { innerError, raw } from './graph-client';
import { ALEX, useSimulator } from './setup';

// Replication lag is measured on this test's clock: moving it on replaces waiting in real time.
let now = Date.now();
const h = useSimulator({ now: () => now });

test("failNext fails the next matching requests with Graph's error for that status", async () => {
  h.sim.faults.set({ failNext: [{ status: 503, method: 'PATCH', pathPrefix: '/users', count: 2 }] });
  const first = await raw(h.sim, 'PATCH', `/v1.0/users/${ALEX}`, { jobTitle: 'a' });
  expect(first).toMatchObject({
    status: 503,
    body: { error: { code: 'serviceNotAvailable', message: 'The service is temporarily unavailable. Please retry later.', innerError } },
  });
  expect(first.headers['retry-after']).toBe('1');
  expect((await raw(h.sim, 'GET', `/v1.0/users/${ALEX}`)).status).toBe(200);
  expect((await raw(h.sim, 'PATCH', `/v1.0/users/${ALEX}`, { jobTitle: 'b' })).status).toBe(503);
  expect((await raw(h.sim, 'PATCH', `/v1.0/users/${ALEX}`, { jobTitle: 'c' })).status).toBe(204);
  expect(h.sim.state.snapshot().users.find((u) => u.id === ALEX)!.jobTitle).toBe('c');
});

test('an error rate of 1 fails every request; an outage window fails requests inside it', async () => {
  h.sim.faults.set({ errorRates: { '500': 1 } });
  expect((await raw(h.sim, 'GET', '/v1.0/users')).body.error).toEqual({ code: 'generalException', message: 'General exception while processing.', innerError });
  // Outage windows are read on the simulator's clock, this test's.
  h.sim.faults.set({ outages: [{ start: now - 1000, end: now + 60_000, status: 504 }] });
  expect((await raw(h.sim, 'GET', '/v1.0/users')).status).toBe(504);
  h.sim.faults.set({ outages: [{ start: new Date(now - 60_000).toISOString(), end: new Date(now - 1000).toISOString() }] });
  expect((await raw(h.sim, 'GET', '/v1.0/users')).status).toBe(200);
});

test('injected latency delays responses', async () => {
  h.sim.faults.set({ latencyMs: 120 });
  const started = Date.now();
  await raw(h.sim, 'GET', '/v1.0/organization');
  expect(Date.now() - started).toBeGreaterThanOrEqual(115);
});

test('faults apply per item inside $batch', async () => {
  h.sim.faults.set({ failNext: [{ status: 500, pathPrefix: `/users/${ALEX}` }] });
  const res = await raw(h.sim, 'POST', '/v1.0/$batch', {
    requests: [
      { id: '1', method: 'GET', url: `/users/${ALEX}` },
      { id: '2', method: 'GET', url: '/organization' },
    ],
  });
  expect(res.status).toBe(200);
  expect(res.body.responses.map((r: { status: number }) => r.status)).toEqual([500, 200]);
});

test('the inspection API over HTTP: state, request log, faults, throttling and reset', async () => {
  await raw(h.sim, 'PATCH', `/v1.0/users/${ALEX}`, { jobTitle: 'Buyer' });
  const state = await raw(h.sim, 'GET', '/_sim/state', undefined, h.sim.inspectionToken);
  expect(state.status).toBe(200);
  expect(state.body.users.find((u: { id: string }) => u.id === ALEX)).toMatchObject({ jobTitle: 'Buyer', manager: '0b6c2d1e-4a5f-4c3b-9e8d-7f6a5b4c3d2e' });
  const log = await raw(h.sim, 'GET', '/_sim/requests?method=PATCH', undefined, h.sim.inspectionToken);
  expect(log.body.value).toEqual([expect.objectContaining({ method: 'PATCH', url: `/users/${ALEX}`, status: 204, requestBody: { jobTitle: 'Buyer' } })]);
  expect((await raw(h.sim, 'POST', '/_sim/faults', { failNext: [{ status: 502 }] }, h.sim.inspectionToken)).body.pending).toEqual([{ status: 502, count: 1 }]);
  expect((await raw(h.sim, 'GET', '/v1.0/organization')).status).toBe(502);
  expect((await raw(h.sim, 'GET', '/_sim/throttling', undefined, h.sim.inspectionToken)).body).toMatchObject({
    enabled: false,
    buckets: [
      { name: 'resourceUnits', capacity: 3500, windowSeconds: 10 },
      { name: 'writes', capacity: 3000, windowSeconds: 150 },
      { name: 'tenantWrites', capacity: 18000, windowSeconds: 300 },
      { name: 'reports', capacity: 5, windowSeconds: 10 },
    ],
  });
  expect((await raw(h.sim, 'POST', '/_sim/reset', undefined, h.sim.inspectionToken)).status).toBe(204);
  expect(h.sim.state.snapshot().users.find((u) => u.id === ALEX)!.jobTitle).toBeUndefined();
  expect(h.sim.requests.list()).toEqual([]);
});

test('replication lag hides new users from $filter queries for a while, not from GET by id', async () => {
  h.sim.faults.set({ replicationLagMs: 300 });
  const created = await raw(h.sim, 'POST', '/v1.0/users', {
    accountEnabled: true,
    displayName: 'Adele',
    mailNickname: 'adele',
    userPrincipalName: 'adele@contoso.com',
    passwordProfile: { password: 'xWwvJ]6NMw+bWH-d' },
  });
  const query = `/v1.0/users?$filter=${encodeURIComponent("userPrincipalName eq 'adele@contoso.com'")}&$select=id`;
  expect((await raw(h.sim, 'GET', query)).body.value).toEqual([]);
  expect((await raw(h.sim, 'GET', `/v1.0/users/${created.body.id}`)).status).toBe(200);
  expect(
    (
      await raw(h.sim, 'POST', '/v1.0/users', {
        accountEnabled: true,
        displayName: 'Adele',
        mailNickname: 'adele',
        userPrincipalName: 'adele@contoso.com',
        passwordProfile: { password: 'xWwvJ]6NMw+bWH-d' },
      })
    ).body.error.details,
  ).toEqual([{ code: 'ObjectConflict', target: 'userPrincipalName' }]);
  now += 320;
  expect((await raw(h.sim, 'GET', query)).body.value).toEqual([{ id: created.body.id }]);
});
