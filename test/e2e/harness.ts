// End-to-end harness: a simulator on an ephemeral port, a store on a temporary SQLite file, the
// Graph client pointed at the simulator, the sync engine and the SCIM app over that store; plus
// the simulator's request log reduced to the writes a test asserts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config, type Mode } from '../../src/config';
import { createGraphClient } from '../../src/graph/client';
import { leastGrant } from '../../src/graph/permissions';
import { createLogger } from '../../src/log';
import { startSimulator, type RunningSimulator, type SeedObject, type SimulatorOptions } from '../../src/simulator';
import { openStore, type Store } from '../../src/store';
import { type ManualClock, scaledClock } from '../../src/sync/clock';
import { createSyncEngine, type SyncEngine } from '../../src/sync/engine';
import { createIngress, type Ingress } from './ingress';
import { simulatorGraphOverrides } from './simulator-graph';

export const SOURCE_TOKEN = 'okta-token-0123456789abcdef';
export const E3 = '6fd2c87f-b296-42f0-b197-1e91e994b900';
export const EXO = '4b9405b0-7788-4568-add1-99614e613b69';

export interface Harness {
  sim: RunningSimulator;
  store: Store;
  engine: SyncEngine;
  /** The SCIM ingress (createApp over this config and store), driven as source okta. */
  scim: Ingress;
  config: Config;
  dbPath: string;
  /**
   * Another engine over this store and tenant: a restarted process, or the same database under a changed
   * `config`; its Graph client follows that config unless `graph` is given. The caller stops it.
   */
  newEngine(opts?: Partial<Parameters<typeof createSyncEngine>[0]>): SyncEngine;
  writes(): { method: string; url: string; body?: unknown; status: number }[];
  clearLog(): void;
  close(): Promise<void>;
}

function hasBody(body: unknown): boolean {
  return body !== undefined && body !== null && !(typeof body === 'object' && !Array.isArray(body) && Object.keys(body as object).length === 0);
}

export interface HarnessOptions {
  mode: Mode;
  seed?: SeedObject;
  overrides?: Record<string, unknown>;
  timeScale?: number;
  throttling?: boolean;
  /** The simulator's wall clock (replication lag, outage windows), for a test that moves time on. */
  simulatorNow?: () => number;
  directories?: { id: string; type: 'ad' | 'ldap' | 'cloud'; jit?: boolean }[];
  /** Sources besides okta (e.g. entra); drive one with createIngress({config, store}, id). */
  extraSources?: ({ id: string; token: string } & Record<string, unknown>)[];
  /** More settings of source okta (e.g. adopt). */
  okta?: Record<string, unknown>;
  engine?: Partial<Parameters<typeof createSyncEngine>[0]>;
  /** The store's database (default a file in a temporary directory), e.g. ':memory:'. */
  database?: string;
  /**
   * What the app is granted when the seed names no tenant.roles: the least set the config needs
   * (default), or with the recommended optional ones too (User-PasswordProfile.ReadWrite.All).
   */
  permissions?: 'least' | 'recommended';
  /** More simulator options (e.g. licenseProcessingMs). */
  sim?: Partial<SimulatorOptions>;
}

export { simulatorGraph } from './simulator-graph';

