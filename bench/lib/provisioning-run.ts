// One provisioning run of the benchmarks (sync, inbound): the simulator in its child process
// (bench-simulator.ts), a fresh database seeded with the bench's users, and the sync engine on the
// chosen clock, with what the benches read off it: which users were applied or failed and when (in
// simulated time), the jumps of the virtual clock and the bench process's peak RSS.
import { mkdtempSync, rmSync } from 'node:fs';
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
  /** Per resource, its last few applied versions with the simulated and real time of each. */
  applied: Map<string, { version: number; atMs: number; realMs: number }[]>;
  /** Users applied at least once, in the order they first were. */
  synced: string[];
  /** Users whose last event was an error. */
  failed: Set<string>;
  /** Simulated time of the last applied event. */
  lastAppliedAt: () => number;
  onEvent: (listener: (e: { type: string; id: string; version?: number }) => void) => void;
  peakRss: () => number;
  close(): Promise<void>;
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
  /** Fills the fresh store with the bench's users. */
  seedUsers(store: Store): void;
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
  const simulator = await startBenchSimulator({ dataDir: dir, seed: opts.seed, clock: opts.clock, timeScale: opts.timeScale });
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
    store = openStore(dbPath, { mode: config.mode, sources: config.sources, backgroundCheckpoints: true });
    opts.seedUsers(store);
    // The clock first: the observer's times are the bench clock's.
    const client = adaptGraphClient(createGraphClient(config.graph, { logger }));
    let peekNow: () => number = () => Date.now();
    const observed = opts.observe ? opts.observe(client, () => peekNow()) : client;
    const bc = benchClock(opts.clock, opts.timeScale, simulator, observed);
    peekNow = bc.peek;
    const engine = createSyncEngine({ config, store, graph: bc.graph, logger, clock: bc.clock, idleMs: opts.idleMs });
    const applied = new Map<string, { version: number; atMs: number; realMs: number }[]>();
    const synced: string[] = [];
    const failed = new Set<string>();
    let lastAppliedAt = bc.peek();
    const listeners: ((e: { type: string; id: string; version?: number }) => void)[] = [];
    engine.onEvent((e) => {
      if (e.type === 'error' && e.resourceType === 'User') failed.add(e.id);
      if (e.type === 'applied') {
        const list = applied.get(e.id) ?? [];
        if (!list.length && e.resourceType === 'User') synced.push(e.id);
        failed.delete(e.id);
        lastAppliedAt = bc.peek();
        list.push({ version: e.version, atMs: lastAppliedAt, realMs: performance.now() });
        applied.set(e.id, list.slice(-4));
      }
      if (e.type === 'applied' || e.type === 'error') for (const l of listeners) l(e);
    });
    let peak = process.memoryUsage().rss;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 200);
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
      applied,
      synced,
      failed,
      lastAppliedAt: () => lastAppliedAt,
      onEvent: (l) => listeners.push(l),
      peakRss: () => peak,
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
