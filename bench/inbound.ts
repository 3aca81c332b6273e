// Inbound writer benchmark (graph.writer "inbound"): an initial load of BENCH_USERS users with a
// licence (profile-sync) through the simulator's API-driven inbound provisioning app, configured with
// the simulator's documented defaults (docs/simulator.md, inbound section): records processed at 100
// a minute, each log entry readable 5 minutes after its record was processed, bulkUpload limited to
// 40 calls per 5 s and 2,000 calls a day, the provisioning log behind the reports service's 5
// requests per 10 s. In the same run the same users go through the direct writer (BENCH_INBOUND_DIRECT,
// on by default), and the inbound time is set against the processing minimum and against the direct
// writer's budget minimum for the writes it made (3,000 writes per 150 s: the first 3,000 at once,
// then 20 a second).
//
// Clock (BENCH_INBOUND_CLOCK): 'virtual' (default) runs the bridge and the simulator (a child process)
// on the sync bench's discrete-event clock (bench/lib/virtual-clock.ts, bench/lib/bench-simulator.ts):
// the service's processing, the log delay, the rate window and the daily quota are times on that
// clock, time jumps to the bridge's next timer when nothing is in flight, and the result does not
// depend on the CPU. 'scaled' runs both on wall time sped up BENCH_INBOUND_SCALE times (60); the
// bridge's and the simulator's CPU time then count as simulated time.
//
// Sizes: BENCH_USERS (100000), BENCH_INBOUND_RPM (records per minute the service processes, 100),
// BENCH_INBOUND_QUOTA (bulkUpload calls per 24 h, 2000 as for Entra ID P1/P2), BENCH_INBOUND_DIRECT
// (1; 0 skips the direct writer's run and uses 2 writes a user for its minimum).
// Standalone: node bin/run-ts.js bench/inbound.ts; in the suite: npm run bench -- inbound
import path from 'node:path';
import type { Config } from '../src/config';
import { leastGrant } from '../src/graph/permissions';
import { createLogger } from '../src/log';
import type { Store } from '../src/store';
import type { SyncGraph } from '../src/sync/graph-port';
import { type ClockKind, clockKindFrom } from './lib/bench-simulator';
import { type ProvisioningRun, runSeedChild, startProvisioningRun } from './lib/provisioning-run';
import { fmt, mb, table, type Verdict } from './lib/stats';

const E3 = '6fd2c87f-b296-42f0-b197-1e91e994b900';
const SOURCE = 'idp';
const SP = '0b3c5d7e-9f11-4a2b-8c4d-6e8f0a1b2c3d';
const JOB = 'API2AAD.0b3c5d7e9f11.0b3c5d7e';
const BRIDGE_USAGE_LOCATION = 'urn:ietf:params:scim:schemas:extension:graphbridge:2.0:User:usageLocation';
/** The simulator's default log delay (InboundAppConfig.logDelayMs). */
const LOG_DELAY_S = 300;
/** The reports service's limit on /auditLogs (learn.microsoft.com/graph/throttling-limits). */
const REPORTS = { requests: 5, windowMs: 10_000 };
const envNumber = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Writer = 'inbound' | 'direct';

/** What the bridge's Graph port saw, by kind of request, with the simulated time of each log read. */
interface Requests {
  bulkUploads: number;
  bulk429: number;
  logReads: number;
  log429: number;
  logTimes: number[];
  other: number;
  other429: number;
}

function counted(graph: SyncGraph, peek: () => number, r: Requests): SyncGraph {
  const note = (url: string, status: number) => {
    if (/\/bulkUpload$/.test(url.split('?')[0])) {
      r.bulkUploads++;
      if (status === 429) r.bulk429++;
    } else if (url.startsWith('/auditLogs/provisioning')) {
      r.logReads++;
      r.logTimes.push(peek());
      if (status === 429) r.log429++;
    } else {
      r.other++;
      if (status === 429) r.other429++;
    }
  };
  return {
    async send(op) {
      const res = await graph.send(op);
      note(op.url, res.status);
      return res;
    },
    async batch(ops) {
      const res = await graph.batch(ops);
      r.other++;
      r.other429 += res.filter((x) => x.status === 429).length;
      return res;
    },
    tokenRoles: () => graph.tokenRoles(),
  };
}

/** The most requests of `times` (ascending) in any window of `windowMs`. */
function busiestWindow(times: number[], windowMs: number): number {
  let most = 0;
  for (let lo = 0, hi = 0; hi < times.length; hi++) {
    while (times[hi] - times[lo] >= windowMs) lo++;
    most = Math.max(most, hi - lo + 1);
  }
  return most;
}

