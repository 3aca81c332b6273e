import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@microsoft/microsoft-graph-client';
import { startSimulator, type RunningSimulator } from '../../src/simulator';
import { resourceUnitCost } from '../../src/simulator/throttle';
import { graphClientFor, innerError, raw, tokenFor } from './graph-client';
import { ALEX, FIXTURE } from './setup';

// Thousands of requests a test: on a busy machine (another test file running beside this one) they take a while.
jest.setTimeout(120_000);

const started: RunningSimulator[] = [];
/**
 * A simulator whose budget time stands still until the test moves it on (`advance`, in real
 * milliseconds, counted timeScale times faster), so no refill depends on how fast the machine is.
 */
async function throttled(timeScale: number): Promise<{ sim: RunningSimulator; client: Client; advance: (realMs: number) => void }> {
  let realMs = 0;
  const clock = { timeScale, now: () => realMs * timeScale, toReal: (simMs: number) => simMs / timeScale };
  const sim = await startSimulator({ seed: FIXTURE, throttling: true, clock, dataDir: mkdtempSync(join(tmpdir(), 'graph-sim-test-')) });
  started.push(sim);
  return { sim, client: graphClientFor(sim), advance: (ms) => void (realMs += ms) };
}
afterAll(() => Promise.all(started.map((s) => s.close())));

const json = { 'Content-Type': 'application/json' };
const patches = (n: number, from: number) =>
  Array.from({ length: n }, (_, i) => ({ id: String(i + 1), method: 'PATCH', url: `/users/${ALEX}`, headers: json, body: { jobTitle: `t${from + i}` } }));

interface Item {
  status: number;
  headers: Record<string, string>;
  body?: any;
}

test('resource-unit costs follow the published table and modifiers', () => {
  const q = (s: string) => new URLSearchParams(s);
  expect(resourceUnitCost({ method: 'GET', path: '/users', query: q('') })).toBe(2);
  expect(resourceUnitCost({ method: 'GET', path: '/users', query: q('$select=id') })).toBe(1);
  expect(resourceUnitCost({ method: 'GET', path: '/users', query: q('$select=id&$top=5') })).toBe(1);
  expect(resourceUnitCost({ method: 'GET', path: '/subscribedSkus', query: q('') })).toBe(3);
  expect(resourceUnitCost({ method: 'GET', path: '/groups/x/members', query: q('$expand=manager') })).toBe(4);
  expect(resourceUnitCost({ method: 'PATCH', path: `/users/${ALEX}`, query: q('') })).toBe(1);
  // A cost listed for me/ applies to users/{id | userPrincipalName}/ too.
  expect(resourceUnitCost({ method: 'GET', path: `/users/${ALEX}/memberOf`, query: q('') })).toBe(2);
  expect(resourceUnitCost({ method: 'POST', path: '/users/alex@contoso.com/checkMemberGroups', query: q('') })).toBe(4);
  expect(resourceUnitCost({ method: 'POST', path: '/me/getMemberObjects', query: q('') })).toBe(2);
  expect(resourceUnitCost({ method: 'POST', path: '/isMemberOf', query: q('') })).toBe(4);
  expect(resourceUnitCost({ method: 'POST', path: '/getObjectsById', query: q('') })).toBe(3);
  expect(resourceUnitCost({ method: 'GET', path: '/domains/contoso.com/domainNameReferences', query: q('') })).toBe(4);
  expect(resourceUnitCost({ method: 'GET', path: '/servicePrincipals/x/appRoleAssignments', query: q('') })).toBe(2);
  expect(resourceUnitCost({ method: 'GET', path: '/oauth2PermissionGrants/x', query: q('') })).toBe(2);
  expect(resourceUnitCost({ method: 'GET', path: '/contracts', query: q('') })).toBe(3);
  expect(resourceUnitCost({ method: 'GET', path: `/users/${ALEX}`, query: q('') })).toBe(1);
});

test('the inspection API counts requests, writes, resource units and 429s', async () => {
  const { sim, client } = await throttled(1);
  await client.api('/$batch').post({
    requests: [
      { id: '1', method: 'GET', url: '/users' },
      { id: '2', method: 'GET', url: '/subscribedSkus' },
      ...patches(2, 0).map((p, i) => ({ ...p, id: String(i + 3) })),
    ],
  });
  const res = await raw(sim, 'GET', '/_sim/throttling', undefined, sim.inspectionToken);
  // The $batch envelope itself is not charged; its four items are: 2 + 3 + 1 + 1 units.
  expect(res.body.usage).toEqual({ requests: 4, writes: 2, resourceUnits: 7, throttled: 0 });
});

