// Graph simulator benchmark (issue 3): requests per second on loopback with throttling off, so
// the simulator never limits the bridge's own benchmarks. Target: >= 2,000 simple requests/s
// (GET /v1.0/users/{id}). Baseline measured in the same run: a bare node:https server on the same
// kind of certificate answering a fixed JSON body, i.e. the ceiling of TLS + HTTP on this machine.
// Each server runs alone in a child process; autocannon runs here; medians over several rounds.
// Standalone: node bin/run-ts.js bench/simulator.ts
import { createServer } from 'node:https';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Agent, request } from 'undici';
import { startSimulator } from '../src/simulator';
import { makeCertificates } from '../src/simulator/certs';
import { startChildServer, reportListening, reportStartFailure, type ChildServer } from './lib/child-server';
import { runLoad, type AutocannonRequest } from './lib/load';
import { fmt, median, table, type Verdict } from './lib/stats';

const CHILD_TAG = 'graphSimBenchChild';
const TARGET_RPS = 2000;
const USERS = 1000;

interface ChildArgs {
  [CHILD_TAG]: 'simulator' | 'baseline';
  dataDir: string;
}

interface SimInfo {
  url: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  caPem: string;
}

export interface SimulatorBenchOptions {
  rounds?: number;
  seconds?: number;
  connections?: number;
}

function seed() {
  return {
    domains: [{ name: 'bench.example.com', isDefault: true }],
    users: Array.from({ length: USERS }, (_, i) => ({
      id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      userPrincipalName: `user${i}@bench.example.com`,
      displayName: `User ${i}`,
      mailNickname: `user${i}`,
      accountEnabled: true,
      usageLocation: 'US',
    })),
  };
}

const userId = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;

