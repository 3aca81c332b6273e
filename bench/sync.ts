// Sync engine benchmark: provisioning against the Graph simulator with Microsoft's write budget
// (3,000 writes per 150 s per app and tenant). Every figure is set against the budget minimum
// computed in the same run from the writes made (the first 3,000 at once, then 20 per second). The
// simulator runs in a child process of its own (Graph is another machine too) and counts requests,
// writes, resource units (Microsoft's published cost table) and 429s.
//
// Clock (BENCH_SYNC_CLOCK): 'virtual' (default) runs the bridge and the simulator on one
// discrete-event clock (bench/lib/virtual-clock.ts): time stands still while the bridge works or a
// request is in flight and jumps to the next due timer when every party waits on the clock, so
// simulated time does not depend on CPU speed or machine load and 100,000 users take minutes.
// 'scaled' runs both on wall time sped up BENCH_SYNC_SCALE times; the bench then reports how far the
// bridge fell behind the budget (its own CPU time counts as simulated time there).
//
// Scenarios, each on a fresh simulator and database:
// - load/direct and load/group: an initial load of BENCH_USERS users with licence and manager;
//   time / budget minimum (target <= 1.05x), writes, reads and resource units per user, 429 share
//   (target < 1%), the bench process's peak RSS, which holds the engine and the store (< 300 MB).
//   load/group needs licenses.assignment 'group'; it is reported as skipped where the engine has none.
// - urgent/fifo and urgent/priority: the same load with BENCH_SYNC_INJECT deactivations and as many
//   password changes of already-synced users at random moments; time from the SCIM write to the
//   Graph write being acknowledged, p50/p99 in simulated seconds (target p99 ~1 s, the time of
//   20 writes at the budget), today's arrival order measured in the same run as the baseline.
// - idle: one SCIM change at a time to the Graph write acknowledged, p50/p99 real ms, throttling
//   on and the budget not exhausted (target p99 < 500 ms); always on the scaled clock (real time).
// - members: writes per member added to a large group (target 1/20) and per member removed.
//
// Sizes: BENCH_USERS (100000), BENCH_SYNC_CLOCK (virtual), BENCH_SYNC_SCALE (scaled clock's speed-up, 20),
// BENCH_SYNC_INJECT (200), BENCH_SYNC_IDLE (samples, 50), BENCH_SYNC_MEMBERS (2000),
// BENCH_SYNC_SCENARIOS (comma list of load,urgent,idle,members; all by default; load/direct or load/group for one load).
// BENCH_SYNC_SIM_PROF=dir writes a CPU profile of the simulator's process there (node --cpu-prof).
// Standalone: node bin/run-ts.js bench/sync.ts (see bench/README.md).
import path from 'node:path';
import type { Config } from '../src/config';
import { createGroupService } from '../src/scim/groups-service';
import { createUserService } from '../src/scim/users-service';
import { DEFAULT_ROLES } from '../src/simulator/types';
import type { Store } from '../src/store';
import { type ClockKind, clockKindFrom } from './lib/bench-simulator';
import { type ProvisioningRun, runSeedChild, startProvisioningRun } from './lib/provisioning-run';
import { fmt, mb, table, type Verdict } from './lib/stats';

const E3 = '6fd2c87f-b296-42f0-b197-1e91e994b900';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const SOURCE = 'idp';

const envNumber = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);
const pct = (values: number[], p: number) => {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] : NaN;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type Run = ProvisioningRun;

const userName = (i: number) => `b${i}@example.com`;
/** Users are stored with ids of the bridge's form (a UUID), so that SCIM references to them (members) are accepted. */
const userId = (i: number) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
/** The seeded user's number, or -1 for another id. */
const userIndex = (id: string) => (id.startsWith('00000000-0000-4000-8000-') ? parseInt(id.slice(24), 16) : -1);

