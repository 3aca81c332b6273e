// Ingress limits (issue 7, "bounded work per request"): the largest Bulk and the largest PATCHes the
// default limits allow (1,000 operations, 1 MiB body), sent while another client polls /healthz.
// Reports the worst /healthz latency during each request and the longest event-loop block in the
// server process (perf_hooks monitorEventLoopDelay). Baseline: the same poll with the server idle.
// Targets: both under 100 ms.
//   npm run bench -- ingress-limits
//   INGRESS_BENCH_OPS=1000 INGRESS_BENCH_GROUP_MEMBERS=20000 INGRESS_BENCH_ROUNDS=5 npm run bench -- ingress-limits
// Each request is sent INGRESS_BENCH_ROUNDS times (the first on cold code); the worst round decides.
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { compileEntries, startChildServer, type ChildServer } from './lib/child-server';
import { fmt, table, type Verdict } from './lib/stats';

const TOKEN = 'ingress-bench-token-0123456789abcdef';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const BODY_LIMIT = 1_048_576;
const TARGET_MS = 100;

export interface IngressLimitsOptions {
  /** Operations per Bulk and per PATCH (the default limits allow 1,000). */
  operations?: number;
  /** Members of the group the member PATCH works on. */
  groupMembers?: number;
  /** Times each request is sent; the first ones run on cold code, the worst round decides. */
  rounds?: number;
}

async function call(base: string, method: string, pathname: string, body?: unknown): Promise<{ status: number; json: unknown; ms: number }> {
  const started = performance.now();
  const res = await fetch(`${base}${pathname}`, {
    method,
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/scim+json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined, ms: performance.now() - started };
}

/** Polls /healthz back to back until `done` settles; returns the worst latency seen. */
async function pollWhile<T>(base: string, work: Promise<T>): Promise<{ result: T; worstMs: number; polls: number }> {
  let finished = false;
  let worstMs = 0;
  let polls = 0;
  const poller = (async () => {
    while (!finished) {
      const started = performance.now();
      await fetch(`${base}/healthz`).then((r) => r.text());
      worstMs = Math.max(worstMs, performance.now() - started);
      polls++;
    }
  })();
  const result = await work.finally(() => (finished = true));
  await poller;
  return { result, worstMs, polls };
}

function padTo(body: { Operations: unknown[] }, build: (pad: string) => { Operations: unknown[] }): { Operations: unknown[] } {
  // Pads every operation evenly so the body comes as close to the limit as it can.
  const spare = BODY_LIMIT - 4_096 - JSON.stringify(body).length;
  const each = Math.max(0, Math.floor(spare / Math.max(1, body.Operations.length)) - 16);
  return build('x'.repeat(each));
}

/** 1,000 POSTs whose bulkIds resolve in reverse order (each user's manager is created after it). */
function largestBulk(n: number, round: number) {
  const build = (pad: string) => ({
    schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
    Operations: Array.from({ length: n }, (_, k) => ({
      method: 'POST',
      path: '/Users',
      bulkId: `u${k}`,
      data: {
        schemas: [CORE_USER, ENTERPRISE],
        userName: `bulk${round}-${k}@bench.example.com`,
        title: pad,
        ...(k < n - 1 ? { [ENTERPRISE]: { manager: { value: `bulkId:u${k + 1}` } } } : {}),
      },
    })),
  });
  return padTo(build(''), build);
}

/** 1,000 operations on one user: adds cycling through 100 emails (the cap) and filtered replaces. */
function largestUserPatch(n: number) {
  const build = (pad: string) => ({
    schemas: [PATCH_OP],
    Operations: Array.from({ length: n }, (_, k) =>
      k % 2 === 0
        ? { op: 'add', path: 'emails', value: [{ value: `e${k % 100}@bench.example.com`, type: 'other', display: pad }] }
        : { op: 'replace', path: `emails[value eq "e${(k * 7) % 100}@bench.example.com"].type`, value: 'work' },
    ),
  });
  return padTo(build(''), build);
}

/** 1,000 member operations on a large group: adds, removes and replaces of members. */
function largestGroupPatch(n: number, memberIds: string[]) {
  const pick = (k: number) => memberIds[(k * 7919) % memberIds.length];
  return {
    schemas: [PATCH_OP],
    Operations: Array.from({ length: n }, (_, k) =>
      k % 3 === 0 ? { op: 'remove', path: 'members', value: [{ value: pick(k) }] } : { op: 'add', path: 'members', value: [{ value: pick(k) }] },
    ),
  };
}

async function seedUsers(base: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < count; start += 1000) {
    const size = Math.min(1000, count - start);
    const res = await call(base, 'POST', '/scim/v2/Bulk', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: Array.from({ length: size }, (_, k) => ({
        method: 'POST',
        path: '/Users',
        bulkId: `s${start + k}`,
        data: { schemas: [CORE_USER], userName: `member${start + k}@bench.example.com` },
      })),
    });
    for (const op of (res.json as { Operations: { location: string }[] }).Operations) ids.push(op.location.split('/').pop()!);
  }
  return ids;
}

