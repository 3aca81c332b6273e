// Sends planned ops to Graph: packed into $batch requests, each write paid for from the write
// budget first, a few batches in flight, and every per-item answer sorted into ok / retry /
// failed. A 429 anywhere (envelope or item) pauses the whole budget for its Retry-After.
// Retrying is the caller's decision: outcomes come back, nothing is resent here.
// Before each $batch a pass may let urgent work go first (preempt), and the engine runs that work
// at once when an urgent change is accepted (kick): a change to a user already in Graph then waits
// for the requests in flight, not for the rest of a chunk of creations.
import type { Logger } from '../log';
import { packBatches } from './batcher';
import type { SyncGraph } from './graph-port';
import { classifyThrown } from '../graph/errors';
import { classifyResponse, outcomeOf, resourceUnitCost, type GraphOp, type OpOutcome } from './ops';
import type { Throttle } from './throttle';

export interface ExecutorStats {
  requests: number;
  writes: number;
  throttled: number;
  /** Milliseconds of pause the 429s' Retry-After added (overlapping pauses counted once). */
  throttledMs: number;
  batches: number;
}

export interface Executor {
  run(ops: GraphOp[]): Promise<Map<string, OpOutcome>>;
  /**
   * The same executor for urgent work: its writes take the next free budget and it is not preempted
   * itself. A flag carried by the caller's context (run-pass.ts urgentContext), not by async context
   * tracking, which would put a hook on every promise and socket of the process, SCIM requests included.
   */
  urgent: Executor;
  stats(): ExecutorStats;
  /** Work run before each $batch that is not itself urgent (null: none), e.g. urgent changes that arrived meanwhile. */
  preempt(hook: (() => Promise<void>) | null): void;
  /** Urgent work arrived: runs the preemption hook now, alongside the requests under way (nothing when none is set). */
  kick(): void;
}

export interface ExecutorOptions {
  graph: SyncGraph;
  throttle: Throttle;
  /** The resource-unit budget every request (read or write) spends from. */
  units?: Throttle;
  logger: Logger;
  /** $batch requests in flight at once. */
  concurrency?: number;
  /** Fallback pause when Graph sends 429 without Retry-After. */
  defaultThrottleMs?: number;
  now?: () => number;
}

export function createExecutor(options: ExecutorOptions): Executor {
  const { graph, throttle, logger } = options;
  const concurrency = options.concurrency ?? 4;
  const stats: ExecutorStats = { requests: 0, writes: 0, throttled: 0, throttledMs: 0, batches: 0 };

  /** A 429, per item or for the whole $batch, pauses both budgets for its Retry-After. */
  function pauseFor(retryAfter: number | undefined): void {
    stats.throttled++;
    const ms = retryAfter ?? options.defaultThrottleMs ?? 1000;
    const now = options.now?.() ?? Date.now();
    const before = Math.max(throttle.pausedUntil(), now);
    throttle.pause(ms);
    const added = Math.max(0, throttle.pausedUntil() - before);
    stats.throttledMs += added;
    // One line per pause that moved the resume time (parallel 429s of one window log once).
    if (added > 0) logger.info({ retryAfterMs: ms, resumeAt: new Date(throttle.pausedUntil()).toISOString() }, 'Graph throttled (429): writes paused');
    options.units?.pause(ms);
  }

  let preemptHook: (() => Promise<void>) | null = null;

  async function runBatch(batch: GraphOp[], out: Map<string, OpOutcome>, urgent: boolean): Promise<void> {
    if (!urgent && preemptHook) await preemptHook();
    const writes = batch.filter((op) => op.write).length;
    if (writes) await throttle.acquire(writes, urgent);
    if (options.units)
      await options.units.acquire(
        batch.reduce((n, op) => n + resourceUnitCost(op), 0),
        urgent,
      );
    stats.batches++;
    stats.requests += batch.length;
    stats.writes += writes;
    try {
      const responses = batch.length === 1 && !batch[0].dependsOn ? [await graph.send(batch[0])] : await graph.batch(batch);
      responses.forEach((res, i) => {
        const outcome = classifyResponse({ ...res, id: batch[i].id }, options.now?.());
        if (outcome.kind === 'retry' && outcome.throttled) pauseFor(outcome.retryAfterMs);
        out.set(batch[i].id, outcome);
      });
    } catch (err) {
      const outcome = outcomeOf(classifyThrown(err), { thrown: true });
      if (outcome.kind === 'retry' && outcome.throttled) pauseFor(outcome.retryAfterMs);
      logger.warn({ batch: batch.length, status: outcome.status, err: (err as Error).message }, 'graph batch failed');
      for (const op of batch) out.set(op.id, outcome);
    }
  }

  async function run(ops: GraphOp[], urgent: boolean): Promise<Map<string, OpOutcome>> {
    const out = new Map<string, OpOutcome>();
    const { batches, deferred } = packBatches(ops);
    for (const op of deferred) out.set(op.id, { kind: 'retry', status: 0, message: 'deferred to the next $batch', throttled: false });
    let next = 0;
    const worker = async () => {
      while (next < batches.length) await runBatch(batches[next++], out, urgent);
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, batches.length) }, worker));
    return out;
  }

  const shared = {
    stats: () => ({ ...stats }),
    preempt(hook: (() => Promise<void>) | null) {
      preemptHook = hook;
    },
    kick() {
      preemptHook?.().catch((err: unknown) => logger.error({ err: (err as Error).message }, 'urgent changes failed'));
    },
  };
  // Urgent work that runs more urgent work stays urgent: the view is its own urgent view.
  const urgent: Executor = {
    ...shared,
    run: (ops) => run(ops, true),
    get urgent() {
      return urgent;
    },
  };
  return { ...shared, run: (ops) => run(ops, false), urgent };
}