interface LoadFigures {
  writer: Writer;
  users: number;
  synced: number;
  failed: number;
  simSeconds: number;
  realSeconds: number;
  jumps: number;
  graphRequests: number;
  graphWrites: number;
  graph429: number;
  requests: Requests;
  /** Waits for the daily quota of bulkUpload calls: how many, and their simulated seconds in all. */
  quotaWaits: { count: number; seconds: number };
  /** Warnings the bridge logged, by message. */
  warnings: Map<string, number>;
  peakRss: number;
  simulatorPeakRss: number;
  config: Config;
}

const userId = (i: number) => `b${i}`;
/** The seeded user's number, or -1 for another id. */
const userIndex = (id: string) => (/^b\d+$/.test(id) ? Number(id.slice(1)) : -1);

/** The bench's users, written by the seeding process (runSeedChild). */
function seedUsers(store: Store, users: number): void {
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
          { sourceId: SOURCE, id: userId(i), sync: { dirSyncEnabled: false } },
        );
    });
  }
}

async function load(
  writer: Writer,
  users: number,
  clockKind: ClockKind,
  timeScale: number,
  service: { recordsPerMinute: number; dailyQuota: number },
): Promise<LoadFigures> {
  const requests: Requests = { bulkUploads: 0, bulk429: 0, logReads: 0, log429: 0, logTimes: [], other: 0, other429: 0 };
  const warnings = new Map<string, number>();
  const quotaWaits = { count: 0, seconds: 0 };
  let waitingSince: number | null = null;
  let peek = () => 0;
  // The bridge's warnings, counted; a daily-quota wait runs from its first warning to the next bulkUpload call.
  const logger = createLogger('warn', {
    write(line: string) {
      const entry = JSON.parse(line) as { msg?: string; warning?: unknown };
      const msg = String(entry.msg ?? '') + (entry.warning ? `: ${JSON.stringify(entry.warning)}` : '');
      warnings.set(msg, (warnings.get(msg) ?? 0) + 1);
      if (/daily quota/.test(msg) && waitingSince === null) {
        waitingSince = peek();
        quotaWaits.count++;
      }
    },
  });
  const run: ProvisioningRun = await startProvisioningRun({
    name: `inbound-bench-${writer}`,
    clock: clockKind,
    timeScale,
    seed: {
      skus: [{ skuId: E3, skuPartNumber: 'ENTERPRISEPACK', seats: users + 10 }],
      ...(writer === 'inbound'
        ? {
            inboundApps: [
              {
                servicePrincipalId: SP,
                jobId: JOB,
                target: 'entra',
                recordsPerMinute: service.recordsPerMinute,
                dailyQuota: service.dailyQuota,
                // The app's attribute list carries the bridge extension's usageLocation (docs/inbound-writer.md).
                mappings: { [BRIDGE_USAGE_LOCATION]: 'usageLocation' },
              },
            ],
          }
        : {}),
    },
    overrides: {
      mode: 'profile-sync',
      sources: [{ id: SOURCE, token: 'bench-token-0123456789' }],
      ...(writer === 'inbound'
        ? {
            'graph.writer': 'inbound',
            'graph.inbound': { servicePrincipalId: SP, jobId: JOB, target: 'entra', dailyQuota: service.dailyQuota, pollSeconds: 60 },
          }
        : {}),
    },
    // The recommended grant: with Synchronization.Read.All preflight checks that the job runs.
    grant: (config) => leastGrant(config, config.mode, { optional: true }),
    logger,
    // The direct writer as the sync bench runs it; the inbound writer's idle runs are a second apart
    // (the service works in minutes, and each idle run is a jump of the virtual clock).
    idleMs: writer === 'inbound' ? 1000 : 20,
    observe: (graph, p) =>
      counted(
        {
          ...graph,
          send: async (op) => {
            const res = await graph.send(op);
            if (/\/bulkUpload$/.test(op.url) && waitingSince !== null) {
              quotaWaits.seconds += (p() - waitingSince) / 1000;
              waitingSince = null;
            }
            return res;
          },
        },
        p,
        requests,
      ),
    seedScript: __filename,
    users,
    userIndex,
    userId,
  });
  peek = run.peek;
  try {
    const startedReal = performance.now();
    const started = run.peek();
    run.engine.start();
    let progress = -1;
    let progressAt = performance.now();
    while (run.synced() + run.failed.size < users) {
      await sleep(100);
      if (run.synced() !== progress) [progress, progressAt] = [run.synced(), performance.now()];
      // Nothing moved for five real minutes: say where it stands instead of waiting forever.
      if (performance.now() - progressAt > 300_000)
        throw new Error(`${writer}: no progress for 300 s: ${run.synced()} of ${users} users synced, ${JSON.stringify(run.engine.status().counts)}`);
    }
    const realSeconds = (performance.now() - startedReal) / 1000;
    const simSeconds = (run.lastAppliedAt() - started) / 1000;
    await run.engine.stop();
    const u = await run.simulator.usage();
    const mem = await run.simulator.child.memory();
    return {
      writer,
      users,
      synced: run.synced(),
      failed: run.failed.size,
      simSeconds,
      realSeconds,
      jumps: run.jumps(),
      graphRequests: u.requests,
      graphWrites: u.writes,
      graph429: u.throttled,
      requests,
      quotaWaits,
      warnings,
      peakRss: run.peakRss(),
      simulatorPeakRss: mem.peakRss,
      config: run.config,
    };
  } finally {
    await run.close();
  }
}

