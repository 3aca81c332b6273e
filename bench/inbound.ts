// Inbound writer benchmark (graph.writer "inbound"): an initial load of BENCH_USERS users with a
// licence through the simulator's API-driven inbound provisioning app, on a scaled clock shared by
// the simulator and the engine. The app is configured with the simulator's documented defaults
// (docs/simulator.md, inbound section): records processed at 100 per minute, each log entry readable
// 5 minutes after its record was processed, bulkUpload limited to 40 calls per 5 s and a daily quota of calls. Reported against, in
// the same run: the direct writer's budget minimum for the same users (3,000 writes per 150 s, a
// create and a licence each), the bulkUpload rate minimum, and the processing minimum.
//
// Sizes: BENCH_USERS (1000; 100000 for the real figure), BENCH_INBOUND_SCALE (clock speed-up, 60: the
// service's 100 records a minute become 100 a second, about what one process keeps up with; 100,000 users
// then take about 17 minutes), BENCH_INBOUND_RPM (records per minute the service processes, 100),
// BENCH_INBOUND_QUOTA (bulkUpload calls per 24 h, 2000 as for Entra ID P1/P2).
// Standalone: node bin/run-ts.js bench/inbound.ts; in the suite: npm run bench -- inbound
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config';
import { createGraphClient } from '../src/graph/client';
import { leastGrant } from '../src/graph/permissions';
import { createLogger } from '../src/log';
import { startSimulator } from '../src/simulator';
import { simulatorGraphOverrides } from '../test/e2e/simulator-graph';
import { openStore } from '../src/store';
import { scaledClock } from '../src/sync/clock';
import { createSyncEngine } from '../src/sync/engine';
import { fmt, table, type Verdict } from './lib/stats';