/** Child side: the simulator, or the bare baseline server, on an ephemeral port. */
async function runChild(args: ChildArgs): Promise<void> {
  const sim = await startSimulator({ seed: seed(), throttling: false, dataDir: args.dataDir });
  if (args[CHILD_TAG] === 'simulator') {
    const info: SimInfo = { url: sim.url, tenantId: sim.tenantId, clientId: sim.clientId, clientSecret: sim.clientSecret, caPem: sim.caPem };
    writeFileSync(path.join(args.dataDir, 'sim-info.json'), JSON.stringify(info));
    reportListening(Number(new URL(sim.url).port));
    process.on('SIGTERM', () => void sim.close().then(() => process.exit(0)));
    return;
  }
  // The baseline borrows the simulator's certificate so both pay the same TLS costs.
  const { certPem, keyPem } = await makeCertificates(args.dataDir);
  await sim.close();
  const body = JSON.stringify({ '@odata.context': 'x', id: userId(1), displayName: 'User 1', userPrincipalName: 'user1@bench.example.com' });
  const server = createServer({ cert: certPem, key: keyPem, keepAlive: true }, (req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  server.listen(0, '127.0.0.1', () => reportListening((server.address() as { port: number }).port));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

async function startSim(dataDir: string): Promise<{ child: ChildServer; info: SimInfo }> {
  // The child writes what a client needs (URL, credentials, CA) next to its CA file.
  const child = await startChildServer(__filename, { [CHILD_TAG]: 'simulator', dataDir } satisfies ChildArgs);
  return { child, info: JSON.parse(readFileSync(path.join(dataDir, 'sim-info.json'), 'utf8')) as SimInfo };
}

async function token(info: SimInfo): Promise<string> {
  const res = await request(`${info.url}/${info.tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: info.clientId,
      client_secret: info.clientSecret,
      scope: 'https://graph.microsoft.com/.default',
    }).toString(),
    dispatcher: new Agent({ connect: { ca: info.caPem } }),
  });
  return ((await res.body.json()) as { access_token: string }).access_token;
}

type Scenario = 'GET /users/{id}' | 'GET /users?$filter=userPrincipalName eq' | 'PATCH /users/{id}';
const SCENARIOS: Scenario[] = ['GET /users/{id}', 'GET /users?$filter=userPrincipalName eq', 'PATCH /users/{id}'];
const rand = (n: number) => Math.floor(Math.random() * n);

function requestsFor(scenario: Scenario, bearer: string): AutocannonRequest[] {
  const headers = { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' };
  if (scenario === 'GET /users/{id}') return [{ method: 'GET', headers, setupRequest: (r) => ({ ...r, path: `/v1.0/users/${userId(rand(USERS))}` }) }];
  if (scenario === 'PATCH /users/{id}')
    return [
      {
        method: 'PATCH',
        headers,
        setupRequest: (r) => ({ ...r, path: `/v1.0/users/${userId(rand(USERS))}`, body: JSON.stringify({ jobTitle: `T${rand(1e6)}` }) }),
      },
    ];
  return [
    {
      method: 'GET',
      headers,
      setupRequest: (r) => ({
        ...r,
        path: `/v1.0/users?$filter=${encodeURIComponent(`userPrincipalName eq 'user${rand(USERS)}@bench.example.com'`)}&$select=id`,
      }),
    },
  ];
}

export async function runSimulatorBench(options: SimulatorBenchOptions = {}): Promise<{ verdicts: Verdict[] }> {
  const { rounds = 5, seconds = 3, connections = 10 } = options;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'graph-sim-bench-'));
  let sim: { child: ChildServer; info: SimInfo } | undefined;
  let baseline: ChildServer | undefined;
  try {
    sim = await startSim(dataDir);
    baseline = await startChildServer(__filename, { [CHILD_TAG]: 'baseline', dataDir } satisfies ChildArgs);
    const bearer = await token(sim.info);
    const figures = new Map<string, number[]>();
    const failures = new Map<string, number>();
    const add = (key: string, rps: number, failed: number) => {
      figures.set(key, [...(figures.get(key) ?? []), rps]);
      failures.set(key, (failures.get(key) ?? 0) + failed);
    };
    for (let round = 0; round < rounds; round++) {
      const b = await runLoad({
        url: baseline.url.replace('http:', 'https:'),
        connections,
        durationSeconds: seconds,
        requests: [{ method: 'GET', path: '/' }],
      });
      add('baseline', b.rps, b.failed);
      for (const scenario of SCENARIOS) {
        const r = await runLoad({ url: sim.info.url, connections, durationSeconds: seconds, requests: requestsFor(scenario, bearer) });
        add(scenario, r.rps, r.failed);
      }
      console.log(`round ${round + 1}/${rounds}: ${[...figures].map(([k, v]) => `${k} ${fmt(v[v.length - 1], 0)}/s`).join(', ')}`);
    }
    const base = median(figures.get('baseline')!);
    const rows = [...figures].map(([k, v]) => [k, fmt(median(v), 0), k === 'baseline' ? '1.00' : (median(v) / base).toFixed(2), String(failures.get(k))]);
    console.log(`\nGraph simulator, ${connections} connections, median of ${rounds} rounds of ${seconds} s, throttling off, ${USERS} users`);
    console.log(table(['scenario', 'req/s (median)', 'x baseline', 'failed'], rows));
    const simple = median(figures.get('GET /users/{id}')!);
    return {
      verdicts: [
        {
          bench: 'simulator',
          target: `GET /users/{id} >= ${fmt(TARGET_RPS, 0)} req/s`,
          measured: `${fmt(simple, 0)} req/s`,
          pass: simple >= TARGET_RPS && failures.get('GET /users/{id}') === 0,
        },
        ...SCENARIOS.slice(1).map((s) => ({
          bench: 'simulator',
          target: `${s}: no failures`,
          measured: `${fmt(median(figures.get(s)!), 0)} req/s, ${failures.get(s)} failed`,
          pass: failures.get(s) === 0,
        })),
      ],
    };
  } finally {
    await sim?.child.stop();
    await baseline?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const childArg = process.argv[2];
if (childArg?.includes(CHILD_TAG)) {
  runChild(JSON.parse(childArg) as ChildArgs).catch(reportStartFailure);
} else if (path.resolve(process.argv[1] ?? '') === __filename) {
  runSimulatorBench().then(
    (r) => {
      console.log(
        table(
          ['bench', 'target', 'measured', 'verdict'],
          r.verdicts.map((v) => [v.bench, v.target, v.measured, v.pass ? 'PASS' : 'FAIL']),
        ),
      );
      process.exit(r.verdicts.every((v) => v.pass) ? 0 : 1);
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
