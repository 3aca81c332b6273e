// The inbound writer across the gap between a bulkUpload's 202 and the provisioning log entry: the
// bridge process is killed with SIGKILL once every record is staged with the service and before any
// is processed; restarted, it follows the records it sent (sending none again) and every user ends
// synced with its Graph id, exactly once in the tenant.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { loadConfig } from '../../src/config';
import { leastGrant } from '../../src/graph/permissions';
import { startSimulator, type RunningSimulator } from '../../src/simulator';
import { restartableBridge } from './bridge-process';
import { until } from './cli-process';
import { simulatorGraph } from './harness';

jest.setTimeout(120_000);

const TOKEN = 'inbound-crash-token-0123456789';
const USERS = 120;
const SP = '6d1e3b0f-2c8e-4d4f-9a71-3e0b5f8c2d16';
const JOB = 'API2AAD.0a1b2c3d4e5f.6d1e3b0f';

let sim: RunningSimulator;
let dir: string;
const bridge = restartableBridge();

/** The bridge's records by state, read from its database file. */
function records(dbPath: string): Record<string, number> {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  try {
    return Object.fromEntries(
      (db.prepare('SELECT state, count(*) AS n FROM inbound_records GROUP BY state').all() as { state: string; n: number }[]).map((r) => [r.state, r.n]),
    );
  } finally {
    db.close();
  }
}

function syncStates(dbPath: string): { synced: number; linked: number } {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  try {
    return db.prepare(`SELECT sum(state = 'synced') AS synced, sum(graph_id IS NOT NULL) AS linked FROM sync_state WHERE type = 'User'`).get() as {
      synced: number;
      linked: number;
    };
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  sim = await startSimulator({ port: 0, seed: {}, throttling: false });
  dir = mkdtempSync(join(tmpdir(), 'inbound-crash-'));
});

afterAll(async () => {
  await bridge.stop();
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

it('loses nothing and sends nothing twice when the bridge is killed between the 202 and the log entries', async () => {
  const configFile = join(dir, 'config.json');
  const dbPath = join(dir, 'bridge.sqlite');
  const raw = {
    mode: 'profile-sync',
    database: dbPath,
    sources: [{ id: 'okta', token: TOKEN }],
    defaults: { usageLocation: 'US' },
    logLevel: 'silent',
    graph: {
      ...simulatorGraph(sim),
      writer: 'inbound',
      // The logs each second; the last request (20 records, not a full 50) goes after a second, not 60.
      inbound: { servicePrincipalId: SP, jobId: JOB, target: 'entra', pollSeconds: 1, batchWaitSeconds: 1 },
    },
  };
  writeFileSync(configFile, JSON.stringify(raw));
  sim.grant(leastGrant(loadConfig({ file: configFile, env: {} })));
  // The service holds the records for an hour after their 202: the bridge is killed in that gap.
  sim.inbound.configure({ servicePrincipalId: SP, jobId: JOB, target: 'entra', processingDelayMs: 3_600_000 });
  await bridge.start(configFile);
  // Ten at a time, as an IdP's provisioning run sends them: each engine run then stages several records
  // for its bulkUpload, where one-by-one POSTs cost one call each and met the service's 40 calls per 5 s.
  const post = (i: number) =>
    fetch(`http://127.0.0.1:${bridge.port}/scim/v2/Users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/scim+json' },
      body: JSON.stringify({
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName: `user${i}@example.com`,
        displayName: `User ${i}`,
        name: { givenName: 'User', familyName: String(i) },
        active: true,
      }),
    });
  for (let i = 0; i < USERS; i += 10) {
    const wave = await Promise.all(Array.from({ length: 10 }, (_, k) => post(i + k)));
    expect(wave.map((res) => res.status)).toEqual(Array(10).fill(201));
  }
  await until(() => records(dbPath).sent === USERS, { what: 'every record sent', ms: 60_000 });
  await bridge.kill();
  expect(sim.state.snapshot().users).toHaveLength(0);
  const uploadsBefore = sim.requests.list({ method: 'POST' }).filter((e) => /\/bulkUpload$/.test(e.url) && e.status === 202);
  // While the bridge is down the service processes what it staged.
  expect(sim.inbound.process()).toEqual({ processed: USERS });

  await bridge.start(configFile);
  await until(
    () => {
      const s = syncStates(dbPath);
      return s.synced === USERS && s.linked === USERS;
    },
    { what: 'every user synced with its Graph id', ms: 60_000 },
  );
  await bridge.kill();
  const users = sim.state.snapshot().users;
  expect(users.map((u) => u.userPrincipalName).sort()).toEqual(Array.from({ length: USERS }, (_, i) => `user${i}@example.com`).sort());
  const uploads = sim.requests.list({ method: 'POST' }).filter((e) => /\/bulkUpload$/.test(e.url) && e.status === 202);
  // 50 to a request, and not one record sent again after the restart.
  expect(uploads).toHaveLength(uploadsBefore.length);
  const bulkIds = uploads.flatMap((e) => (e.requestBody as { Operations: { bulkId: string }[] }).Operations.map((o) => o.bulkId));
  expect([bulkIds.length, new Set(bulkIds).size]).toEqual([USERS, USERS]);
  expect(records(dbPath)).toEqual({ done: USERS });
});
