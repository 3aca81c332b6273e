// Sync engine benchmark (issue 4): provisioning users against the Graph simulator with Microsoft's
// write budget (3,000 writes per 150 s per app and tenant) on a scaled clock.
// Figures (medians over rounds): Graph writes per provisioned user (target: create + license +
// manager = 3), time to provision against the minimum the budget allows for those writes (target:
// within 1.1x; the baseline is computed in the same run from the write count: the first 3,000
// at once, then 20 per second), and the share of requests that drew a 429 (target: under 1%).
// The simulator runs in a child process of its own, so that it does not share the engine's event
// loop (Graph is another machine too). Standalone: node bin/run-ts.js bench/sync.ts [users] [rounds] [timeScale]
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config';
import { createGraphClient } from '../src/graph/client';
import { createLogger } from '../src/log';
import { type LoggedRequest, type RunningSimulator, startSimulator } from '../src/simulator';
import { openStore } from '../src/store';
import { scaledClock } from '../src/sync/clock';
import { createSyncEngine } from '../src/sync/engine';
import { Agent } from 'undici';
import { reportListening, reportStartFailure, startChildServer } from './lib/child-server';
import { fmt, median, table, type Verdict } from './lib/stats';

const CHILD_TAG = 'syncBenchSimulator';

/** What the simulator's child process reports: how to reach it and authenticate. */
type SimInfo = Pick<RunningSimulator, 'url' | 'authorityHost' | 'tenantId' | 'clientId' | 'clientSecret' | 'caFile'>;

const E3 = '6fd2c87f-b296-42f0-b197-1e91e994b900';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

export interface SyncBenchOptions {
  users?: number;
  rounds?: number;
  timeScale?: number;
}

interface Round {
  writesPerUser: number;
  simSeconds: number;
  minimumSeconds: number;
  ratio: number;
  throttledShare: number;
  requests: number;
}

async function simulatorChild(args: { dataDir: string; users: number; timeScale: number }): Promise<void> {
  const sim = await startSimulator({ port: 0, timeScale: args.timeScale, throttling: true, dataDir: args.dataDir, seed: { skus: [{ skuId: E3, skuPartNumber: 'ENTERPRISEPACK', seats: args.users + 10 }] } });
  const info: SimInfo = { url: sim.url, authorityHost: sim.authorityHost, tenantId: sim.tenantId, clientId: sim.clientId, clientSecret: sim.clientSecret, caFile: sim.caFile };
  writeFileSync(path.join(args.dataDir, 'sim.json'), JSON.stringify(info));
  reportListening(Number(new URL(sim.url).port));
}

async function requestLog(sim: SimInfo): Promise<LoggedRequest[]> {
  const dispatcher = new Agent({ connect: { ca: readFileSync(sim.caFile, 'utf8') } });
  const res = await fetch(`${sim.url}/_sim/requests`, { dispatcher } as unknown as RequestInit);
  const body = (await res.json()) as { value: LoggedRequest[] };
  await dispatcher.close();
  return body.value;
}

