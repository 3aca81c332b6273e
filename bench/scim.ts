// SCIM ingress benchmark: 100,000 seeded users; the bridge as `npm start` runs it (embedded
// simulator, sync engine on, access log at info) against the least work a SCIM server on SQLite
// must do (bench/baseline-scim.ts: parse, one indexed statement, a SCIM-shaped answer), measured
// in the same run, alternating which server goes first, with medians over several rounds.
// Each server runs alone in its own child process (its RSS is its own); autocannon runs here.
// Targets: POST /Users >= 0.5 of the baseline's requests/s, filtered GET and a 100-user page
// >= 0.8; POST p99 < 50 ms at 10 connections; filter-by-userName p99 < 10 ms; bridge RSS < 300 MB.
// Sizes: BENCH_USERS (100000), BENCH_SCIM_ROUNDS (3), BENCH_SCIM_SECONDS (4), BENCH_SCIM_CONNECTIONS (10);
// BENCH_CPU_PROF=dir writes a CPU profile of each server's measured window there, one file per
// server, scenario and round (<server>-<scenario>-r<round>.cpuprofile); the profiler's own cost is in
// the figures of such a run.
// BENCH_SCIM_COMPARE=dir also runs the bridge of another checkout (e.g. `git archive main` unpacked,
// with node_modules linked) on a copy of the same seeded file, in the same rounds and rotation, and
// reports it beside this one: a before/after comparison that a noisy machine cannot skew one way.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { compileEntries, cpuProfiler, startChildServer, type ChildServer } from './lib/child-server';
import { measureLatency, type LatencyFigures } from './lib/latency';
import { runLoad, type AutocannonRequest, type LoadFigures } from './lib/load';
import { benchUser, benchUserName } from './lib/scim-users';
import { seedBridgeStore, BENCH_SOURCE, BENCH_TOKEN } from './lib/scim-seed';
import { fmt, mb, median, table, type Verdict } from './lib/stats';
import { compareShapes } from './lib/scim-shape';
import { sqlCount } from './lib/scim-sql-count';

export interface ScimBenchOptions {
  users?: number;
  rounds?: number;
  seconds?: number;
  connections?: number;
}

type Scenario = 'POST /Users' | 'GET filter userName eq' | 'GET list page (100)' | 'GET filter, 1 connection';
// Throughput with `connections` concurrent clients; then latency of the filter alone with one
// client at a time, so that its p99 is the request's own time rather than queueing behind nine others.
const SCENARIOS: Scenario[] = ['POST /Users', 'GET filter userName eq', 'GET list page (100)', 'GET filter, 1 connection'];
const THROUGHPUT: Scenario[] = ['POST /Users', 'GET filter userName eq', 'GET list page (100)'];
/** `cpuMsPerRequest`: the server's CPU time during the run per successful request (all its threads: engine and simulator included). */
type Figures = (LoadFigures | LatencyFigures) & { cpuMsPerRequest: number };
const headers = { Authorization: `Bearer ${BENCH_TOKEN}`, 'Content-Type': 'application/scim+json' };
const rand = (n: number) => Math.floor(Math.random() * n);

