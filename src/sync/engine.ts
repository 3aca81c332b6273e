// createSyncEngine: the level-triggered loop of SPEC section 7. Each run diffs what the store
// desires against what was applied and sends the minimal Graph writes under the write budget;
// preflight (section 6) gates every write but never ingress; drift (section 8) runs on its interval.
import type { Config, Mode } from '../config';
import type { GraphClient } from '../graph/client';
import { dirSyncEnabledFor } from '../graph/identity';
import type { Logger } from '../log';
import type { ResourceType, Store, SyncStateName } from '../store';
import { openSyncEngineQueries, type SyncEngineQueries } from '../store/sync-engine-queries';
import { type Clock, systemClock } from './clock';
import { type EngineContext, type EngineFacts, newCounters } from './context';
import { createDeletionGuard, DELETION_WINDOW_MS, type HeldSource } from './deletion-guard';
import { checkDrift, type DriftSummary } from './drift';
import { createEventHub, type SyncEventListener } from './events';
import { createEventLogger } from './event-log';
import { createExecutor, type ExecutorStats } from './executor';
import { adaptGraphClient, isSyncGraph } from './graph-adapter';
import type { SyncGraph } from './graph-port';
import { planWrites, type PlannedWrite } from './plan';
import { createGate } from './gate';
import type { PreflightResult } from './preflight';
import { runPass } from './run-pass';
import { createThrottle } from './throttle';

export type { PlannedWrite } from './plan';
export type { DriftSummary } from './drift';
export type { PreflightResult } from './preflight';
export type { SyncEvent, SyncEventListener } from './events';

export interface SyncEngineOptions {
  config: Config;
  /** The Graph settings in effect when they differ from config.graph (the embedded simulator's). */
  graphConfig?: Config['graph'];
  store: Store;
  graph: GraphClient | SyncGraph;
  logger: Logger;
  clock?: Clock;
  /** The SQLite file the store opened (default config.database). */
  databasePath?: string;
  /** Rows taken per pass. */
  batchSize?: number;
  /** $batch requests in flight. */
  concurrency?: number;
  /** Real milliseconds the loop sleeps when nothing is due. */
  idleMs?: number;
  /** Backoff for 5xx and network errors (default 500 ms doubling to 60 s). */
  retry?: { baseMs: number; capMs: number };
}

export interface RunSummary {
  startedAt: string;
  durationMs: number;
  passes: number;
  applied: number;
  created: number;
  matched: number;
  failed: number;
  retried: number;
  deprovisioned: number;
  writes: number;
  requests: number;
  throttled: number;
  blocked: string[] | null;
  /** graph.dryRun: the writes that would be sent; nothing is sent or recorded as applied. */
  planned?: number;
  error?: string;
  queueDepth: number;
}

export interface EngineStatus {
  state: 'running' | 'blocked' | 'paused' | 'stopped';
  mode: Mode;
  reasons: string[];
  warnings: string[];
  queueDepth: number;
  counts: Record<SyncStateName, number>;
  lastErrors: { type: ResourceType; id: string; lastError: string }[];
  pendingDeletions: HeldSource[];
  preflight: PreflightResult | null;
  graph: ExecutorStats;
  lastRun: RunSummary | null;
  lastDrift: DriftSummary | null;
}

/** One budget's use: capacity, what could be spent now, spent since start, paused until (epoch ms). */
export interface BudgetUse {
  capacity: number;
  available: number;
  spent: number;
  pausedUntil: number;
}

/** What /metrics reads at each scrape, beyond status(): cheap queries only. */
export interface EngineTelemetry {
  resources: { type: ResourceType; state: SyncStateName; count: number }[];
  queueDepth: number;
  oldestChangeAt: string | null;
  pendingDeletions: HeldSource[];
  blocked: boolean;
  graph: ExecutorStats;
  writeBudget: BudgetUse;
  resourceUnits: BudgetUse;
}

export type SyncEngine = ReturnType<typeof createSyncEngine>;

const APPROVED_KEY = 'deletions.approved';
const PREFLIGHT_RECHECK_MS = 30_000;
const MAX_PASSES = 50;

