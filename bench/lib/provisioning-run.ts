// One provisioning run of the benchmarks (sync, inbound): the simulator in its child process
// (bench-simulator.ts), a fresh database seeded with the bench's users by a process of their own, and
// the sync engine on the chosen clock, with what the benches read off it: how many users were applied
// or failed and when (in simulated time), the jumps of the virtual clock and the bench process's peak
// RSS, which is then the bridge's (engine and store): neither the simulator nor the seeding runs here.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../../src/config';
import { createGraphClient } from '../../src/graph/client';
import { createLogger, type Logger } from '../../src/log';
import type { SeedObject } from '../../src/simulator';
import { openStore, type Store } from '../../src/store';
import type { Clock } from '../../src/sync/clock';
import { createSyncEngine, type SyncEngine } from '../../src/sync/engine';
import { adaptGraphClient } from '../../src/sync/graph-adapter';
import type { SyncGraph } from '../../src/sync/graph-port';
import { simulatorGraphOverrides } from '../../test/e2e/simulator-graph';
import { benchClock, type BenchSimulator, type ClockKind, startBenchSimulator } from './bench-simulator';

export interface ProvisioningRun {
  dir: string;
  simulator: BenchSimulator;
  config: Config;
  store: Store;
  engine: SyncEngine;
  clock: Clock;
  /** The time now, without counting as the bridge's activity on the virtual clock. */
  peek: () => number;
  /** Jumps the virtual clock made (0 on the scaled clock). */
  jumps: () => number;
  /** Resolves with the simulated and real time at which the resource's `version` (or a later one) is applied. */
  appliedAt: (id: string, version: number) => Promise<{ atMs: number; realMs: number }>;
  /** Seeded users applied at least once. */
  synced: () => number;
  /** A random seeded user applied at least once (undefined while there is none). */
  randomSynced: () => string | undefined;
  /** Graph requests ($batch counting once) answered so far. */
  answered: () => number;
  /** Users whose last event was an error. */
  failed: Set<string>;
  /** Simulated time of the last applied event. */
  lastAppliedAt: () => number;
  onEvent: (listener: (e: { type: string; id: string; version?: number }) => void) => void;
  /** Peak resident set since the engine was created (the kernel's high-water mark where Linux gives it, else sampled). */
  peakRss: () => number;
  /** process.memoryUsage() at the sample of highest RSS (every 200 ms: a breakdown near the peak, not at it). */
  peakMemory: () => NodeJS.MemoryUsage;
  /** process.memoryUsage() when the engine was created, before it started. */
  startMemory: NodeJS.MemoryUsage;
  close(): Promise<void>;
}

/** What the seeding process is given: the bench's script runs `seedUsers` with it (runSeedChild). */
interface SeedArgs {
  dbPath: string;
  mode: Config['mode'];
  sources: Config['sources'];
  users: number;
}

const SEED_TAG = 'benchSeedChild';
const runTs = path.resolve(__dirname, '../../bin/run-ts.js');

/**
 * In a bench script, called at load: when the script was started as the seeding process of a run,
 * writes the users with `seed` into the run's database and exits; returns false otherwise.
 */
export function runSeedChild(seed: (store: Store, users: number) => void): boolean {
  const arg = process.argv[2];
  if (!arg?.includes(SEED_TAG)) return false;
  const args = JSON.parse(arg) as SeedArgs;
  const store = openStore(args.dbPath, { mode: args.mode, sources: args.sources });
  seed(store, args.users);
  store.close();
  return true;
}

/** Resets the kernel's peak RSS of this process (Linux clear_refs 5) and returns a reader of VmHWM; null where that is not available. */
function resetPeakRss(): (() => number) | null {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    const read = () => Number(/VmHWM:\s*(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN) * 1024;
    return Number.isFinite(read()) ? read : null;
  } catch {
    return null;
  }
}

export interface RunOptions {
  /** Temporary directory prefix. */
  name: string;
  clock: ClockKind;
  timeScale: number;
  /** The simulator's tenant. */
  seed: SeedObject;
  /** Config overrides on top of the simulator's Graph settings (mode, sources, graph.writer...). */
  overrides: Record<string, unknown>;
  /** The bench's script, started as the seeding process (it calls runSeedChild at load), and how many users it seeds. */
  seedScript: string;
  users: number;
  /** A seeded user's number (0 to users - 1) from its id, -1 for another id; and back. */
  userIndex: (id: string) => number;
  userId: (i: number) => string;
  /** A directory for a CPU profile of the simulator's process. */
  simulatorProfileDir?: string;
  /** The engine's idle wait, on its clock. */
  idleMs: number;
  /** Grants the bridge the least roles its config needs (leastGrant) instead of the seed's. */
  grant?: (config: Config) => string[];
  /** Wraps the bridge's Graph port (a bench counting requests), inside the virtual clock's tracking. */
  observe?: (graph: SyncGraph, peek: () => number) => SyncGraph;
  /** The bridge's logger (default silent). */
  logger?: Logger;
  /** Checked once the config is loaded: a reason to give up (a setting this build lacks). */
  refuse?: (config: Config) => string | null;
}

