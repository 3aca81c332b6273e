// The operator console's list queries at scale: a store seeded with BENCH_CONSOLE_USERS users
// (default 100,000; 1% in error) through the store directly, then each query the Users, Overview,
// Audit, Drift and Pending deletions pages run, timed as the median of 5 after a warm-up.
// Run alone: `npm run bench -- console` (BENCH_CONSOLE_USERS=2000 for a quick check).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../src/store';
import { consoleConfig, seedConsoleStore } from '../test/http/console-seed';
import type { BenchReport } from './run';
import { fmt, median, table, type Verdict } from './lib/stats';

export async function runConsoleBench(): Promise<BenchReport> {
  const users = Number(process.env.BENCH_CONSOLE_USERS ?? 100_000);
  const dir = mkdtempSync(join(tmpdir(), 'bench-console-'));
  const options = {
    database: join(dir, 'bridge.sqlite'),
    users,
    errors: Math.max(1, Math.floor(users / 100)),
    adminToken: 'bench-console-admin-token-0123456789',
    sourceTokens: { okta: 'bench-console-okta-token-0123456789', hr: 'bench-console-hr-token-0123456789' },
  };
  const config = consoleConfig(options);
  const seedStarted = Date.now();
  seedConsoleStore(config, options);
  console.log(`seeded ${users} users in ${((Date.now() - seedStarted) / 1000).toFixed(1)} s`);
  const store = openStore(config.database, { mode: config.mode, sources: config.sources });
  const a = store.admin;
  const time = (fn: () => unknown) => {
    fn();
    const runs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = process.hrtime.bigint();
      fn();
      runs.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    return median(runs);
  };
  const last = Math.max(0, users - 50);
  // Narrow queries (a page of users in name order, a state, a name prefix) must stay interactive at any size;
  // filters that match everything count and sort every row.
  const cases: { name: string; targetMs: number; fn: () => unknown }[] = [
    { name: 'users, first page', targetMs: 100, fn: () => a.userList({ offset: 0, limit: 50 }) },
    { name: 'users, last page', targetMs: 100, fn: () => a.userList({ offset: last, limit: 50 }) },
    { name: 'users in error', targetMs: 100, fn: () => a.userList({ state: 'error', offset: 0, limit: 50 }) },
    { name: 'users, name prefix', targetMs: 100, fn: () => a.userList({ text: 'user0042', offset: 0, limit: 50 }) },
    { name: 'users, exact id', targetMs: 100, fn: () => a.userList({ text: 'no-such-id', offset: 0, limit: 50 }) },
    { name: 'users of one source (all)', targetMs: 1000, fn: () => a.userList({ source: 'okta', offset: 0, limit: 50 }) },
    { name: 'users, prefix matching all', targetMs: 2000, fn: () => a.userList({ text: 'Seeded', offset: 0, limit: 50 }) },
    { name: 'counts by type and state', targetMs: 1000, fn: () => a.countsByTypeAndState() },
    { name: 'audit, newest page', targetMs: 100, fn: () => a.auditList({ limit: 50 }) },
    { name: 'audit, action prefix', targetMs: 1000, fn: () => a.auditList({ action: 'sync.', limit: 50 }) },
    { name: 'drift', targetMs: 1000, fn: () => a.drift(200) },
    { name: 'pending deletions', targetMs: 1000, fn: () => a.pendingDeletions({ limit: 500 }) },
  ];
  const verdicts: Verdict[] = [];
  const rows: string[][] = [];
  try {
    for (const c of cases) {
      const ms = time(c.fn);
      rows.push([c.name, fmt(ms, 2)]);
      verdicts.push({ bench: 'console', target: `${c.name} at ${users} users < ${c.targetMs} ms`, measured: `${fmt(ms, 2)} ms`, pass: ms < c.targetMs });
    }
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(table(['query', 'median ms'], rows));
  return { verdicts };
}