export function createSyncEngine(options: SyncEngineOptions) {
  const { config, store } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger.child({ component: 'sync' });
  const graphConfig = options.graphConfig ?? config.graph;
  const graph: SyncGraph = isSyncGraph(options.graph) ? options.graph : adaptGraphClient(options.graph as GraphClient);
  const throttle = createThrottle(config.graph.writeBudget, clock, { margin: 0.02 });
  const { units: ruCapacity, perSeconds: ruSeconds } = config.graph.resourceUnits;
  const units = createThrottle({ writes: ruCapacity, perSeconds: ruSeconds }, clock, { margin: 0.02 });
  const exec = createExecutor({ graph, throttle, units, logger, concurrency: options.concurrency ?? 4, now: () => clock.now() });
  const hub = createEventHub();
  const eventLog = createEventLogger(logger);
  hub.on(eventLog.log);
  let queries: SyncEngineQueries | null = null;
  const q = () => (queries ??= openSyncEngineQueries(options.databasePath ?? config.database));
  const storedApprovals = () => JSON.parse(q().getMeta(APPROVED_KEY) || '[]') as string[];
  const recent = q()
    .recentDeprovisions(new Date(clock.now() - DELETION_WINDOW_MS).toISOString())
    .map((r) => ({ sourceId: r.sourceId ?? '', atMs: Date.parse(r.at) }));
  const guard = createDeletionGuard({ threshold: config.deletionThreshold, clock, approved: storedApprovals(), recent });
  /** Held deprovisions as the store has them now (also right after a restart, or in a CLI process). */
  const decideDeletions = () => {
    const bySource = new Map<string, string[]>();
    for (const d of q().pendingDeletions()) bySource.set(d.sourceId, [...(bySource.get(d.sourceId) ?? []), d.id]);
    for (const [sourceId, ids] of bySource) guard.decide(sourceId, ids);
    return guard.held();
  };
  const emptyFacts: EngineFacts = { organizationId: null, tenantSyncEnabled: false, otherSyncEngine: false, skus: new Map(), skuByPart: {}, federatedDomains: [] };
  const ctx: EngineContext = {
    config, graphBaseUrl: graphConfig.baseUrl, mode: config.mode, store, graph, exec, clock, logger, guard, facts: emptyFacts, counters: newCounters(),
    retry: options.retry ?? { baseMs: 500, capMs: 60_000 },
    secrets: [graphConfig.clientSecret],
    get queries() { return q(); },
    emit: (e) => hub.emit(e),
  } as EngineContext;

  const gate = createGate(ctx);
  let lastRun: RunSummary | null = null;
  let lastDrift: DriftSummary | null = null;
  let lastDriftAt = -Infinity;
  let running = false;
  let loop: Promise<void> | null = null;
  let wake: (() => void) | null = null;
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const p = chain.then(fn, fn);
    chain = p.catch(() => undefined);
    return p;
  };
  const nowIso = () => new Date(clock.now()).toISOString();

  function summaryOf(started: number, passes: number, before: ExecutorStats, extra: Partial<RunSummary> = {}): RunSummary {
    const after = exec.stats();
    const c = ctx.counters;
    return {
      startedAt: new Date(started).toISOString(), durationMs: clock.now() - started, passes,
      applied: c.applied, created: c.created, matched: c.matched, failed: c.failed, retried: c.retried, deprovisioned: c.deprovisioned,
      writes: after.writes - before.writes, requests: after.requests - before.requests, throttled: after.throttled - before.throttled,
      blocked: null, queueDepth: q().queueDepth(), ...extra,
    };
  }

  async function runOnceNow(): Promise<RunSummary> {
    const started = clock.now();
    const before = exec.stats();
    ctx.counters = newCounters();
    let passes = 0;
    try {
      const blocked = store.sync.blockedReason() !== null;
      if (!gate.result() || !ctx.facts.organizationId || (blocked && clock.now() - gate.checkedAt() >= PREFLIGHT_RECHECK_MS)) await gate.check();
      const pf = gate.result();
      if (!pf?.ok) return (lastRun = summaryOf(started, 0, before, { blocked: pf?.blocked ?? [] }));
      if (config.graph.dryRun) {
        // Applied state must only ever say what Graph holds: a dry run plans and records nothing.
        const planned = planWrites(ctx);
        for (const w of planned) logger.info({ resourceType: w.resourceType, id: w.id, method: w.method, url: w.url.split('?')[0] }, 'dry run: planned Graph write');
        return (lastRun = summaryOf(started, 0, before, { planned: planned.length }));
      }
      await gate.ensureTenantSwitch();
      guard.approveIds(storedApprovals());
      for (; passes < MAX_PASSES; passes++) {
        const rows = store.sync.listDue(clock.now(), options.batchSize ?? 1000);
        if (!rows.length) break;
        const c = ctx.counters;
        const progress = () => c.applied + c.created + c.matched + c.failed + c.deprovisioned + c.recovered;
        const before = progress();
        await runPass(ctx, rows);
        if (progress() === before) break;
      }
      // Approvals are kept until the deprovision they allowed is done.
      const stillPending = new Set(q().pendingDeletions().map((d) => d.id));
      q().setMeta(APPROVED_KEY, JSON.stringify(storedApprovals().filter((id) => stillPending.has(id))));
      lastRun = summaryOf(started, passes, before);
    } catch (err) {
      logger.error({ err: (err as Error).message }, 'sync run failed');
      lastRun = summaryOf(started, passes, before, { error: (err as Error).message });
    }
    hub.emit({ type: 'run', summary: lastRun, at: nowIso() });
    return lastRun;
  }

  async function driftIfDue(): Promise<void> {
    if (!dirSyncEnabledFor(ctx.mode) || !gate.result()?.ok) return;
    if (clock.now() - lastDriftAt < config.drift.intervalSeconds * 1000) return;
    await engine.reconcile({ full: false });
  }

  async function runLoop(): Promise<void> {
    while (running) {
      const summary = await engine.runOnce();
      await driftIfDue().catch((err) => logger.error({ err: (err as Error).message }, 'drift check failed'));
      if (!running) break;
      // Straight on while runs make progress; a run that moved nothing (rows waiting on a
      // manager, or on a retry time) waits, so nothing spins.
      const progressed = summary.applied + summary.created + summary.matched + summary.failed + summary.deprovisioned + summary.retried > 0;
      const busy = summary.queueDepth > 0 && !summary.blocked && progressed;
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, busy ? 10 : options.idleMs ?? 500);
      });
      wake = null;
    }
  }

  const engine = {
    start(): void {
      if (running) return;
      running = true;
      loop = runLoop();
    },
    async stop(): Promise<void> {
      running = false;
      wake?.();
      await loop;
      await chain;
      loop = null;
      queries?.close();
      queries = null;
    },
    runOnce: (): Promise<RunSummary> => serial(runOnceNow),
    preflight: (): Promise<PreflightResult> => serial(gate.check),
    status(): EngineStatus {
      const reason = store.sync.blockedReason();
      const held = decideDeletions();
      return {
        state: reason ? 'blocked' : held.length ? 'paused' : running ? 'running' : 'stopped',
        mode: ctx.mode,
        reasons: reason ? (gate.result()?.blocked.length ? gate.result()!.blocked : [reason]) : held.map((h) => `deprovisioning paused for source ${h.sourceId}: ${h.pending} pending`),
        warnings: gate.result()?.warnings ?? [],
        queueDepth: q().queueDepth(),
        counts: q().countsByState(),
        lastErrors: q().recentErrors(20),
        pendingDeletions: held,
        preflight: gate.result(),
        graph: exec.stats(),
        lastRun,
        lastDrift,
      };
    },
    telemetry(): EngineTelemetry {
      const use = (t: typeof throttle, capacity: number): BudgetUse => ({ capacity, available: t.available(), spent: t.spent(), pausedUntil: t.pausedUntil() });
      return {
        resources: q().countsByTypeAndState().map((r) => ({ type: r.type, state: r.state, count: r.n })),
        queueDepth: q().queueDepth(),
        oldestChangeAt: q().oldestDueChangeAt(),
        pendingDeletions: decideDeletions(),
        blocked: store.sync.blockedReason() !== null,
        graph: exec.stats(),
        writeBudget: use(throttle, config.graph.writeBudget.writes),
        resourceUnits: use(units, ruCapacity),
      };
    },
    plan(opts: { mode?: Mode } = {}): PlannedWrite[] {
      return planWrites(ctx, opts.mode);
    },
    retry(type?: ResourceType, id?: string): number {
      const n = store.sync.retry(type, id);
      wake?.();
      return n;
    },
    approveDeletions(): { approved: number } {
      // Held deprovisions as of now, including any a fresh process has not decided yet.
      decideDeletions();
      const ids = guard.approve();
      q().setMeta(APPROVED_KEY, JSON.stringify([...new Set([...storedApprovals(), ...ids])]));
      for (const id of ids) store.sync.retry('User', id);
      store.audit.append({ action: 'sync.deletions.approved', detail: { count: ids.length } });
      eventLog.approved(ids.length);
      wake?.();
      return { approved: ids.length };
    },
    reconcile(opts: { full?: boolean } = {}): Promise<DriftSummary> {
      return serial(async () => {
        if (!dirSyncEnabledFor(ctx.mode)) {
          return { full: Boolean(opts.full), examined: 0, drifted: [], reverted: 0, errors: [`drift is checked in user-sync and universal-sync; ${ctx.mode} allows direct edits in Entra`] };
        }
        if (!gate.result()) await gate.check();
        lastDriftAt = clock.now();
        lastDrift = await checkDrift(ctx, Boolean(opts.full));
        return lastDrift;
      });
    },
    onEvent(listener: SyncEventListener): () => void {
      return hub.on(listener);
    },
  };
  return engine;
}