/** The budget minimum for `writes`: the first 3,000 at once, then 20 a second. */
const budgetMinimum = (config: Config, writes: number) =>
  Math.max(0, writes - config.graph.writeBudget.writes) / (config.graph.writeBudget.writes / config.graph.writeBudget.perSeconds);

export async function runInboundBench(): Promise<{ verdicts: Verdict[] }> {
  const users = envNumber('BENCH_USERS', 100_000);
  const clockKind = clockKindFrom('BENCH_INBOUND_CLOCK', process.env.BENCH_INBOUND_CLOCK);
  const timeScale = envNumber('BENCH_INBOUND_SCALE', 60);
  const recordsPerMinute = envNumber('BENCH_INBOUND_RPM', 100);
  const dailyQuota = envNumber('BENCH_INBOUND_QUOTA', 2000);
  const withDirect = process.env.BENCH_INBOUND_DIRECT !== '0';
  const clockName =
    clockKind === 'virtual'
      ? "virtual clock (discrete events: the bridge's and the simulator's CPU time count 0)"
      : `scaled clock x${timeScale} (CPU time counts as simulated time)`;
  console.log(
    `inbound bench: ${fmt(users, 0)} users with a licence, profile-sync, inbound writer (Entra target), service ${recordsPerMinute} records/min, ${dailyQuota} calls/24 h, ${clockName}`,
  );
  const service = { recordsPerMinute, dailyQuota };
  const inbound = await load('inbound', users, clockKind, timeScale, service);
  console.log(`inbound writer: ${fmt(inbound.simSeconds / 60, 1)} min simulated, ${fmt(inbound.realSeconds, 0)} s real`);
  const direct = withDirect ? await load('direct', users, clockKind, timeScale, service) : null;
  if (direct) console.log(`direct writer: ${fmt(direct.simSeconds / 60, 1)} min simulated, ${fmt(direct.realSeconds, 0)} s real`);

  const cfg = inbound.config;
  // Without the direct writer's run: a create and a licence per user (profile-sync, no manager).
  const directWrites = direct ? direct.graphWrites : users * 2;
  const directMinimum = budgetMinimum(cfg, directWrites);
  const bulkCalls = Math.ceil(users / 50);
  const rate = cfg.graph.inbound!.rate;
  const rateMinimum = Math.max(0, bulkCalls - rate.requests) / (rate.requests / rate.perSeconds);
  // The service's first minute of budget at once (the simulator's bucket starts full), then its rate,
  // and the last record's log entry 5 minutes after it was processed.
  const processingMinimum = LOG_DELAY_S + (Math.max(0, users - recordsPerMinute) / recordsPerMinute) * 60;
  const pollSeconds = cfg.graph.inbound!.pollSeconds;
  const r = inbound.requests;
  const busiest = busiestWindow(r.logTimes, REPORTS.windowMs);
  const warnings = [...inbound.warnings].map(([m, n]) => `${n} x ${m}`).join('; ');
  const rows: string[][] = [
    ['users synced / in error', `${fmt(inbound.synced, 0)} / ${fmt(inbound.failed, 0)}`, direct ? `${fmt(direct.synced, 0)} / ${fmt(direct.failed, 0)}` : '-'],
    [
      'simulated time',
      `${fmt(inbound.simSeconds / 60, 1)} min (${fmt(inbound.simSeconds / 3600, 2)} h)`,
      direct ? `${fmt(direct.simSeconds / 60, 1)} min` : '-',
    ],
    ['minimum: processing (inbound) / write budget (direct)', `${fmt(processingMinimum / 60, 1)} min`, `${fmt(directMinimum / 60, 1)} min`],
    ['time / own minimum', fmt(inbound.simSeconds / processingMinimum, 3), direct ? fmt(direct.simSeconds / Math.max(1, directMinimum), 3) : '-'],
    ['inbound time / direct budget minimum', fmt(inbound.simSeconds / Math.max(1, directMinimum), 2), ''],
    ['inbound time / direct time (measured)', direct ? fmt(inbound.simSeconds / Math.max(1, direct.simSeconds), 2) : '-', ''],
    [
      'Graph writes by the bridge (per user)',
      `${fmt(inbound.graphWrites, 0)} (${fmt(inbound.graphWrites / users, 3)})`,
      `${fmt(directWrites, 0)} (${fmt(directWrites / users, 3)})${direct ? '' : ' assumed'}`,
    ],
    [
      'Graph requests by the bridge (per user)',
      `${fmt(inbound.graphRequests, 0)} (${fmt(inbound.graphRequests / users, 3)})`,
      direct ? `${fmt(direct.graphRequests, 0)} (${fmt(direct.graphRequests / users, 3)})` : '-',
    ],
    ['Graph 429s (identity and access budgets)', fmt(inbound.graph429, 0), direct ? fmt(direct.graph429, 0) : '-'],
    ['bulkUpload calls (records per call)', `${fmt(r.bulkUploads, 0)} (${fmt(users / Math.max(1, r.bulkUploads - r.bulk429), 1)})`, ''],
    ['bulkUpload 429s (40 per 5 s, daily quota)', fmt(r.bulk429, 0), ''],
    ['bulkUpload rate minimum (40 per 5 s)', `${fmt(rateMinimum, 0)} s`, ''],
    ['daily-quota waits (simulated time waiting)', `${fmt(inbound.quotaWaits.count, 0)} (${fmt(inbound.quotaWaits.seconds / 3600, 2)} h)`, ''],
    ['provisioning-log reads (429s)', `${fmt(r.logReads, 0)} (${fmt(r.log429, 0)})`, ''],
    ['most log reads in any 10 s (limit 5)', fmt(busiest, 0), ''],
    ['log reads per poll interval', fmt(r.logReads / Math.max(1, inbound.simSeconds / pollSeconds), 2), ''],
    ['bench process peak RSS (engine, store)', mb(inbound.peakRss), direct ? mb(direct.peakRss) : '-'],
    ['simulator process peak RSS', mb(inbound.simulatorPeakRss), direct ? mb(direct.simulatorPeakRss) : '-'],
    ['real time (clock jumps)', `${fmt(inbound.realSeconds, 0)} s (${inbound.jumps})`, direct ? `${fmt(direct.realSeconds, 0)} s (${direct.jumps})` : '-'],
  ];
  console.log(table(['initial load', 'inbound writer', 'direct writer'], rows));
  if (warnings) console.log(`inbound writer warnings: ${warnings}`);
  const verdicts: Verdict[] = [
    {
      bench: 'inbound',
      target: 'every user synced through the inbound app',
      measured: `${inbound.synced}/${users}`,
      pass: inbound.synced === users && inbound.failed === 0,
    },
    {
      // A run that ends with fewer than 50 records queued sends a partial request.
      bench: 'inbound',
      target: 'bulkUpload calls accepted <= 1.02x ceil(users / 50) (daily quota)',
      measured: `${r.bulkUploads - r.bulk429} for ${bulkCalls}`,
      pass: r.bulkUploads - r.bulk429 <= Math.ceil(bulkCalls * 1.02),
    },
    {
      bench: 'inbound',
      target: 'provisioning-log reads within 5 per 10 s, no 429',
      measured: `at most ${busiest} in 10 s, ${r.log429} 429s`,
      pass: busiest <= REPORTS.requests && r.log429 === 0,
    },
    {
      // The bridge reads the logs every pollSeconds: the last records are seen up to one poll late.
      bench: 'inbound',
      target: 'time <= 1.05x (processing minimum + one log poll)',
      measured: fmt(inbound.simSeconds / (processingMinimum + pollSeconds), 3),
      pass: inbound.simSeconds <= (processingMinimum + pollSeconds) * 1.05,
    },
  ];
  for (const v of verdicts) console.log(`${v.pass ? 'PASS' : 'FAIL'}  ${v.target}: ${v.measured}`);
  return { verdicts };
}

if (runSeedChild(seedUsers)) {
  // The seeding process: done.
} else if (path.resolve(process.argv[1] ?? '') === __filename) {
  runInboundBench().then(
    (r) => process.exit(r.verdicts.every((v) => v.pass) ? 0 : 1),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
