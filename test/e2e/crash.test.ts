// Crash safety (SPEC section 7): a bridge process provisioning 2,000 users with licenses, managers
// and group memberships is killed with SIGKILL at random moments and restarted; afterwards the
// simulator holds exactly the SCIM input: nothing lost, no duplicate user, no duplicate membership.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimulator, type RunningSimulator } from '../../src/simulator';
import Database from 'better-sqlite3';
import { createSyncEngineQueries } from '../../src/store/sync-engine-queries';
import { restartableBridge } from './bridge-process';
import { E3, simulatorGraph } from './harness';

jest.setTimeout(300_000);

/** The test's own connection to the bridge's database file, to watch its queue from outside. */
function openProbe(path: string) {
  const db = new Database(path, { fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  return Object.assign(createSyncEngineQueries(db), { close: () => db.close() });
}

const TOKEN = 'crash-test-token-0123456789';
const USERS = 2000;
const GROUPS = 10;
const KILLS = 6;

// Deterministic "random" moments (a fixed-seed LCG), so a failure can be replayed.
let seed = 20261126;
const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let sim: RunningSimulator;
let dir: string;
const bridge = restartableBridge();
let up: Promise<void> = Promise.resolve();

async function scim(method: string, path: string, body?: unknown, once = false): Promise<{ status: number; body: any } | null> {
  for (;;) {
    await up;
    try {
      const res = await fetch(`http://127.0.0.1:${bridge.port}/scim/v2${path}`, {
        method,
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/scim+json' },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, body: res.status === 204 ? null : await res.json() };
    } catch {
      await sleep(50); // killed mid-request: the IdP retries
      if (once) return null;
    }
  }
}

/** POST as an IdP does: on a lost answer or a 409, look the resource up by its unique name. */
async function ensure(kind: 'Users' | 'Groups', attr: string, value: string, body: unknown): Promise<string> {
  for (;;) {
    const created = await scim('POST', `/${kind}`, body, true);
    if (created?.status === 201) return created.body.id;
    if (created && created.status !== 409) throw new Error(`POST /${kind} ${value}: ${created.status} ${JSON.stringify(created.body)}`);
    const found = (await scim('GET', `/${kind}?filter=${encodeURIComponent(`${attr} eq "${value}"`)}`))!;
    if (found.status === 200 && found.body.totalResults === 1) return found.body.Resources[0].id;
  }
}

const upn = (i: number) => `user${i}@example.com`;
const managerOf = (i: number) => (i >= 10 ? Math.floor(i / 10) : null);

beforeAll(async () => {
  sim = await startSimulator({ port: 0, seed: { skus: [{ skuId: E3, skuPartNumber: 'ENTERPRISEPACK', seats: USERS + 10 }] }, throttling: false });
  dir = mkdtempSync(join(tmpdir(), 'crash-e2e-'));
});

let finished = false;
afterAll(async () => {
  // A test that failed or timed out may leave its killer loop running: it restarts no bridge from now on.
  finished = true;
  await up.catch(() => undefined);
  await bridge.stop();
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

it('loses nothing and duplicates nothing across SIGKILLs at random moments', async () => {
  const configFile = join(dir, 'config.json');
  const dbPath = join(dir, 'bridge.sqlite');
  writeFileSync(
    configFile,
    JSON.stringify({
      mode: 'user-sync',
      database: dbPath,
      sources: [{ id: 'okta', token: TOKEN }],
      groups: { push: true },
      defaults: { usageLocation: 'US' },
      logLevel: 'silent',
      graph: {
        ...simulatorGraph(sim),
        allowTenantDirSync: true,
        writeBudget: { writes: 1_000_000, perSeconds: 1 },
        resourceUnits: { units: 1_000_000, perSeconds: 1 },
      },
    }),
  );
  up = bridge.start(configFile);
  await up;

  // Ingress while the killer strikes: the IdP side retries what a kill interrupted.
  let kills = 0;
  let ingressDone = false;
  let killsAfterIngress = 0;
  const probe = openProbe(dbPath);
  // KILLS kills: all but two while ingress goes on, the last two once it is over while Graph writes are
  // still going on (soon after it, so they find writes in flight). Every kill costs a restart, so
  // there are no more than that.
  const killer = (async () => {
    while (kills < KILLS || (killsAfterIngress < 2 && (!ingressDone || probe.queueDepth() > 0))) {
      if (!ingressDone && kills >= KILLS - 2) {
        await sleep(50);
        continue;
      }
      await sleep(ingressDone ? 100 + random() * 400 : 300 + random() * 1500);
      await bridge.kill();
      kills++;
      if (ingressDone) killsAfterIngress++;
      if (finished) return;
      up = bridge.start(configFile);
      await up;
    }
  })();
  const ids: string[] = [];
  for (let i = 0; i < USERS; i += 8) {
    const wave = Array.from({ length: Math.min(8, USERS - i) }, (_, k) => i + k);
    const got = await Promise.all(
      wave.map((n) => {
        const m = managerOf(n);
        return ensure('Users', 'userName', upn(n), {
          schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'],
          userName: upn(n),
          displayName: `User ${n}`,
          name: { givenName: 'User', familyName: String(n) },
          active: true,
          entitlements: [{ value: 'ENTERPRISEPACK' }],
          ...(m !== null ? { 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { manager: { value: ids[m] } } } : {}),
        });
      }),
    );
    got.forEach((id, k) => (ids[wave[k]] = id));
  }
  for (let g = 0; g < GROUPS; g++) {
    const members = ids.filter((_, i) => i % GROUPS === g).map((value) => ({ value }));
    await ensure('Groups', 'displayName', `Team ${g}`, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: `Team ${g}`, members });
  }
  ingressDone = true;
  await killer;
  probe.close();
  expect(kills).toBeGreaterThanOrEqual(5);

  // Let the last process finish the queue.
  const queries = openProbe(dbPath);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && (queries.queueDepth() > 0 || queries.countsByState().synced < USERS + GROUPS)) await sleep(250);
  const counts = queries.countsByState();
  queries.close();
  expect(counts).toEqual({ pending: 0, synced: USERS + GROUPS, error: 0, blocked: 0 });

  const state = sim.state.snapshot();
  const byUpn = new Map(state.users.map((u) => [String(u.userPrincipalName), u]));
  expect(state.users).toHaveLength(USERS);
  expect([...byUpn.keys()].sort()).toEqual(Array.from({ length: USERS }, (_, i) => upn(i)).sort());
  for (let i = 0; i < USERS; i++) {
    const u = byUpn.get(upn(i))!;
    const m = managerOf(i);
    expect([u.displayName, u.assignedLicenses, u.manager]).toEqual([
      `User ${i}`,
      [{ disabledPlans: [], skuId: E3 }],
      m === null ? null : byUpn.get(upn(m))!.id,
    ]);
  }
  expect(state.groups.map((g) => g.displayName).sort()).toEqual(Array.from({ length: GROUPS }, (_, g) => `Team ${g}`).sort());
  for (const g of state.groups) {
    const n = Number(String(g.displayName).split(' ')[1]);
    const want = Array.from({ length: USERS }, (_, i) => i)
      .filter((i) => i % GROUPS === n)
      .map((i) => byUpn.get(upn(i))!.id);
    expect([...(g.members as string[])].sort()).toEqual(want.sort());
  }
  // Every user and every membership was written to Graph exactly once.
  const log = sim.requests.list();
  expect(log.filter((e) => e.method === 'POST' && e.url === '/users' && e.status === 201)).toHaveLength(USERS);
  // Memberships go 20 to a PATCH members@odata.bind (a lone one, or a refused chunk's members, by $ref):
  // the members of the writes Graph accepted add up to each membership once.
  const added = log
    .filter((e) => e.status === 204 && /^\/groups\/[^/?]+(\/members\/\$ref)?$/.test(e.url) && (e.method === 'PATCH' || e.method === 'POST'))
    .flatMap((e) => {
      const body = e.requestBody as { 'members@odata.bind'?: string[]; '@odata.id'?: string };
      return e.method === 'POST' ? [body['@odata.id']] : (body['members@odata.bind'] ?? []);
    });
  expect(added).toHaveLength(USERS);
  expect(new Set(added).size).toBe(USERS);
  // Fewer writes than memberships: at least 10 PATCHes of 20 for each group of 200.
  const binds = log.filter(
    (e) => e.method === 'PATCH' && e.status === 204 && Array.isArray((e.requestBody as Record<string, unknown>)?.['members@odata.bind']),
  );
  expect(binds.length).toBeGreaterThanOrEqual(USERS / 20);
  expect(Math.max(...binds.map((e) => (e.requestBody as { 'members@odata.bind': string[] })['members@odata.bind'].length))).toBe(20);
});
