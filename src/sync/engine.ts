// createSyncEngine: the level-triggered loop of SPEC section 7. Each run diffs what the store
// desires against what was applied and sends the minimal Graph writes under the write budget;
// preflight (section 6) gates every write but never ingress; drift (section 8) runs on its interval.
import type { Config, Mode } from '../config';
import type { GraphClient } from '../graph/client';
import { dirSyncEnabledFor } from '../rules/identity';
import { redactSecrets } from '../graph/errors';
import type { Logger } from '../log';
import type { ResourceType, Store, SyncStateName } from '../store';
import type { ResourceState } from '../store/sync-engine-queries';
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
import { createGate, TENANT_SWITCH_REFUSED_KEY } from './gate';
import { writesGroups } from './preflight';
import type { PreflightResult } from './preflight';
import { runPass, urgentGoesFirst } from './run-pass';
import { followInbound } from './inbound-follow';
import { usesInbound } from './inbound-state';
import { type FlushPolicy, flushInbound, inboundWaitsUntil } from './inbound-writer';
import { readBackDueTokens } from './user-apply';
import { readBackDueLicences, requeueOnAssignmentChange } from './license-groups';
import { createThrottle } from './throttle';

export type { PlannedWrite } from './plan';
export type { DriftSummary } from './drift';
export type { PreflightResult } from './preflight';
export type { SyncEventListener } from './events';

export interface SyncEngineOptions {
  config: Config;
  /** The Graph settings in effect when they differ from config.graph (the embedded simulator's). */
  graphConfig?: Config['graph'];
  store: Store;
  graph: GraphClient | SyncGraph;
  logger: Logger;
  clock?: Clock;
  /** Rows taken per pass. */
  batchSize?: number;
  /** $batch requests in flight. */
  concurrency?: number;
  /** Milliseconds on the engine's clock the loop sleeps when nothing is due (real ones on the system clock). */
  idleMs?: number;
  /** How long after a revoke signInSessionsValidFromDateTime is read back (default 5 minutes). */
  tokenReadbackDelayMs?: number;
  /** How long after a licence group membership change licenseAssignmentStates are read back (default 1 minute). */
  licenceReadbackDelayMs?: number;
  /** Backoff for 5xx and network errors (default 500 ms doubling to 60 s). */
  retry?: { baseMs: number; capMs: number };
  /** Commands that only look (preflight, plan, status): preflight records no block. */
  readOnly?: boolean;
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
  /** By state; `skipped` only when some group is skipped. */
  counts: Record<Exclude<SyncStateName, 'skipped'>, number> & { skipped?: number };
  lastErrors: { type: ResourceType; id: string; lastError: string }[];
  pendingDeletions: HeldSource[];
  preflight: PreflightResult | null;
  graph: ExecutorStats;
  /** The write and resource-unit budgets: capacity, what could be spent now, and any 429 pause in force. */
  budget: { writes: BudgetUse; resourceUnits: BudgetUse };
  lastRun: RunSummary | null;
  lastDrift: DriftSummary | null;
  /** Runs in a row that failed as a whole (0 after a run that completed). */
  consecutiveFailedRuns: number;
  /** The error of the last run that failed as a whole, kept until a run completes. */
  lastRunError: { at: string; message: string } | null;
  /** Runs that failed as a whole since the engine was created. */
  failedRuns: number;
  /**
   * graph.writer "inbound": records to send, sent and not yet reported, and reported but not visible in Entra
   * yet; `partialSendAt`: queued records too few for a full request wait for more until then (ISO).
   */
  inbound?: { queued: number; sent: number; awaiting: number; partialSendAt?: string };
}

/** What /healthz and /readyz read on every probe: the state and why, without the queue's counts (a scan of every row). */
export type EngineHealth = Pick<
  EngineStatus,
  'state' | 'reasons' | 'warnings' | 'pendingDeletions' | 'preflight' | 'consecutiveFailedRuns' | 'lastRunError' | 'failedRuns'
>;