export async function startHarness(opts: HarnessOptions): Promise<Harness> {
  const timeScale = opts.timeScale ?? 1;
  const sim = await startSimulator({
    port: 0,
    seed: opts.seed ?? {},
    timeScale,
    throttling: opts.throttling ?? false,
    now: opts.simulatorNow,
    ...opts.sim,
  });
  const dir = mkdtempSync(join(tmpdir(), 'sync-e2e-'));
  const dbPath = opts.database ?? join(dir, 'bridge.sqlite');
  const config = loadConfig({
    env: {},
    overrides: {
      mode: opts.mode,
      database: dbPath,
      sources: [{ id: 'okta', token: SOURCE_TOKEN, directories: opts.directories ?? [], ...opts.okta }, ...(opts.extraSources ?? [])],
      ...simulatorGraphOverrides(sim),
      'defaults.usageLocation': 'US',
      logLevel: 'silent',
      ...opts.overrides,
    },
  });
  // The least-privilege default: what the bridge needs for this config, unless the seed grants its own.
  if (!opts.seed?.tenant?.roles) sim.grant(leastGrant(config, config.mode, { optional: opts.permissions === 'recommended' }));
  const logger = createLogger('silent');
  const store = openStore(dbPath, { mode: config.mode, sources: config.sources });
  const graph = createGraphClient(config.graph, { logger });
  // Graph's revoke delay is minutes; tests read back at once unless they model the delay themselves.
  const engine = createSyncEngine({
    config,
    store,
    graph,
    logger,
    clock: timeScale === 1 ? undefined : scaledClock(timeScale),
    tokenReadbackDelayMs: 0,
    ...opts.engine,
  });
  const scim = await createIngress({ config, store });
  return {
    sim,
    store,
    engine,
    scim,
    config,
    dbPath,
    newEngine: (more = {}) => {
      const cfg = more.config ?? config;
      return createSyncEngine({ config: cfg, store, graph: createGraphClient(cfg.graph, { logger }), logger, ...more });
    },
    writes: () =>
      sim.requests
        .writes()
        // The Graph SDK posts {} for a bodiless POST sent alone; in a $batch the item has no body.
        .map((e) => ({ method: e.method, url: e.url, ...(hasBody(e.requestBody) ? { body: e.requestBody } : {}), status: e.status })),
    clearLog: () => sim.requests.clear(),
    async close() {
      await engine.stop();
      await scim.close();
      store.close();
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Graph ids in urls and bodies replaced by the UPN or displayName they name, for exact assertions. */
export function named(h: Harness): { method: string; url: string; body?: unknown; status: number }[] {
  const snap = h.sim.state.snapshot();
  const names = new Map<string, string>();
  for (const u of [...snap.users, ...snap.deletedItems]) if (u.userPrincipalName) names.set(String(u.id), `{${u.userPrincipalName}}`);
  for (const g of snap.groups) names.set(String(g.id), `{${g.displayName}}`);
  names.set(String(snap.organization.id), '{org}');
  let text = JSON.stringify(h.writes());
  for (const [id, name] of names) text = text.split(id).join(name);
  return JSON.parse(text.split(h.sim.url).join('{graph}'));
}

/**
 * The password the simulated tenant holds for a user. The simulator's request log shows every
 * password as '[redacted]'; a test that checks which password was written reads it here.
 */
export function passwordOf(h: Harness, upn: string): string | undefined {
  const id = h.sim.state.snapshot().users.find((u) => String(u.userPrincipalName).toLowerCase() === upn.toLowerCase())?.id;
  return id ? h.sim.state.directory.users.get(String(id))?.password : undefined;
}

/**
 * Runs a manual clock by itself while a test waits for the engine: every `everyMs` of real time, if
 * anything sleeps on the clock (an idle wait, a back-off, a Retry-After pause), time moves on by
 * `stepMs`. Waits then cost no wall time whatever their length, and a slow machine only takes more
 * steps. Returns the function that stops it.
 */
export function driveClock(clock: ManualClock, stepMs = 1000, everyMs = 2): () => Promise<void> {
  let running = true;
  const loop = (async () => {
    while (running) {
      await new Promise((resolve) => setTimeout(resolve, everyMs));
      if (clock.pending() > 0) await clock.advance(stepMs);
    }
  })();
  return async () => {
    running = false;
    await loop;
  };
}

/** The simulator's budget clock reading a manual clock, so Graph's budgets and Retry-After run in the engine's time. */
export function simulatorClock(clock: ManualClock) {
  return { timeScale: 1, now: () => clock.now(), toReal: (ms: number) => ms };
}