const E3 = '6fd2c87f-b296-42f0-b197-1e91e994b900';
const SOURCE = 'idp';
const SP = '0b3c5d7e-9f11-4a2b-8c4d-6e8f0a1b2c3d';
const JOB = 'API2AAD.0b3c5d7e9f11.0b3c5d7e';
const envNumber = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runInboundBench(): Promise<{ verdicts: Verdict[] }> {
  const users = envNumber('BENCH_USERS', 1000);
  const timeScale = envNumber('BENCH_INBOUND_SCALE', 60);
  const recordsPerMinute = envNumber('BENCH_INBOUND_RPM', 100);
  const dailyQuota = envNumber('BENCH_INBOUND_QUOTA', 2000);
  console.log(
    `inbound bench: ${fmt(users, 0)} users with a licence, profile-sync, inbound writer (Entra target), service ${recordsPerMinute} records/min, ${dailyQuota} calls/24 h, clock x${timeScale}`,
  );
  const sim = await startSimulator({
    port: 0,
    timeScale,
    throttling: true,
    requestLogLimit: 1000,
    seed: { skus: [{ skuId: E3, skuPartNumber: 'ENTERPRISEPACK', seats: users + 10 }] },
  });
  const dir = mkdtempSync(path.join(tmpdir(), 'inbound-bench-'));
  try {
    const config = loadConfig({
      env: {},
      overrides: {
        mode: 'profile-sync',
        database: path.join(dir, 'bridge.sqlite'),
        sources: [{ id: SOURCE, token: 'bench-token-0123456789' }],
        'defaults.usageLocation': 'US',
        logLevel: 'silent',
        ...simulatorGraphOverrides(sim),
        'graph.writer': 'inbound',
        'graph.inbound': { servicePrincipalId: SP, jobId: JOB, target: 'entra', dailyQuota, pollSeconds: 60 },
      },
    });
    sim.grant(leastGrant(config));
    sim.inbound.configure({
      servicePrincipalId: SP,
      jobId: JOB,
      target: 'entra',
      recordsPerMinute,
      dailyQuota,
      mappings: { 'urn:ietf:params:scim:schemas:extension:graphbridge:2.0:User:usageLocation': 'usageLocation' },
    });
    const store = openStore(config.database, { mode: config.mode, sources: config.sources, backgroundCheckpoints: true });
    for (let from = 0; from < users; from += 5000) {
      store.transaction(() => {
        for (let i = from; i < Math.min(users, from + 5000); i++)
          store.users.create(
            {
              userName: `b${i}@example.com`,
              displayName: `Bench ${i}`,
              name: { givenName: 'Bench', familyName: String(i) },
              active: true,
              entitlements: [{ value: 'ENTERPRISEPACK' }],
            },
            { sourceId: SOURCE, id: `b${i}`, sync: { dirSyncEnabled: false } },
          );
      });
    }
    const logger = createLogger('silent');
    const clock = scaledClock(timeScale);
    const engine = createSyncEngine({ config, store, graph: createGraphClient(config.graph, { logger }), logger, clock, idleMs: 1000 });
    const startedReal = performance.now();
    const started = clock.now();
    let peak = process.memoryUsage().rss;
    engine.start();
    for (;;) {
      const c = engine.status().counts;
      peak = Math.max(peak, process.memoryUsage().rss);
      if (c.synced + c.error >= users) break;
      await sleep(100);
    }
    const simSeconds = (clock.now() - started) / 1000;
    const realSeconds = (performance.now() - startedReal) / 1000;
    const status = engine.status();
    await engine.stop();
    // The bridge's own count of its bulkUpload calls (the simulator's request log is bounded).
    const calls = store.inbound.callsSince(started - 1);
    const u = sim.throttle.usage();
    const graphWrites = u.writes;
    const counts = status.counts;
    store.close();

    const budget = config.graph.writeBudget;
    const directWrites = users * 2;
    const directMinimum = Math.max(0, directWrites - budget.writes) / (budget.writes / budget.perSeconds);
    const bulkCalls = Math.ceil(users / 50);
    const rateMinimum = bulkCalls / (config.graph.inbound!.rate.requests / config.graph.inbound!.rate.perSeconds);
    const processingMinimum = 300 + (users / recordsPerMinute) * 60;
    const quotaDays = Math.ceil(bulkCalls / dailyQuota) - 1;
    const rows = [
      ['users synced / in error', `${fmt(counts.synced, 0)} / ${fmt(counts.error, 0)}`],
      ['simulated time', `${fmt(simSeconds / 60, 1)} min (${fmt(realSeconds, 1)} s real)`],
      ['bulkUpload calls (records per call)', `${fmt(calls, 0)} (${fmt(users / Math.max(1, calls), 1)})`],
      ['Graph writes by the bridge (per user)', `${fmt(graphWrites, 0)} (${fmt(graphWrites / users, 2)})`],
      ['Graph requests by the bridge (per user)', `${fmt(u.requests, 0)} (${fmt(u.requests / users, 2)})`],
      ['direct writer budget minimum (2 writes/user)', `${fmt(directMinimum / 60, 1)} min`],
      ['inbound: bulkUpload rate minimum (40 per 5 s)', `${fmt(rateMinimum / 60, 2)} min`],
      ['inbound: processing minimum (records/rpm + 5 min log delay)', `${fmt(processingMinimum / 60, 1)} min`],
      ['inbound: days of daily quota needed beyond the first', fmt(Math.max(0, quotaDays), 0)],
      ['inbound time / direct budget minimum', fmt(simSeconds / Math.max(1, directMinimum), 2)],
      ['inbound time / processing minimum', fmt(simSeconds / processingMinimum, 2)],
      ['bench process peak RSS', `${fmt(peak / 1048576, 0)} MB`],
    ];
    console.log(table(['inbound load', 'value'], rows));
    return {
      verdicts: [
        {
          bench: 'inbound',
          target: 'every user synced through the inbound app',
          measured: `${counts.synced}/${users}`,
          pass: counts.synced === users,
        },
        {
          // Runs that end with fewer than 50 records queued send a partial request.
          bench: 'inbound',
          target: 'bulkUpload calls <= 1.02x ceil(users / 50) (daily quota)',
          measured: `${calls} for ${bulkCalls}`,
          pass: calls <= Math.ceil(bulkCalls * 1.02),
        },
        {
          // The bridge reads the logs every pollSeconds: the last records are seen up to one poll late.
          bench: 'inbound',
          target: 'time <= 1.10x (processing minimum + one log poll)',
          measured: fmt(simSeconds / (processingMinimum + config.graph.inbound!.pollSeconds), 2),
          pass: simSeconds <= (processingMinimum + config.graph.inbound!.pollSeconds) * 1.1,
        },
      ],
    };
  } finally {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  runInboundBench().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