export async function startProvisioningRun(opts: RunOptions): Promise<ProvisioningRun> {
  const dir = mkdtempSync(path.join(tmpdir(), `${opts.name}-`));
  const simulator = await startBenchSimulator({
    dataDir: dir,
    seed: opts.seed,
    clock: opts.clock,
    timeScale: opts.timeScale,
    ...(opts.simulatorProfileDir ? { profileDir: opts.simulatorProfileDir } : {}),
  });
  const dbPath = path.join(dir, 'bridge.sqlite');
  let store: Store | undefined;
  try {
    const config = loadConfig({
      env: {},
      overrides: { database: dbPath, 'defaults.usageLocation': 'US', logLevel: 'silent', ...simulatorGraphOverrides(simulator.sim), ...opts.overrides },
    });
    const refused = opts.refuse?.(config);
    if (refused) throw new Error(refused);
    if (opts.grant) await simulator.grant(opts.grant(config));
    const logger = opts.logger ?? createLogger('silent');
    // The users are written by a process of their own (the SCIM ingress of an earlier day, as far as
    // the bridge is concerned): 100,000 inserts in one loop would leave their garbage in this
    // process's heap, counted in the peak RSS that is meant for the engine and the store.
    const seedArgs: SeedArgs & { [SEED_TAG]: true } = { [SEED_TAG]: true, dbPath, mode: config.mode, sources: config.sources, users: opts.users };
    const seeded = spawnSync(process.execPath, [runTs, opts.seedScript, JSON.stringify(seedArgs)], { stdio: 'inherit' });
    if (seeded.status !== 0) throw new Error(`seeding ${opts.users} users failed (exit ${seeded.status})`);
    store = openStore(dbPath, { mode: config.mode, sources: config.sources, backgroundCheckpoints: true });
    // The clock first: the observer's times are the bench clock's.
    const client = adaptGraphClient(createGraphClient(config.graph, { logger }));
    let peekNow: () => number = () => Date.now();
    const observed = opts.observe ? opts.observe(client, () => peekNow()) : client;
    const bc = benchClock(opts.clock, opts.timeScale, simulator, observed);
    peekNow = bc.peek;
    // Graph answers received: progress a stall check counts besides applied users (a licence
    // read-back after a run's passes applies no user for a while but keeps reading).
    let answered = 0;
    const counted = <T>(p: Promise<T>) => p.finally(() => answered++);
    const port = bc.graph;
    const graph: SyncGraph = { send: (op) => counted(port.send(op)), batch: (ops) => counted(port.batch(ops)), tokenRoles: () => counted(port.tokenRoles()) };
    const engine = createSyncEngine({ config, store, graph, logger, clock: bc.clock, idleMs: opts.idleMs });
    // The bench's own bookkeeping stays small beside the engine's: one byte per seeded user (applied
    // at least once), the ids in error, and the resources someone waits for.
    const syncedFlags = new Uint8Array(opts.users);
    let syncedCount = 0;
    const failed = new Set<string>();
    const waiters = new Map<string, { version: number; resolve: (at: { atMs: number; realMs: number }) => void }[]>();
    let lastAppliedAt = bc.peek();
    const listeners: ((e: { type: string; id: string; version?: number }) => void)[] = [];
    engine.onEvent((e) => {
      if (e.type === 'error' && e.resourceType === 'User') failed.add(e.id);
      if (e.type === 'applied') {
        const i = e.resourceType === 'User' ? opts.userIndex(e.id) : -1;
        if (i >= 0 && i < opts.users && !syncedFlags[i]) {
          syncedFlags[i] = 1;
          syncedCount++;
        }
        failed.delete(e.id);
        lastAppliedAt = bc.peek();
        const waiting = waiters.get(e.id);
        if (waiting) {
          const at = { atMs: lastAppliedAt, realMs: performance.now() };
          for (const w of waiting.filter((w) => w.version <= e.version)) w.resolve(at);
          const left = waiting.filter((w) => w.version > e.version);
          if (left.length) waiters.set(e.id, left);
          else waiters.delete(e.id);
        }
      }
      if (e.type === 'applied' || e.type === 'error') for (const l of listeners) l(e);
    });
    let peak = process.memoryUsage();
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      if (m.rss > peak.rss) peak = m;
    }, 200);
    // The kernel's high-water mark, reset here so that it covers this run from the engine's creation
    // (seeding included in neither) and catches what a 200 ms sample misses.
    const hwm = resetPeakRss();
    const startMemory = process.memoryUsage();
    const opened = store;
    return {
      dir,
      simulator,
      config,
      store: opened,
      engine,
      clock: bc.clock,
      peek: bc.peek,
      jumps: bc.jumps,
      appliedAt: (id, version) =>
        new Promise((resolve) => {
          waiters.set(id, [...(waiters.get(id) ?? []), { version, resolve }]);
        }),
      synced: () => syncedCount,
      randomSynced: () => {
        if (!syncedCount) return undefined;
        for (;;) {
          const i = Math.floor(Math.random() * opts.users);
          if (syncedFlags[i]) return opts.userId(i);
        }
      },
      answered: () => answered,
      failed,
      lastAppliedAt: () => lastAppliedAt,
      onEvent: (l) => listeners.push(l),
      peakRss: () => (hwm ? Math.max(hwm(), peak.rss) : peak.rss),
      peakMemory: () => peak,
      startMemory,
      async close() {
        clearInterval(sampler);
        await engine.stop();
        bc.stop();
        opened.close();
        await simulator.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    store?.close();
    await simulator.close();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
