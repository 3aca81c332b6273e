// What every part of one engine shares: config, store, Graph, budget, clock, the tenant facts
// preflight read, and the small helpers that record a row's outcome in store.sync.
import type { Config, Mode } from '../config';
import type { Logger } from '../log';
import type { Store, SyncEngineQueries, SyncRow } from '../store';
import { retryDelay } from './backoff';
import type { Clock } from './clock';
import type { DeletionGuard } from './deletion-guard';
import type { SyncEvent } from './events';
import type { Executor } from './executor';
import type { OpOutcome } from './ops';
import type { SyncGraph } from './graph-port';
import type { TenantFacts } from './preflight';
import { redactSecrets } from '../graph/errors';

export type EngineFacts = TenantFacts;

export interface EngineContext {
  config: Config;
  /** Base of the absolute @odata.id references Graph expects. */
  graphBaseUrl: string;
  mode: Mode;
  store: Store;
  /** store.engine: the engine's read models and state. */
  queries: SyncEngineQueries;
  graph: SyncGraph;
  exec: Executor;
  clock: Clock;
  logger: Logger;
  guard: DeletionGuard;
  facts: EngineFacts;
  emit(event: SyncEvent): void;
  counters: RunCounters;
  /** Backoff for 5xx and network errors when Graph names no Retry-After. */
  retry: { baseMs: number; capMs: number };
  /** How long after a revoke signInSessionsValidFromDateTime is read back (Graph documents minutes). */
  tokenReadbackDelayMs: number;
  /** How long after a licence group membership change the users' licenseAssignmentStates are read back. */
  licenceReadbackDelayMs: number;
  /** A command that only looks (preflight, plan, status): preflight records no block in the store. */
  readOnly?: boolean;
  /** Values never to appear in a message the engine records (the Graph client secret). */
  secrets?: readonly (string | undefined)[];
  /** Graph ids created or matched inside inTransaction, recorded once it commits (src/sync/replication.ts). */
  linkedBuffer?: string[] | null;
}

export interface RunCounters {
  applied: number;
  failed: number;
  retried: number;
  created: number;
  matched: number;
  deprovisioned: number;
  /** Users found deleted in Graph and restored or unlinked for a new match. */
  recovered: number;
}

export function newCounters(): RunCounters {
  return { applied: 0, failed: 0, retried: 0, created: 0, matched: 0, deprovisioned: 0, recovered: 0 };
}

// Every message the engine records reaches lastError, the audit, SCIM and the dashboard: Graph's text
// goes through the same redaction as the client's errors (secrets, bearer tokens, JWTs, passwords).
const safe = (ctx: EngineContext, message: string) => redactSecrets(message, ctx.secrets);

/** Permanent: state error with Graph's message; waits for the next change or `retry`. */
export function failRow(ctx: EngineContext, row: SyncRow, raw: string): void {
  const message = safe(ctx, raw);
  ctx.store.sync.markFailed(row.type, row.id, row.desiredVersion, message);
  ctx.counters.failed++;
  ctx.emit({ type: 'error', resourceType: row.type, id: row.id, message, at: new Date(ctx.clock.now()).toISOString() });
}

/** Transient: stays pending and becomes due again after Retry-After or backoff. */
export function retryRow(ctx: EngineContext, row: SyncRow, message: string, retryAfterMs?: number): void {
  const delay = retryDelay(row.attempts, retryAfterMs, ctx.retry);
  ctx.store.sync.markRetry(row.type, row.id, safe(ctx, message), ctx.clock.now() + delay);
  ctx.counters.retried++;
}

/** A create Graph did not take: refused for good (error) or to try again later; the item is done for this pass. */
export function settleRefused(ctx: EngineContext, w: { row: SyncRow; done: boolean }, o: Exclude<OpOutcome, { kind: 'ok' }>): void {
  if (o.kind === 'failed') failRow(ctx, w.row, o.message);
  else retryRow(ctx, w.row, o.message, o.retryAfterMs);
  w.done = true;
}

/** Waiting on another resource (a manager, a member): due again on the next pass. */
export function waitRow(ctx: EngineContext, row: SyncRow, message: string): void {
  ctx.store.sync.markRetry(row.type, row.id, safe(ctx, message), ctx.clock.now());
}

/**
 * Records the outcomes of one Graph round trip in one store transaction: one commit for a chunk
 * of rows instead of one per row. Creation and match times go to the engine's own table (another
 * connection, which must not write while this one holds the lock) right after the commit.
 */
export function inTransaction<T>(ctx: EngineContext, fn: () => T): T {
  if (ctx.linkedBuffer) return ctx.store.transaction(fn);
  const buffer: string[] = [];
  ctx.linkedBuffer = buffer;
  try {
    return ctx.store.transaction(fn);
  } finally {
    ctx.linkedBuffer = null;
    if (buffer.length) ctx.queries.recordLinkedMany(buffer, ctx.clock.now());
  }
}

/** Everything up to the version read was written. */
export function appliedRow(ctx: EngineContext, row: SyncRow, opts: Parameters<Store['sync']['markApplied']>[3]): void {
  ctx.store.sync.markApplied(row.type, row.id, row.desiredVersion, opts);
  ctx.counters.applied++;
  ctx.emit({ type: 'applied', resourceType: row.type, id: row.id, version: row.desiredVersion, at: new Date(ctx.clock.now()).toISOString() });
}

/** Progress short of the desired version (a create, a match, part of a diff), kept across a crash. */
export function progressRow(ctx: EngineContext, row: SyncRow, opts: Parameters<Store['sync']['recordProgress']>[2]): void {
  ctx.store.sync.recordProgress(row.type, row.id, opts);
}

/**
 * Whatever one row raised while it was planned or applied: that row goes to `error` with the reason
 * (waiting for the next change or `retry`), the run goes on with every other row.
 */
export function failRowOnThrow(ctx: EngineContext, row: SyncRow, err: unknown): void {
  const reason = err instanceof Error ? err.message : String(err);
  ctx.logger.warn({ resourceType: row.type, id: row.id, err: safe(ctx, reason) }, 'resource could not be synced; others go on');
  failRow(ctx, row, `the bridge failed on this resource (fix it, or retry): ${reason}`);
}

/** The row as the store has it now, if it is still due (a retry after a partial pass starts from there). */
export function stillDue(ctx: EngineContext, row: SyncRow): SyncRow | null {
  const now = ctx.store.sync.get(row.type, row.id);
  if (!now || now.state === 'blocked' || now.nextAttemptAt > ctx.clock.now()) return null;
  return now.desiredVersion > now.appliedVersion || now.state === 'pending' ? now : null;
}

/**
 * A read-back of what Graph reports after a delay (sync_engine_readback): takes the rows of `kind`
 * that are due, then reads them `page` at a time. `read` leaves each done or schedules it again;
 * whatever it did not settle (a failed read) is released, due again on the next read-back.
 */
export async function readBackDuePages(ctx: EngineContext, kind: 'tokens' | 'licences', page: number, read: (ids: string[]) => Promise<void>): Promise<void> {
  if (!ctx.queries.takeDueReadbacks(kind, ctx.clock.now())) return;
  for (;;) {
    const ids = ctx.queries.takenReadbacks(kind, page);
    if (!ids.length) return;
    await read(ids);
    ctx.queries.releaseReadbacks(kind, ids);
  }
}