async function round(users: number, timeScale: number): Promise<Round> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sync-bench-'));
  const child = await startChildServer(__filename, { [CHILD_TAG]: true, dataDir: dir, users, timeScale });
  const sim = JSON.parse(readFileSync(path.join(dir, 'sim.json'), 'utf8')) as SimInfo;
  const dbPath = path.join(dir, 'bridge.sqlite');
  const config = loadConfig({
    env: {},
    overrides: {
      mode: 'user-sync', database: dbPath, sources: [{ id: 'idp', token: 'bench-token-0123456789' }], 'defaults.usageLocation': 'US', logLevel: 'silent',
      'graph.baseUrl': sim.url, 'graph.authorityHost': sim.authorityHost, 'graph.tenantId': sim.tenantId, 'graph.clientId': sim.clientId,
      'graph.clientSecret': sim.clientSecret, 'graph.caFile': sim.caFile, 'graph.allowTenantDirSync': true,
    },
  });
  const logger = createLogger('silent');
  const store = openStore(dbPath, { mode: config.mode, sources: config.sources });
  store.transaction(() => {
    for (let i = 0; i < users; i++) {
      store.users.create(
        {
          schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', ENTERPRISE], userName: `b${i}@example.com`, displayName: `Bench ${i}`,
          name: { givenName: 'Bench', familyName: String(i) }, active: true, entitlements: [{ value: 'ENTERPRISEPACK' }],
          ...(i > 0 ? { [ENTERPRISE]: { manager: { value: `b${Math.floor((i - 1) / 10)}` } } } : {}),
        },
        { sourceId: 'idp', id: `b${i}`, sync: { dirSyncEnabled: true } },
      );
    }
  });
  const clock = scaledClock(timeScale);
  const engine = createSyncEngine({ config, store, graph: createGraphClient(config.graph, { logger }), logger, clock, idleMs: 20 });
  const started = clock.now();
  engine.start();
  while (engine.status().counts.synced < users) await new Promise((r) => setTimeout(r, 50));
  const simSeconds = (clock.now() - started) / 1000;
  await engine.stop();
  const log = (await requestLog(sim)).filter((e) => e.url !== '/$batch');
  const userWrites = log.filter((e) => e.method !== 'GET' && e.status < 300 && e.url.startsWith('/users')).length;
  const allWrites = log.filter((e) => e.method !== 'GET' && e.status < 300).length;
  const throttled = log.filter((e) => e.status === 429).length;
  const budget = config.graph.writeBudget;
  const minimumSeconds = Math.max(0, allWrites - budget.writes) / (budget.writes / budget.perSeconds);
  store.close();
  await child.stop();
  rmSync(dir, { recursive: true, force: true });
  return { writesPerUser: userWrites / users, simSeconds, minimumSeconds, ratio: simSeconds / minimumSeconds, throttledShare: throttled / log.length, requests: log.length };
}

export async function runSyncBench(options: SyncBenchOptions = {}): Promise<{ verdicts: Verdict[] }> {
  const users = options.users ?? 5000;
  const rounds = options.rounds ?? 3;
  const timeScale = options.timeScale ?? 10;
  console.log(`sync bench: ${users} users with license and manager, user-sync, write budget 3,000/150 s, clock x${timeScale}, ${rounds} rounds`);
  const results: Round[] = [];
  for (let r = 0; r < rounds; r++) {
    const res = await round(users, timeScale);
    results.push(res);
    console.log(table(['round', 'writes/user', 'provision (sim s)', 'budget minimum (s)', 'ratio', '429 share', 'requests'], [[
      String(r + 1), fmt(res.writesPerUser, 3), fmt(res.simSeconds), fmt(res.minimumSeconds), fmt(res.ratio, 3), `${fmt(res.throttledShare * 100, 2)}%`, String(res.requests),
    ]]));
  }
  const m = (f: (r: Round) => number) => median(results.map(f));
  const writesPerUser = m((r) => r.writesPerUser);
  const ratio = m((r) => r.ratio);
  const share = m((r) => r.throttledShare);
  console.log(`medians: ${fmt(writesPerUser, 3)} writes per user; ${fmt(m((r) => r.simSeconds))} s to provision vs ${fmt(m((r) => r.minimumSeconds))} s minimum (${fmt(ratio, 3)}x); ${fmt(share * 100, 2)}% of requests drew a 429`);
  return {
    verdicts: [
      { bench: 'sync', target: 'Graph writes per provisioned user <= 3', measured: fmt(writesPerUser, 3), pass: writesPerUser <= 3 },
      { bench: 'sync', target: `time to provision ${users} users <= 1.1x budget minimum`, measured: `${fmt(ratio, 3)}x`, pass: ratio <= 1.1 },
      { bench: 'sync', target: 'share of requests drawing a 429 < 1%', measured: `${fmt(share * 100, 2)}%`, pass: share < 0.01 },
    ],
  };
}

const childArg = process.argv[2];
if (childArg?.includes(CHILD_TAG)) {
  simulatorChild(JSON.parse(childArg)).catch(reportStartFailure);
} else if (path.resolve(process.argv[1] ?? '') === __filename) {
  const [users, rounds, timeScale] = process.argv.slice(2).map(Number);
  runSyncBench({ users: users || undefined, rounds: rounds || undefined, timeScale: timeScale || undefined }).then(
    (r) => {
      console.log(table(['target', 'measured', 'verdict'], r.verdicts.map((v) => [v.target, v.measured, v.pass ? 'PASS' : 'FAIL'])));
      process.exit(r.verdicts.every((v) => v.pass) ? 0 : 1);
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