/** The bench's users, written by the seeding process: licence and manager (ten reports each). */
function seedUsers(store: Store, users: number): void {
  for (let from = 0; from < users; from += 5000) {
    store.transaction(() => {
      for (let i = from; i < Math.min(users, from + 5000); i++) {
        store.users.create(
          {
            userName: userName(i),
            displayName: `Bench ${i}`,
            name: { givenName: 'Bench', familyName: String(i) },
            active: true,
            entitlements: [{ value: 'ENTERPRISEPACK' }],
            ...(i > 0 ? { [ENTERPRISE]: { manager: { value: userId(Math.floor((i - 1) / 10)) } } } : {}),
          },
          { sourceId: SOURCE, id: userId(i), sync: { dirSyncEnabled: true } },
        );
      }
    });
  }
}

async function startRun(users: number, clockKind: ClockKind, timeScale: number, overrides: Record<string, unknown>): Promise<Run> {
  const wanted = overrides['licenses.assignment'];
  return startProvisioningRun({
    name: 'sync-bench',
    clock: clockKind,
    timeScale,
    // The password changes the urgent scenario sends need the password-reset permission.
    seed: {
      skus: [{ skuId: E3, skuPartNumber: 'ENTERPRISEPACK', seats: users + 10 }],
      tenant: { roles: [...DEFAULT_ROLES, 'User-PasswordProfile.ReadWrite.All'] },
    },
    overrides: {
      mode: 'user-sync',
      sources: [{ id: SOURCE, token: 'bench-token-0123456789' }],
      'graph.allowTenantDirSync': true,
      'groups.push': true,
      // The injected deactivations are no mass deletion: the deletion guard would hold them after 50.
      deletionThreshold: 100_000,
      ...overrides,
    },
    refuse: (config) =>
      wanted !== undefined && (config.licenses as Record<string, unknown>).assignment !== wanted
        ? `licenses.assignment "${String(wanted)}" is not available in this build`
        : null,
    idleMs: 20,
    seedScript: __filename,
    users,
    userIndex,
    userId,
    ...(process.env.BENCH_SYNC_SIM_PROF ? { simulatorProfileDir: process.env.BENCH_SYNC_SIM_PROF } : {}),
  });
}

interface LoadFigures {
  users: number;
  simSeconds: number;
  minimumSeconds: number;
  ratio: number;
  writesPerUser: number;
  readsPerUser: number;
  ruPerUser: number;
  throttledShare: number;
  peakRss: number;
  /** At the peak: V8 heap in use, memory outside the heap that V8 knows of (Buffers), and the rest (SQLite, code, stacks). */
  peakHeap: number;
  peakHeapTotal: number;
  peakExternal: number;
  startRss: number;
  startHeap: number;
  realSeconds: number;
  jumps: number;
  latencies?: { deactivate: number[]; password: number[] };
}

/** The budget minimum for `writes`: the first 3,000 at once, then 20 a second. */
const minimumFor = (config: Config, writes: number) =>
  Math.max(0, writes - config.graph.writeBudget.writes) / (config.graph.writeBudget.writes / config.graph.writeBudget.perSeconds);