export interface BudgetUse {
  capacity: number;
  perSeconds: number;
  available: number;
  /** ISO time until which Graph asked the engine to wait (Retry-After), or null. */
  pausedUntil: string | null;
}

/** What "sync now" did for one resource. */
export interface SyncNowResult {
  /** Why nothing was sent (preflight block, dry run, unknown resource). */
  refused?: string[];
  passes: number;
  /** The resource's sync row afterwards (a row never carries the password, only hasPendingPassword). */
  row: import('../store').SyncRow | null;
}

/** One budget's use: capacity, what could be spent now, spent since start, paused until (epoch ms). */
export interface BudgetCounters {
  capacity: number;
  available: number;
  spent: number;
  pausedUntil: number;
}

/** What /metrics reads at each scrape, beyond status(): cheap queries only. */
export interface EngineTelemetry {
  resources: { type: ResourceType; state: ResourceState; count: number }[];
  queueDepth: number;
  oldestChangeAt: string | null;
  pendingDeletions: HeldSource[];
  blocked: boolean;
  /** Runs in a row that failed as a whole (0 after a run that completed). */
  consecutiveFailedRuns: number;
  graph: ExecutorStats;
  writeBudget: BudgetCounters;
  resourceUnits: BudgetCounters;
}

export interface HeldDeletion {
  id: string;
  sourceId: string;
  userName: string;
  /** A SCIM delete, or a deactivation (active=false). */
  kind: 'delete' | 'deactivate';
}

export type SyncEngine = ReturnType<typeof createSyncEngine>;

const APPROVED_KEY = 'deletions.approved';
const PREFLIGHT_RECHECK_MS = 30_000;
const MAX_PASSES = 50;

/** user-revokesigninsessions: "there might be a small delay of a few minutes before tokens are revoked". */
export const TOKEN_READBACK_DELAY_MS = 5 * 60_000;
/** Group-based licensing is processed asynchronously ("shortly after" a user joins): read back after a minute, then every minute. */
const LICENCE_READBACK_DELAY_MS = 60_000;

/** The token and licence read-backs that are due (one indexed UPDATE each, changing nothing, when none is). */
async function readBackDue(ctx: EngineContext): Promise<void> {
  await readBackDueTokens(ctx);
  await readBackDueLicences(ctx);
}