test('3,000 writes per 150 s per app and tenant, then per-item 429s inside $batch', async () => {
  const { sim, client, advance } = await throttled(1);
  const token = await tokenFor(sim);
  const items: Item[] = [];
  for (let b = 0; b < 160; b++) items.push(...(await client.api('/$batch').post({ requests: patches(20, b * 20) })).responses);
  const ok = items.filter((i) => i.status === 204).length;
  const limited = items.filter((i) => i.status === 429);
  expect(ok + limited.length).toBe(3200);
  // Budget time stood still: exactly the 3,000 writes of a full bucket went through.
  expect(ok).toBe(3000);
  expect(limited[0].headers).toMatchObject({
    'retry-after': expect.stringMatching(/^\d+$/),
    'x-ms-throttle-information': 'WriteLimitExceeded',
    'x-ms-throttle-scope': expect.stringMatching(/^Tenant_Application\/Write\/[0-9a-f-]{36}\/[0-9a-f-]{36}$/),
  });
  expect(limited[0].body).toEqual({
    error: { code: 'TooManyRequests', message: expect.stringMatching(/^Too many requests from Identifier:.+ Please try again later\.$/), innerError },
  });
  // A top-level write right after is refused too.
  const top = await raw(sim, 'PATCH', `/v1.0/users/${ALEX}`, { jobTitle: 'top' }, token);
  expect(top.status).toBe(429);
  expect(top.headers['retry-after']).toMatch(/^\d+$/);
  expect(top.headers['x-ms-throttle-information']).toBe('WriteLimitExceeded');
  // The bucket refills 3,000 / 150 s = one write per 50 ms.
  advance(49);
  expect((await raw(sim, 'PATCH', `/v1.0/users/${ALEX}`, { jobTitle: 'early' }, token)).status).toBe(429);
  advance(1);
  expect((await raw(sim, 'PATCH', `/v1.0/users/${ALEX}`, { jobTitle: 'refilled' }, token)).status).toBe(204);
});

test('a time scale runs the same budget faster: Retry-After is honoured in scaled time', async () => {
  // At 10x, 3,000 writes per 150 s refill at 200 a real second.
  const { sim, client, advance } = await throttled(10);
  let limited: Item | undefined;
  for (let b = 0; b < 100 && !limited; b++) {
    const rounds = await Promise.all([0, 1, 2, 3, 4].map((k) => client.api('/$batch').post({ requests: patches(20, (b * 5 + k) * 20) })));
    limited = rounds.flatMap((r) => r.responses).find((i: Item) => i.status === 429);
  }
  expect(limited).toBeDefined();
  expect(limited!.headers['retry-after']).toBe('1');
  const waitMs = Number(limited!.headers['x-ms-retry-after-ms']);
  expect(waitMs).toBeGreaterThan(0);
  expect(waitMs).toBeLessThan(50);
  advance(waitMs - 1);
  expect((await raw(sim, 'PATCH', `/v1.0/users/${ALEX}`, { jobTitle: 'y' })).status).toBe(429);
  advance(1);
  expect((await raw(sim, 'PATCH', `/v1.0/users/${ALEX}`, { jobTitle: 'z' })).status).toBe(204);
});

test('resource units per 10 s by tenant size: a small tenant has 3,500', async () => {
  const { client } = await throttled(1);
  const reads = Array.from({ length: 20 }, (_, i) => ({ id: String(i + 1), method: 'GET', url: '/users' }));
  const items: Item[] = [];
  for (let b = 0; b < 400 && !items.some((i) => i.status === 429); b++) items.push(...(await client.api('/$batch').post({ requests: reads })).responses);
  const ok = items.filter((i) => i.status === 200);
  expect(ok[0].headers['x-ms-resource-unit']).toBe('2');
  // Each GET /users costs 2 of 3,500 units, and budget time stood still.
  expect(ok.length).toBe(1750);
  const limited = items.find((i) => i.status === 429)!;
  expect(limited.headers['x-ms-throttle-information']).toBe('ResourceUnitLimitExceeded');
  expect(items.some((i) => i.headers['x-ms-throttle-limit-percentage'])).toBe(true);
  expect(limited.headers['x-ms-throttle-scope']).toMatch(/^Tenant_Application\/ReadWrite\//);
});

test('the resource-unit budget follows the tenant size: M from 50 users, L above 500, or as seeded', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'graph-sim-test-'));
  const users = (n: number) => Array.from({ length: n }, (_, i) => ({ userPrincipalName: `u${i}@example.com`, displayName: `U${i}` }));
  const capacity = async (seed: object) => {
    const sim = await startSimulator({ seed, dataDir });
    started.push(sim);
    return sim.throttle.snapshot().find((b) => b.name === 'resourceUnits')!.capacity;
  };
  expect(await capacity({ users: users(49) })).toBe(3500);
  expect(await capacity({ users: users(50) })).toBe(5000);
  expect(await capacity({ users: users(501) })).toBe(8000);
  expect(await capacity({ tenant: { size: 'L' } })).toBe(8000);
});

test('a seed file that cannot be read is named in the error', async () => {
  await expect(startSimulator({ seed: '/nonexistent/seed.json' })).rejects.toThrow(/^graph simulator seed \/nonexistent\/seed\.json: ENOENT/);
});