async function load(users: number, clockKind: ClockKind, timeScale: number, overrides: Record<string, unknown>, inject = 0): Promise<LoadFigures> {
  const run = await startRun(users, clockKind, timeScale, overrides);
  try {
    const service = createUserService({ config: run.config, store: run.store });
    const principal = { source: run.store.sources.get(SOURCE)! };
    const startedReal = performance.now();
    const started = run.peek();
    // Injected changes: at random moments within the expected load time, a deactivation or a
    // password change of a user already synced; each waits for its own version to be applied.
    const expectedMs = Math.max(1, minimumFor(run.config, users * 3)) * 1000;
    const moments = Array.from({ length: inject * 2 }, (_, i) => ({
      at: started + Math.random() * expectedMs * 0.9,
      kind: (i % 2 ? 'password' : 'deactivate') as 'password' | 'deactivate',
    })).sort((a, b) => a.at - b.at);
    const waiting = new Map<string, { version: number; atMs: number; kind: 'password' | 'deactivate' }>();
    const latencies = { deactivate: [] as number[], password: [] as number[] };
    const used = new Set<string>([userId(0)]);
    let failedInjected = 0;
    run.onEvent((e) => {
      const w = waiting.get(e.id);
      if (!w) return;
      if (e.type === 'error') failedInjected++;
      else if ((e.version ?? 0) < w.version) return;
      else latencies[w.kind].push((run.peek() - w.atMs) / 1000);
      waiting.delete(e.id);
    });
    run.engine.start();
    // The injector waits on the engine's clock: on the virtual clock a moment is a due timer too.
    let injecting = true;
    const injector = (async () => {
      for (const m of moments) {
        await run.clock.sleep(Math.max(0, m.at - run.peek()));
        let id: string | undefined;
        for (let tries = 0; tries < 50 && !id; tries++) {
          const pick = run.randomSynced();
          if (pick && !used.has(pick)) id = pick;
        }
        if (!id) continue;
        used.add(id);
        const op =
          m.kind === 'deactivate'
            ? { op: 'replace', path: 'active', value: false }
            : { op: 'replace', path: 'password', value: `Pw-${Math.random().toString(36).slice(2)}-9aA!` };
        service.patch(principal, id, { schemas: [PATCH_OP], Operations: [op] });
        waiting.set(id, { version: run.store.sync.get('User', id)!.desiredVersion, atMs: run.peek(), kind: m.kind });
      }
      injecting = false;
    })();
    // Rows in error count as finished (reported below), so a refused write cannot hold the bench forever.
    const settled = () => run.synced() + run.failed.size >= users;
    let progress = -1;
    let progressAt = performance.now();
    while (!settled() || waiting.size || injecting) {
      await sleep(50);
      const now = run.synced() + run.answered() + latencies.deactivate.length + latencies.password.length + failedInjected;
      if (now !== progress) [progress, progressAt] = [now, performance.now()];
      // Nothing moved for two real minutes: say what is stuck instead of waiting forever.
      if (performance.now() - progressAt > 120_000) {
        const stuck = [...waiting.keys()].slice(0, 3).map((id) => JSON.stringify(run.store.sync.get('User', id)));
        throw new Error(`no progress for 120 s: ${run.synced()} of ${users} users synced, ${waiting.size} injected changes waiting ${stuck.join(' ')}`);
      }
    }
    await injector;
    const simSeconds = (run.lastAppliedAt() - started) / 1000;
    const errors = run.failed.size;
    if (errors || failedInjected)
      console.log(`  ${errors} rows ended in error (${failedInjected} of the injected changes): ${run.engine.status().lastErrors[0]?.lastError ?? ''}`);
    const u = await run.simulator.usage();
    const minimumSeconds = minimumFor(run.config, u.writes);
    return {
      users,
      simSeconds,
      minimumSeconds,
      ratio: simSeconds / minimumSeconds,
      writesPerUser: u.writes / users,
      readsPerUser: (u.requests - u.writes) / users,
      ruPerUser: u.resourceUnits / users,
      throttledShare: u.throttled / (u.requests + u.throttled),
      peakRss: run.peakRss(),
      peakHeap: run.peakMemory().heapUsed,
      peakHeapTotal: run.peakMemory().heapTotal,
      peakExternal: run.peakMemory().external,
      startRss: run.startMemory.rss,
      startHeap: run.startMemory.heapUsed,
      realSeconds: (performance.now() - startedReal) / 1000,
      jumps: run.jumps(),
      ...(inject ? { latencies } : {}),
    };
  } finally {
    await run.close();
  }
}