function budgetUse(t: ReturnType<typeof createThrottle>, capacity: number, perSeconds: number, now: number): BudgetUse {
  const paused = t.pausedUntil();
  return { capacity, perSeconds, available: Math.floor(t.available()), pausedUntil: paused > now ? new Date(paused).toISOString() : null };
}

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
  const storedApprovals = () => JSON.parse(store.engine.getMeta(APPROVED_KEY) || '[]') as string[];
  const recent = store.engine
    .recentDeprovisions(new Date(clock.now() - DELETION_WINDOW_MS).toISOString())
    .map((r) => ({ sourceId: r.sourceId ?? '', atMs: Date.parse(r.at) }));
  const guard = createDeletionGuard({ threshold: config.deletionThreshold, clock, approved: storedApprovals(), recent });
  /** Held deprovisions as the store has them now (also right after a restart, or in a CLI process). */
  const decideDeletions = () => {
    const bySource = new Map<string, string[]>();
    for (const d of store.engine.pendingDeletions(ctx.mode === 'license-only')) bySource.set(d.sourceId, [...(bySource.get(d.sourceId) ?? []), d.id]);
    for (const [sourceId, ids] of bySource) guard.decide(sourceId, ids);
    return guard.held();
  };
  function health(): EngineHealth {
    const reason = store.sync.blockedReason();
    const held = decideDeletions();
    return {
      state: reason ? 'blocked' : held.length ? 'paused' : running ? 'running' : 'stopped',
      reasons: reason
        ? gate.result()?.blocked.length
          ? gate.result()!.blocked
          : [reason]
        : held.map((h) => `deprovisioning paused for source ${h.sourceId}: ${h.pending} pending`),
      warnings: gate.result()?.warnings ?? [],
      pendingDeletions: held,
      preflight: gate.result(),
      consecutiveFailedRuns,
      lastRunError,
      failedRuns,
    };
  }
  const emptyFacts: EngineFacts = {
    organizationId: null,
    tenantSyncEnabled: false,
    otherSyncEngine: false,
    skus: new Map(),
    skuByPart: {},
    federatedDomains: [],
  };
  const ctx: EngineContext = {
    config,
    graphBaseUrl: graphConfig.baseUrl,
    mode: config.mode,
    store,
    graph,
    exec,
    clock,
    logger,
    guard,
    facts: emptyFacts,
    counters: newCounters(),
    retry: options.retry ?? { baseMs: 500, capMs: 60_000 },
    tokenReadbackDelayMs: options.tokenReadbackDelayMs ?? TOKEN_READBACK_DELAY_MS,
    licenceReadbackDelayMs: options.licenceReadbackDelayMs ?? LICENCE_READBACK_DELAY_MS,
    secrets: [graphConfig.clientSecret],
    queries: store.engine,
    readOnly: Boolean(options.readOnly),
    emit: (e) => hub.emit(e),
  };

  const gate = createGate(ctx);
  const inboundCounts = () => {
    const c = store.inbound.counts();
    const waitsUntil = c.queued ? inboundWaitsUntil(ctx) : null;
    return { queued: c.queued, sent: c.sent, awaiting: c.awaiting, ...(waitsUntil !== null ? { partialSendAt: new Date(waitsUntil).toISOString() } : {}) };
  };
  let skippedRequeued = false;
  let lastRun: RunSummary | null = null;
  let consecutiveFailedRuns = 0;
  let failedRuns = 0;
  let lastRunError: { at: string; message: string } | null = null;
  let lastDrift: DriftSummary | null = null;
  let lastDriftAt = -Infinity;
  let running = false;
  let loop: Promise<void> | null = null;
  let wake: (() => void) | null = null;
  /** A write accepted while the loop was not sleeping (a run under way may have read the queue before it). */
  let changedAwake = false;
  let unsubscribeDirty: (() => void) | null = null;
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
      startedAt: new Date(started).toISOString(),
      durationMs: clock.now() - started,
      passes,
      applied: c.applied,
      created: c.created,
      matched: c.matched,
      failed: c.failed,
      retried: c.retried,
      deprovisioned: c.deprovisioned,
      writes: after.writes - before.writes,
      requests: after.requests - before.requests,
      throttled: after.throttled - before.throttled,
      blocked: null,
      queueDepth: store.engine.queueDepth(),
      ...extra,
    };
  }

  /** One run; `inbound`: which partial inbound requests its end sends (the loop's runs wait for fuller ones). */
  async function runOnceNow(inbound: FlushPolicy): Promise<RunSummary> {
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
        for (const w of planned)
          logger.info({ resourceType: w.resourceType, id: w.id, method: w.method, url: w.url.split('?')[0] }, 'dry run: planned Graph write');
        return (lastRun = summaryOf(started, 0, before, { planned: planned.length }));
      }
      const refused = await gate.ensureTenantSwitch();
      if (refused) return (lastRun = summaryOf(started, 0, before, { blocked: gate.result()?.blocked ?? [refused] }));
      if (!skippedRequeued && writesGroups(config, ctx.mode)) {
        // Groups skipped while groups were not pushed (groups.push was off) are pushed now.
        const n = store.sync.requeueSkippedGroups();
        if (n) logger.info({ groups: n }, 'groups skipped before are pushed now');
        skippedRequeued = true;
      }
      if (!ctx.readOnly) requeueOnAssignmentChange(ctx);
      guard.approveIds(storedApprovals());
      for (; passes < MAX_PASSES; passes++) {
        const rows = store.sync.listDue(clock.now(), options.batchSize ?? 1000, config.sync);
        if (!rows.length) break;
        const c = ctx.counters;
        const progress = () => c.applied + c.created + c.matched + c.failed + c.deprovisioned + c.recovered;
        const before = progress();
        await runPass(ctx, rows);
        // What Graph reports after a delay (licence states, token validity) is read back as it falls due:
        // a run can last hours (an initial load), and an error such as a licence CountViolation shows then.
        await readBackDue(ctx);
        if (progress() === before) break;
      }
      if (usesInbound(ctx)) {
        await flushInbound(ctx, inbound);
        await followInbound(ctx);
      }
      await readBackDue(ctx);
      // Approvals are kept until the deprovision they allowed is done.
      const stillPending = new Set(store.engine.pendingDeletions(ctx.mode === 'license-only').map((d) => d.id));
      store.engine.setMeta(APPROVED_KEY, JSON.stringify(storedApprovals().filter((id) => stillPending.has(id))));
      lastRun = summaryOf(started, passes, before);
      consecutiveFailedRuns = 0;
      lastRunError = null;
    } catch (err) {
      const message = redactSecrets((err as Error).message, ctx.secrets);
      consecutiveFailedRuns++;
      failedRuns++;
      lastRunError = { at: nowIso(), message };
      logger.error({ err: message, consecutiveFailedRuns }, 'sync run failed');
      lastRun = summaryOf(started, passes, before, { error: message });
    }
    hub.emit({ type: 'run', summary: lastRun, at: nowIso() });
    return lastRun;
  }

  async function driftIfDue(): Promise<void> {
    // Under the inbound writer the provisioning service's own source-of-authority rules handle drift.
    if (!dirSyncEnabledFor(ctx.mode) || !gate.result()?.ok || usesInbound(ctx)) return;
    if (clock.now() - lastDriftAt < config.drift.intervalSeconds * 1000) return;
    await engine.reconcile({ full: false });
  }

  async function runLoop(): Promise<void> {
    while (running) {
      // A request of fewer than 50 inbound records waits for more (graph.inbound.batchWaitSeconds); the
      // loop's idle runs send it once due, with no further change needed.
      changedAwake = false;
      const summary = await serial(() => runOnceNow('due'));
      await driftIfDue().catch((err) => logger.error({ err: (err as Error).message }, 'drift check failed'));
      if (!running) break;
      // Straight on while runs make progress; a run that moved nothing (rows waiting on a
      // manager, or on a retry time) waits, so nothing spins.
      const progressed = summary.applied + summary.created + summary.matched + summary.failed + summary.deprovisioned + summary.retried > 0;
      // A write accepted during the run or the drift check woke no one: the loop goes on after the same
      // short pause, not after idleMs (which held such a change up to 500 ms).
      const busy = (summary.queueDepth > 0 && !summary.blocked && progressed) || changedAwake;
      // The clock's sleep: a scaled or manual clock runs the loop in its own time; retry() and stop() wake it.
      const woken = new Promise<void>((resolve) => (wake = resolve));
      // Woken early (a write, retry(), stop()), the idle wait is dropped with its timer: a stopped engine leaves none behind.
      const idle = new AbortController();
      await Promise.race([clock.sleep(busy ? 10 : (options.idleMs ?? 500), idle.signal), woken]);
      idle.abort();
      wake = null;
    }
  }

  const engine = {
    start(): void {
      if (running) return;
      running = true;
      // An accepted SCIM write wakes an idle engine at once instead of after idleMs; an urgent change
      // of a user in Graph, or of a group where the mode writes groups, also goes at once during a pass
      // (after the writer's transaction, so that it reads the committed row).
      unsubscribeDirty = store.sync.onDirty((urgent, type) => {
        if (wake) wake();
        else changedAwake = true;
        if (urgent && urgentGoesFirst(ctx, type)) setImmediate(() => exec.kick());
      });
      loop = runLoop();
    },
    async stop(): Promise<void> {
      running = false;
      unsubscribeDirty?.();
      unsubscribeDirty = null;
      wake?.();
      await loop;
      await chain;
      loop = null;
    },
    /** A run asked for (a test, a one-shot command): it sends every inbound record queued, full request or not. */
    runOnce: (): Promise<RunSummary> => serial(() => runOnceNow('all')),
    preflight: (): Promise<PreflightResult> => serial(gate.check),
    health,
    status(): EngineStatus {
      const c = health();
      return {
        state: c.state,
        mode: ctx.mode,
        reasons: c.reasons,
        warnings: c.warnings,
        queueDepth: store.engine.queueDepth(),
        counts: store.engine.countsByState(),
        lastErrors: store.engine.recentErrors(20),
        pendingDeletions: c.pendingDeletions,
        preflight: c.preflight,
        graph: exec.stats(),
        budget: {
          writes: budgetUse(throttle, config.graph.writeBudget.writes, config.graph.writeBudget.perSeconds, clock.now()),
          resourceUnits: budgetUse(units, ruCapacity, ruSeconds, clock.now()),
        },
        lastRun,
        lastDrift,
        consecutiveFailedRuns: c.consecutiveFailedRuns,
        lastRunError: c.lastRunError,
        failedRuns: c.failedRuns,
        ...(usesInbound(ctx) ? { inbound: inboundCounts() } : {}),
      };
    },
    telemetry(): EngineTelemetry {
      const use = (t: typeof throttle, capacity: number): BudgetCounters => ({
        capacity,
        available: t.available(),
        spent: t.spent(),
        pausedUntil: t.pausedUntil(),
      });
      return {
        resources: store.engine.countsByTypeAndState().map((r) => ({ type: r.type, state: r.state, count: r.n })),
        queueDepth: store.engine.queueDepth(),
        oldestChangeAt: store.engine.oldestDueChangeAt(),
        pendingDeletions: decideDeletions(),
        blocked: store.sync.blockedReason() !== null,
        consecutiveFailedRuns,
        graph: exec.stats(),
        writeBudget: use(throttle, config.graph.writeBudget.writes),
        resourceUnits: use(units, ruCapacity),
      };
    },
    plan(opts: { mode?: Mode } = {}): PlannedWrite[] {
      return planWrites(ctx, opts.mode);
    },
    retry(type?: ResourceType, id?: string): number {
      // A refused tenant switch is tried again on retry (with the preflight that precedes it).
      if (store.engine.getMeta(TENANT_SWITCH_REFUSED_KEY)) {
        store.engine.setMeta(TENANT_SWITCH_REFUSED_KEY, '');
        gate.invalidate();
      }
      const n = store.sync.retry(type, id);
      wake?.();
      return n;
    },
    /** The deprovisions the deletion threshold holds now (of one source, or all), by user: what approveDeletions releases. */
    heldDeletions(sourceId?: string): HeldDeletion[] {
      decideDeletions();
      const pending = new Map(store.engine.pendingDeletions(ctx.mode === 'license-only').map((d) => [d.id, d]));
      return guard
        .heldIds()
        .filter((h) => sourceId === undefined || h.sourceId === sourceId)
        .flatMap(({ sourceId: source, ids }) =>
          ids.map((id) => ({ id, sourceId: source, userName: pending.get(id)?.userName ?? '', kind: pending.get(id)?.kind ?? 'delete' })),
        );
    },
    approveDeletions(sourceId?: string): { approved: number; released: HeldDeletion[] } {
      // Held deprovisions as of now, including any a fresh process has not decided yet.
      const released = engine.heldDeletions(sourceId);
      const ids = guard.approve(sourceId);
      store.engine.setMeta(APPROVED_KEY, JSON.stringify([...new Set([...storedApprovals(), ...ids])]));
      for (const id of ids) store.sync.retry('User', id);
      store.audit.append({ action: 'sync.deletions.approved', sourceId: sourceId ?? null, detail: { count: ids.length } });
      eventLog.approved(ids.length);
      wake?.();
      return { approved: ids.length, released };
    },
    /**
     * The operator refuses a source's held deprovisions: nothing is sent to Graph, the accounts stay
     * as they are there (still linked to their tombstones), and each is recorded in the audit.
     */
    rejectDeletions(sourceId: string): { rejected: number } {
      const held = decideDeletions().find((h) => h.sourceId === sourceId);
      if (!held) return { rejected: 0 };
      const approvedIds = new Set(storedApprovals());
      const ids = store.engine
        .pendingDeletions()
        .filter((d) => d.sourceId === sourceId && !approvedIds.has(d.id))
        .map((d) => d.id);
      store.transaction(() => {
        for (const id of ids) {
          const row = store.sync.get('User', id);
          if (!row) continue;
          store.sync.markApplied('User', id, row.desiredVersion, { appliedSnapshot: row.appliedSnapshot, graphId: row.graphId });
          store.audit.append({ sourceId, action: 'sync.deletions.rejected', resourceType: 'User', resourceId: id, detail: { graphId: row.graphId } });
        }
      });
      guard.decide(sourceId, []);
      return { rejected: ids.length };
    },
    /**
     * Provision on demand: one resource now, whatever its state, outside the run loop (serialised
     * with it). Preflight still gates it; the Graph requests it makes are the graph log's.
     */
    syncNow(type: ResourceType, id: string): Promise<SyncNowResult> {
      return serial(async () => {
        // A sync row carries no password, only whether one is pending.
        const view = () => store.sync.get(type, id);
        if (!store.sync.get(type, id)) return { refused: [`no ${type} ${id}`], passes: 0, row: null };
        if (!gate.result() || !ctx.facts.organizationId || store.sync.blockedReason() !== null) await gate.check();
        const pf = gate.result();
        if (!pf?.ok) return { refused: pf?.blocked ?? ['preflight has not answered'], passes: 0, row: view() };
        if (config.graph.dryRun) return { refused: ['graph.dryRun is set: nothing is sent to Graph'], passes: 0, row: view() };
        await gate.ensureTenantSwitch();
        guard.approveIds(storedApprovals());
        store.sync.retry(type, id);
        ctx.counters = newCounters();
        let passes = 0;
        for (; passes < 5; passes++) {
          const row = store.sync.get(type, id);
          if (!row || row.state === 'blocked' || !(row.desiredVersion > row.appliedVersion || row.state === 'pending')) break;
          const c = ctx.counters;
          const progress = () => c.applied + c.created + c.matched + c.failed + c.deprovisioned + c.recovered;
          const before = progress();
          await runPass(ctx, [row]);
          if (progress() === before) {
            passes++;
            break;
          }
        }
        // The operator asked: the user's inbound record goes now, with whatever else is queued.
        if (usesInbound(ctx)) await flushInbound(ctx, 'all');
        wake?.();
        return { passes, row: view() };
      });
    },
    reconcile(opts: { full?: boolean } = {}): Promise<DriftSummary> {
      return serial(async () => {
        // Resources marked synced under another mode (a mode change not followed by a re-diff) are diffed again.
        const requeued = opts.full ? store.sync.requeueAppliedUnderOtherMode(ctx.mode) : 0;
        if (requeued) {
          logger.info({ requeued, mode: ctx.mode }, 'reconcile: resources applied under another mode queued again');
          store.audit.append({ action: 'sync.requeue.mode', detail: { mode: ctx.mode, count: requeued } });
          wake?.();
        }
        const extra = opts.full ? { requeued } : {};
        if (!dirSyncEnabledFor(ctx.mode)) {
          return {
            full: Boolean(opts.full),
            examined: 0,
            drifted: [],
            reverted: 0,
            errors: [`drift is checked in user-sync and universal-sync; ${ctx.mode} allows direct edits in Entra`],
            ...extra,
          };
        }
        if (!gate.result()) await gate.check();
        lastDriftAt = clock.now();
        lastDrift = { ...(await checkDrift(ctx, Boolean(opts.full))), ...extra };
        return lastDrift;
      });
    },
    onEvent(listener: SyncEventListener): () => void {
      return hub.on(listener);
    },
  };
  return engine;
}