export async function runIngressLimitsBench(options: IngressLimitsOptions = {}): Promise<{ verdicts: Verdict[] }> {
  const n = options.operations ?? Number(process.env.INGRESS_BENCH_OPS ?? 1000);
  const members = options.groupMembers ?? Number(process.env.INGRESS_BENCH_GROUP_MEMBERS ?? 5000);
  const rounds = options.rounds ?? Number(process.env.INGRESS_BENCH_ROUNDS ?? 3);
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-ingress-'));
  let server: ChildServer | undefined;
  const rows: string[][] = [];
  const verdicts: Verdict[] = [];
  try {
    // Compiled and on plain node, as the bridge is deployed (tsx's loader would be in the measured process).
    const [entry] = compileEntries(path.resolve(__dirname, '..'), [path.join(__dirname, 'lib/ingress-limits-server.ts')]);
    server = await startChildServer(entry, {
      database: path.join(dir, 'b.sqlite'),
      token: TOKEN,
      sourceId: 'bench',
    });
    const base = server.url;
    const loopStats = async () => (await (await fetch(`${base}/_bench/loop`)).json()) as { maxMs: number; cpuMs: number; maxCpuTurnMs: number };

    const memberIds = await seedUsers(base, members);
    const group = await call(base, 'POST', '/scim/v2/Groups', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      displayName: 'Bench Group',
      members: memberIds.map((value) => ({ value })),
    });
    const groupId = (group.json as { id: string }).id;
    const newUser = async (round: number) =>
      ((await call(base, 'POST', '/scim/v2/Users', { schemas: [CORE_USER], userName: `patched${round}@bench.example.com` })).json as { id: string }).id;

    // Baseline: the poll against an idle server.
    await loopStats();
    const idle = await pollWhile(base, new Promise((resolve) => setTimeout(resolve, 1000)));
    const idleStats = await loopStats();
    rows.push(['idle (baseline)', '-', '-', '-', fmt(idle.worstMs), fmt(idleStats.maxMs), fmt(idleStats.maxCpuTurnMs), fmt(idleStats.cpuMs)]);

    const scenarios: [string, (round: number) => Promise<{ path: string; method: string; body: unknown }>][] = [
      ['Bulk: reverse-order bulkIds', async (round) => ({ method: 'POST', path: '/scim/v2/Bulk', body: largestBulk(n, round) })],
      ['PATCH user: adds + value filters', async (round) => ({ method: 'PATCH', path: `/scim/v2/Users/${await newUser(round)}`, body: largestUserPatch(n) })],
      [`PATCH group (${members} members)`, async () => ({ method: 'PATCH', path: `/scim/v2/Groups/${groupId}`, body: largestGroupPatch(n, memberIds) })],
    ];
    for (const [name, prepare] of scenarios) {
      const seen: { requestMs: number; worstMs: number; blockMs: number; turnMs: number; cpuMs: number; bytes: number }[] = [];
      for (let round = 0; round < rounds; round++) {
        const { method, path: target, body } = await prepare(round);
        await loopStats();
        const { result, worstMs } = await pollWhile(base, call(base, method, target, body));
        const { maxMs: blockMs, cpuMs, maxCpuTurnMs: turnMs } = await loopStats();
        if (result.status >= 300) throw new Error(`${name}: ${result.status} ${JSON.stringify(result.json).slice(0, 300)}`);
        const failed = method === 'POST' ? (result.json as { Operations: { status: string }[] }).Operations.filter((o) => Number(o.status) >= 300).length : 0;
        if (failed) throw new Error(`${name}: ${failed} operations failed`);
        seen.push({ requestMs: result.ms, worstMs, blockMs, turnMs, cpuMs, bytes: JSON.stringify(body).length });
      }
      const worst = (key: 'worstMs' | 'blockMs' | 'turnMs' | 'cpuMs' | 'requestMs') => Math.max(...seen.map((x) => x[key]));
      const last = seen[seen.length - 1];
      rows.push([
        name,
        `${n} ops, ${fmt(last.bytes / 1024, 0)} KiB`,
        `${rounds}`,
        `${fmt(worst('requestMs'))} / ${fmt(last.requestMs)}`,
        `${fmt(worst('worstMs'))} / ${fmt(last.worstMs)}`,
        `${fmt(worst('blockMs'))} / ${fmt(last.blockMs)}`,
        `${fmt(worst('turnMs'))} / ${fmt(last.turnMs)}`,
        `${fmt(worst('cpuMs'))} / ${fmt(last.cpuMs)}`,
      ]);
      verdicts.push({
        bench: 'ingress-limits',
        target: `${name}: worst /healthz < ${TARGET_MS} ms`,
        measured: `${fmt(worst('worstMs'))} ms`,
        pass: worst('worstMs') < TARGET_MS,
      });
      verdicts.push({
        bench: 'ingress-limits',
        target: `${name}: longest loop block < ${TARGET_MS} ms`,
        measured: `${fmt(worst('blockMs'))} ms`,
        pass: worst('blockMs') < TARGET_MS,
      });
    }
    console.log(
      table(
        ['request', 'size', 'rounds', 'request ms (worst / last)', 'worst /healthz ms', 'longest loop block ms', 'longest turn, CPU ms', 'server CPU ms'],
        rows,
      ),
    );
    console.log(
      `load average while measuring: ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} on ${cpus().length} cores (blocks stretch when the process waits for a core)`,
    );
    return { verdicts };
  } finally {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  runIngressLimitsBench().then(
    (r) => (console.log(r.verdicts.map((v) => `${v.pass ? 'PASS' : 'FAIL'} ${v.target}: ${v.measured}`).join('\n')), process.exit(0)),
    (err) => (console.error(err), process.exit(1)),
  );
}