/** After a small load: one change at a time, real ms from the SCIM write to the write acknowledged. */
async function idleAndMembers(users: number, timeScale: number, samples: number, members: number) {
  // Real milliseconds are measured: the scaled clock, on which the bridge's own time counts.
  const run = await startRun(users, 'scaled', timeScale, {});
  try {
    run.engine.start();
    while (run.synced() + run.failed.size < users) await sleep(20);
    // Let the write budget refill (150 s simulated) so that it is not what is measured.
    await sleep(150_000 / timeScale + 200);
    const service = createUserService({ config: run.config, store: run.store });
    const principal = { source: run.store.sources.get(SOURCE)! };
    const realMs: number[] = [];
    for (let i = 0; i < samples; i++) {
      const id = userId(1 + (i % (users - 1)));
      const started = performance.now();
      service.patch(principal, id, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: `Title ${i}` }] });
      const version = run.store.sync.get('User', id)!.desiredVersion;
      realMs.push((await run.appliedAt(id, version)).realMs - started);
    }
    // Memberships: one group, `members` members added, then all removed.
    const groups = createGroupService({ store: run.store });
    const n = Math.min(members, users);
    const before = await run.simulator.usage();
    const group = groups.create(principal, {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      displayName: 'Bench group',
      members: Array.from({ length: n }, (_, i) => ({ value: userId(i) })),
    });
    const groupId = (group as { id: string }).id;
    const applied = async () => {
      const version = run.store.sync.get('Group', groupId)!.desiredVersion;
      await run.appliedAt(groupId, version);
    };
    await applied();
    const added = await run.simulator.usage();
    // A member reference the SCIM layer refused would leave nothing to write: a figure of 0 is a bench error, not a result.
    if (added.writes - before.writes <= 1) throw new Error(`members: the group's ${n} members made no Graph write`);
    groups.patch(principal, groupId, { schemas: [PATCH_OP], Operations: [{ op: 'remove', path: 'members' }] });
    await applied();
    const removed = await run.simulator.usage();
    // The group's own create is one write of the adds' share.
    return { realMs, addWrites: (added.writes - before.writes - 1) / n, removeWrites: (removed.writes - added.writes) / n, members: n };
  } finally {
    await run.close();
  }
}