const filterPath = (users: number) => `/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${benchUserName(rand(users))}"`)}`;

function requestsFor(scenario: Scenario, users: number, tag: string): AutocannonRequest[] {
  if (scenario === 'POST /Users') {
    let n = 0;
    return [{ method: 'POST', path: '/scim/v2/Users', headers, setupRequest: (req) => ({ ...req, body: JSON.stringify(benchUser(`${tag}-${n++}`)) }) }];
  }
  if (scenario === 'GET filter userName eq' || scenario === 'GET filter, 1 connection') {
    return [{ method: 'GET', headers, setupRequest: (req) => ({ ...req, path: filterPath(users) }) }];
  }
  // A page in the middle of the collection: startIndex within 5% of users / 2.
  const from = Math.floor(users * 0.45);
  return [
    { method: 'GET', headers, setupRequest: (req) => ({ ...req, path: `/scim/v2/Users?startIndex=${from + 1 + rand(Math.floor(users / 10))}&count=100` }) },
  ];
}

type ServerName = 'bridge' | 'baseline' | 'compared';

interface Servers {
  bridge: ChildServer;
  baseline: ChildServer;
  /** The other checkout's bridge (BENCH_SCIM_COMPARE), when asked for. */
  compared?: ChildServer;
}

/** This round's order: each server goes first in turn. */
function rotation(servers: Servers, round: number): ServerName[] {
  const names: ServerName[] = servers.compared ? ['bridge', 'baseline', 'compared'] : ['bridge', 'baseline'];
  const shift = (round - 1) % names.length;
  return [...names.slice(shift), ...names.slice(0, shift)];
}

/**
 * Waits until a server has worked off the requests still queued when the load generator stopped
 * (a slow endpoint keeps a server busy after autocannon's clock ends), so that they do not leak
 * into the next measurement: a cheap request must come back quickly twice in a row.
 */
async function settle(url: string): Promise<void> {
  let quick = 0;
  const until = Date.now() + 60_000;
  while (quick < 2 && Date.now() < until) {
    const started = performance.now();
    await fetch(`${url}/scim/v2/ServiceProviderConfig`, { headers })
      .then((r) => r.arrayBuffer())
      .catch(() => undefined);
    quick = performance.now() - started < 20 ? quick + 1 : 0;
  }
}

// The list page is slow at 100,000 users; two clients keep the server busy without queueing
// seconds of work behind the end of each run.
const clientsFor = (scenario: Scenario, connections: number) => (scenario === 'GET list page (100)' ? Math.min(2, connections) : connections);

async function startServers(dir: string, bridgeDb: string, users: number, compare: string | undefined): Promise<Servers> {
  // Both servers run compiled, on plain node: the bridge as `npm start` runs it.
  const root = path.resolve(__dirname, '..');
  const [bridgeEntry, baselineEntry] = compileEntries(root, [path.join(__dirname, 'lib/bridge-server.ts'), path.join(__dirname, 'lib/baseline-server.ts')]);
  let comparedDb: string | undefined;
  if (compare) {
    // A copy of the seeded file (and its secrets key) in a directory of its own: each bridge writes its own.
    mkdirSync(path.join(dir, 'compared'));
    comparedDb = path.join(dir, 'compared', 'bridge.sqlite');
    copyFileSync(bridgeDb, comparedDb);
    const key = path.join(path.dirname(bridgeDb), 'secrets.key');
    if (existsSync(key)) copyFileSync(key, path.join(dir, 'compared', 'secrets.key'));
  }
  const bridge = await startChildServer(bridgeEntry, { database: bridgeDb, token: BENCH_TOKEN, sourceId: BENCH_SOURCE }, { stdout: 'ignore' });
  const baseline = await startChildServer(baselineEntry, {
    database: path.join(dir, 'baseline.sqlite'),
    token: BENCH_TOKEN,
    users,
  });
  const compared =
    compare && comparedDb
      ? await startChildServer(
          compileEntries(path.resolve(compare), [path.join(path.resolve(compare), 'bench/lib/bridge-server.ts')])[0],
          { database: comparedDb, token: BENCH_TOKEN, sourceId: BENCH_SOURCE },
          { stdout: 'ignore' },
        )
      : undefined;
  return { bridge, baseline, ...(compared ? { compared } : {}) };
}

const envNumber = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);

export async function runScimBench(options: ScimBenchOptions = {}): Promise<{ verdicts: Verdict[] }> {
  const {
    users = envNumber('BENCH_USERS', 100_000),
    rounds = envNumber('BENCH_SCIM_ROUNDS', 3),
    seconds = envNumber('BENCH_SCIM_SECONDS', 4),
    connections = envNumber('BENCH_SCIM_CONNECTIONS', 10),
  } = options;
  const compare = process.env.BENCH_SCIM_COMPARE || undefined;
  const profiles = process.env.BENCH_CPU_PROF ? path.resolve(process.env.BENCH_CPU_PROF) : undefined;
  if (profiles) mkdirSync(profiles, { recursive: true });
  const dir = mkdtempSync(path.join(tmpdir(), 'bridge-bench-'));
  const bridgeDb = path.join(dir, 'bridge.sqlite');
  let servers: Servers | undefined;
  try {
    const seeded = seedBridgeStore(bridgeDb, users);
    console.log(`seeded ${fmt(users, 0)} users through the store's write path in ${fmt(seeded.ms / 1000, 1)} s (${fmt(seeded.bytes / 1048576, 1)} MB file)`);
    console.log(sqlCount(bridgeDb, BENCH_SOURCE, users, benchUserName(Math.floor(users / 3))));
    servers = await startServers(dir, bridgeDb, users, compare);
    console.log(`bridge pid ${servers.bridge.pid} at ${servers.bridge.url}; baseline pid ${servers.baseline.pid} at ${servers.baseline.url}`);
    if (servers.compared) console.log(`compared bridge (${compare}) pid ${servers.compared.pid} at ${servers.compared.url}`);
    console.log(await compareShapes(servers.bridge.url, servers.baseline.url, headers, users));

    const results: Record<Scenario, Record<ServerName, Figures[]>> = Object.fromEntries(
      SCENARIOS.map((s) => [s, { bridge: [], baseline: [], compared: [] }]),
    ) as never;
    for (const scenario of THROUGHPUT) {
      for (const name of rotation(servers, 1)) {
        await runLoad({
          url: servers[name]!.url,
          connections: clientsFor(scenario, connections),
          durationSeconds: 1,
          requests: requestsFor(scenario, users, `warm-${name}`),
        });
        await settle(servers[name]!.url);
      }
    }
    for (let round = 1; round <= rounds; round++) {
      for (const scenario of SCENARIOS) {
        for (const name of rotation(servers, round)) {
          const server = servers[name]!;
          const profiler = profiles ? cpuProfiler(server) : undefined;
          await profiler?.start();
          const cpuBefore = server.cpuMs();
          const measured =
            scenario === 'GET filter, 1 connection'
              ? await measureLatency(server.url, () => filterPath(users), headers, seconds)
              : await runLoad({
                  url: server.url,
                  connections: clientsFor(scenario, connections),
                  durationSeconds: seconds,
                  requests: requestsFor(scenario, users, `r${round}-${name}`),
                });
          const figures = { ...measured, cpuMsPerRequest: (server.cpuMs() - cpuBefore) / Math.max(1, measured.ok) };
          await profiler?.stop(path.join(profiles!, `${name}-${scenario.replace(/[^A-Za-z0-9]+/g, '-')}-r${round}.cpuprofile`));
          await settle(server.url);
          results[scenario][name].push(figures);
          if (figures.failed)
            console.log(`  ! ${name} ${scenario}: ${figures.failed} failed responses ${'statuses' in figures ? JSON.stringify(figures.statuses) : ''}`);
        }
      }
      console.log(`round ${round}/${rounds} done`);
    }
    const comparedMem = servers.compared ? await servers.compared.memory() : undefined;
    return report(results, await servers.bridge.memory(), await servers.baseline.memory(), { users, rounds, seconds, connections, compare, comparedMem });
  } finally {
    await servers?.bridge.stop();
    await servers?.baseline.stop();
    await servers?.compared?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Memory {
  rss: number;
  peakRss: number;
}

function report(
  results: Record<Scenario, Record<ServerName, Figures[]>>,
  bridgeMem: Memory,
  baselineMem: Memory,
  run: { users: number; rounds: number; seconds: number; connections: number; compare?: string; comparedMem?: Memory },
): { verdicts: Verdict[] } {
  const verdicts: Verdict[] = [];
  const rows: string[][] = [];
  for (const scenario of SCENARIOS) {
    const b = results[scenario].bridge;
    const base = results[scenario].baseline;
    const ratio = median(b.map((x) => x.rps)) / median(base.map((x) => x.rps));
    rows.push([
      scenario,
      fmt(median(b.map((x) => x.rps)), 0),
      fmt(median(base.map((x) => x.rps)), 0),
      fmt(ratio, 2),
      fmt(median(b.map((x) => x.p50)), 2),
      fmt(median(b.map((x) => x.p99)), 2),
      fmt(median(base.map((x) => x.p99)), 2),
      fmt(median(b.map((x) => x.cpuMsPerRequest)), 3),
      fmt(median(base.map((x) => x.cpuMsPerRequest)), 3),
      b.map((x) => fmt(x.rps, 0)).join(' '),
    ]);
    const least = scenario === 'POST /Users' ? 0.5 : 0.8;
    if (THROUGHPUT.includes(scenario))
      verdicts.push({ bench: 'scim', target: `${scenario}: req/s >= ${least} x baseline`, measured: `${fmt(ratio, 2)} x`, pass: ratio >= least });
  }
  const postP99 = median(results['POST /Users'].bridge.map((x) => x.p99));
  verdicts.push({ bench: 'scim', target: `POST /Users p99 < 50 ms at ${run.connections} connections`, measured: `${fmt(postP99, 1)} ms`, pass: postP99 < 50 });
  const filterP99 = median(results['GET filter, 1 connection'].bridge.map((x) => x.p99));
  const loadedP99 = median(results['GET filter userName eq'].bridge.map((x) => x.p99));
  verdicts.push({
    bench: 'scim',
    target: `filter userName eq p99 < 10 ms at ${fmt(run.users, 0)} users`,
    measured: `${fmt(filterP99, 2)} ms (${fmt(loadedP99, 2)} ms with ${run.connections} clients)`,
    pass: filterP99 < 10,
  });
  verdicts.push({ bench: 'scim', target: 'bridge peak RSS < 300 MB', measured: mb(bridgeMem.peakRss), pass: bridgeMem.peakRss < 300 * 1048576 });
  console.log(`\n${fmt(run.users, 0)} users seeded; ${run.rounds} rounds x ${run.seconds} s per scenario and server, each server going first in turn;`);
  console.log(
    `${run.connections} autocannon clients (list page: ${clientsFor('GET list page (100)', run.connections)}); latency run: 1 client, sub-ms timer; medians over rounds`,
  );
  console.log(
    'CPU ms/req: CPU time of the server process during a run (all threads: the engine and simulator of the bridge too) per successful request; a busy machine skews it less than req/s',
  );
  console.log(
    table(
      [
        'scenario',
        'bridge req/s',
        'baseline req/s',
        'ratio',
        'bridge p50 ms',
        'bridge p99 ms',
        'baseline p99 ms',
        'bridge CPU ms/req',
        'baseline CPU ms/req',
        'bridge req/s per round',
      ],
      rows,
    ),
  );
  console.log(
    `resident memory: bridge ${mb(bridgeMem.rss)} now, ${mb(bridgeMem.peakRss)} peak; baseline ${mb(baselineMem.rss)} now, ${mb(baselineMem.peakRss)} peak`,
  );
  if (run.compare && run.comparedMem) {
    // The other checkout, measured in the same rounds: figures only, no verdicts.
    const compared = SCENARIOS.map((scenario) => {
      const c = results[scenario].compared;
      const base = median(results[scenario].baseline.map((x) => x.rps));
      return [
        scenario,
        fmt(median(c.map((x) => x.rps)), 0),
        fmt(median(c.map((x) => x.rps)) / base, 2),
        fmt(median(results[scenario].bridge.map((x) => x.rps)) / base, 2),
        fmt(median(c.map((x) => x.p50)), 2),
        fmt(median(c.map((x) => x.p99)), 2),
        fmt(median(c.map((x) => x.cpuMsPerRequest)), 3),
        c.map((x) => fmt(x.rps, 0)).join(' '),
      ];
    });
    console.log(`\ncompared with ${run.compare}, same rounds:`);
    console.log(
      table(
        ['scenario', 'compared req/s', 'compared ratio', 'this ratio', 'compared p50 ms', 'compared p99 ms', 'compared CPU ms/req', 'compared req/s per round'],
        compared,
      ),
    );
    console.log(`resident memory: compared bridge ${mb(run.comparedMem.rss)} now, ${mb(run.comparedMem.peakRss)} peak`);
  }
  for (const v of verdicts) console.log(`${v.pass ? 'PASS' : 'FAIL'}  ${v.target}: ${v.measured}`);
  return { verdicts };
}