export async function runSyncBench(): Promise<{ verdicts: Verdict[] }> {
  const users = envNumber('BENCH_USERS', 100_000);
  const timeScale = envNumber('BENCH_SYNC_SCALE', 20);
  const inject = envNumber('BENCH_SYNC_INJECT', 200);
  const idleSamples = envNumber('BENCH_SYNC_IDLE', 50);
  const members = envNumber('BENCH_SYNC_MEMBERS', 2000);
  const only = (process.env.BENCH_SYNC_SCENARIOS ?? 'load,urgent,idle,members').split(',');
  const clockKind = clockKindFrom('BENCH_SYNC_CLOCK', process.env.BENCH_SYNC_CLOCK);
  const verdicts: Verdict[] = [];
  const clockName =
    clockKind === 'virtual'
      ? "virtual clock (discrete events: simulated time jumps to the next timer when nothing is in flight; the bridge's CPU time counts 0)"
      : `scaled clock x${timeScale} (the bridge's CPU time counts as simulated time)`;
  console.log(`sync bench: ${fmt(users, 0)} users with licence and manager, user-sync, write budget 3,000/150 s, ${clockName}`);
  console.log(`idle and members run on the scaled clock x${timeScale} (real milliseconds are measured)`);
  const rows: string[][] = [];
  const headers = ['scenario', 'sim s', 'budget min s', 'ratio', 'writes/user', 'reads/user', 'RU/user', '429 share', 'peak RSS', 'real s', 'clock jumps'];
  const row = (name: string, f: LoadFigures) => {
    rows.push([
      name,
      fmt(f.simSeconds, 0),
      fmt(f.minimumSeconds, 0),
      fmt(f.ratio, 3),
      fmt(f.writesPerUser, 3),
      fmt(f.readsPerUser, 3),
      fmt(f.ruPerUser, 2),
      `${fmt(f.throttledShare * 100, 2)}%`,
      mb(f.peakRss),
      fmt(f.realSeconds, 0),
      String(f.jumps),
    ]);
    // Each scenario as it ends (a long run still shows what it measured if stopped), the table at the end.
    const last = rows[rows.length - 1];
    console.log(headers.map((h, i) => `${h} ${last[i]}`).join(', '));
    console.log(`  before the engine started: RSS ${mb(f.startRss)}, V8 heap used ${mb(f.startHeap)}`);
    console.log(
      `  at peak RSS: V8 heap used ${mb(f.peakHeap)} of ${mb(f.peakHeapTotal)}, external ${mb(f.peakExternal)}, rest (native: SQLite, malloc, code, stacks, worker threads) ${mb(f.peakRss - f.peakHeapTotal - f.peakExternal)}`,
    );
    if (f.latencies)
      for (const [kind, l] of Object.entries(f.latencies)) console.log(`  ${kind}: n ${l.length}, p50 ${fmt(pct(l, 50), 2)} s, p99 ${fmt(pct(l, 99), 2)} s`);
  };
  const loadVerdicts = (name: string, f: LoadFigures) => {
    // Under 3,000 writes the budget allows everything at once: no minimum to compare with.
    if (f.minimumSeconds > 0)
      verdicts.push({ bench: 'sync', target: `${name}: time <= 1.05x budget minimum`, measured: `${fmt(f.ratio, 3)}x`, pass: f.ratio <= 1.05 });
    else console.log(`${name}: ${fmt(f.writesPerUser * f.users, 0)} writes fit in the budget's first 3,000: no time ratio at this size`);
    verdicts.push({ bench: 'sync', target: `${name}: 429 share < 1%`, measured: `${fmt(f.throttledShare * 100, 2)}%`, pass: f.throttledShare < 0.01 });
    verdicts.push({ bench: 'sync', target: `${name}: peak RSS < 300 MB`, measured: mb(f.peakRss), pass: f.peakRss < 300 * 1048576 });
  };
  if (only.includes('load') || only.includes('load/direct')) {
    const direct = await load(users, clockKind, timeScale, {});
    row('load/direct', direct);
    loadVerdicts('load/direct', direct);
  }
  if (only.includes('load') || only.includes('load/group')) {
    let group: LoadFigures | null = null;
    try {
      group = await load(users, clockKind, timeScale, { 'licenses.assignment': 'group' });
    } catch (err) {
      console.log(`load/group skipped: ${(err as Error).message.split('\n').slice(0, 2).join(' ')}`);
    }
    if (group) {
      row('load/group', group);
      loadVerdicts('load/group', group);
    }
  }
  const latencyRows: string[][] = [];
  if (only.includes('urgent')) {
    for (const order of ['fifo', 'priority'] as const) {
      const f = await load(users, clockKind, timeScale, { 'sync.order': order }, inject);
      row(`urgent/${order}`, f);
      for (const kind of ['deactivate', 'password'] as const) {
        const l = f.latencies![kind];
        latencyRows.push([order, kind, String(l.length), fmt(pct(l, 50), 2), fmt(pct(l, 99), 2), fmt(Math.max(...l), 2)]);
        if (order === 'priority')
          verdicts.push({
            bench: 'sync',
            target: `${kind} during the load: p99 <= 1 s simulated (priority)`,
            measured: `${fmt(pct(l, 99), 2)} s (fifo: see table)`,
            pass: pct(l, 99) <= 1,
          });
      }
    }
  }
  console.log(table(headers, rows));
  if (latencyRows.length) {
    console.log('\nSCIM write to Graph write acknowledged, during the load (simulated seconds):');
    console.log(table(['order', 'change', 'n', 'p50', 'p99', 'max'], latencyRows));
  }
  if (only.includes('idle') || only.includes('members')) {
    const small = Math.min(users, Math.max(members, 500));
    const r = await idleAndMembers(small, timeScale, idleSamples, members);
    console.log(
      `\nidle latency over ${r.realMs.length} changes (real ms): p50 ${fmt(pct(r.realMs, 50), 1)}, p99 ${fmt(pct(r.realMs, 99), 1)}, max ${fmt(Math.max(...r.realMs), 1)}`,
    );
    console.log(`memberships of one group of ${r.members}: ${fmt(r.addWrites, 3)} writes per member added, ${fmt(r.removeWrites, 3)} per member removed`);
    verdicts.push({
      bench: 'sync',
      target: 'idle: SCIM change to Graph write p99 < 500 ms (real)',
      measured: `${fmt(pct(r.realMs, 99), 1)} ms`,
      pass: pct(r.realMs, 99) < 500,
    });
    verdicts.push({ bench: 'sync', target: 'members added: writes per member <= 1/20', measured: fmt(r.addWrites, 3), pass: r.addWrites <= 0.05 + 1e-9 });
  }
  for (const v of verdicts) console.log(`${v.pass ? 'PASS' : 'FAIL'}  ${v.target}: ${v.measured}`);
  return { verdicts };
}

if (runSeedChild(seedUsers)) {
  // The seeding process: done.
} else if (path.resolve(process.argv[1] ?? '') === __filename) {
  runSyncBench().then(
    (r) => process.exit(r.verdicts.every((v) => v.pass) ? 0 : 1),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
