// Per-resource sync bookkeeping (docs/internals.md, "Sync bookkeeping"). scim/ writes the
// dirty mark inside its transaction; sync/ reads due rows and records what it applied.
import type { Database } from 'better-sqlite3';
import type { Mode } from '../config';
import type { ResourceType, SyncRow, SyncStateName, SyncWrite } from './types';

// A permanent error waits for the next change or an explicit retry.
const NEVER = Number.MAX_SAFE_INTEGER;
const BLOCK_KEY = 'sync.blocked';

interface Row {
  type: ResourceType;
  id: string;
  desired_version: number;
  applied_version: number;
  applied_snapshot: string | null;
  graph_id: string | null;
  state: SyncStateName;
  last_error: string | null;
  attempts: number;
  next_attempt_at: number;
  dir_sync_enabled: number | null;
  tokens_valid_from: string | null;
  applied_tokens_valid_from: string | null;
  graph_tokens_valid_from: string | null;
  pending_password: string | null;
  deleted: number;
}

function toSyncRow(r: Row): SyncRow {
  return {
    type: r.type,
    id: r.id,
    desiredVersion: r.desired_version,
    appliedVersion: r.applied_version,
    appliedSnapshot: r.applied_snapshot === null ? null : JSON.parse(r.applied_snapshot),
    graphId: r.graph_id,
    state: r.state,
    lastError: r.last_error,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    dirSyncEnabled: r.dir_sync_enabled === null ? null : r.dir_sync_enabled === 1,
    tokensValidFrom: r.tokens_valid_from,
    appliedTokensValidFrom: r.applied_tokens_valid_from,
    graphTokensValidFrom: r.graph_tokens_valid_from,
    pendingPassword: r.pending_password,
    deleted: r.deleted === 1,
  };
}

export interface MarkAppliedOptions {
  appliedSnapshot?: unknown;
  graphId?: string | null;
  appliedTokensValidFrom?: string | null;
  graphTokensValidFrom?: string | null;
}

export type SyncStore = ReturnType<typeof createSyncStore>;

function appliedParams(opts: MarkAppliedOptions, mode: Mode) {
  return {
    snapshot: opts.appliedSnapshot === undefined ? null : JSON.stringify(opts.appliedSnapshot),
    graphId: opts.graphId ?? null,
    appliedTvf: opts.appliedTokensValidFrom ?? null,
    graphTvf: opts.graphTokensValidFrom ?? null,
    mode,
  };
}

/** `mode`: the mode this process applies under, recorded with each applied row. */
export function createSyncStore(db: Database, mode: Mode) {
  const cols = `type, id, desired_version, applied_version, applied_snapshot, graph_id, state, last_error, attempts,
    next_attempt_at, dir_sync_enabled, tokens_valid_from, applied_tokens_valid_from, graph_tokens_valid_from,
    pending_password, deleted`;
  const q = {
    get: db.prepare(`SELECT ${cols} FROM sync_state WHERE type = ? AND id = ?`),
    due: db.prepare(`SELECT ${cols} FROM sync_state
      WHERE state <> 'blocked' AND (desired_version > applied_version OR state = 'pending') AND next_attempt_at <= ?
      ORDER BY dirty_seq LIMIT ?`),
    nextSeq: db.prepare('SELECT coalesce(max(dirty_seq), 0) + 1 FROM sync_state').pluck(),
    blockedReason: db.prepare(`SELECT value FROM meta WHERE key = '${BLOCK_KEY}'`).pluck(),
    dirty: db.prepare(`INSERT INTO sync_state (type, id, desired_version, state, last_error, dirty_seq, deleted,
        dir_sync_enabled, tokens_valid_from, pending_password, password_version)
      VALUES (@type, @id, 1, @state, @lastError, @seq, @deleted, @dirSync, @tvf, @pwd, CASE WHEN @pwd IS NULL THEN NULL ELSE 1 END)
      ON CONFLICT (type, id) DO UPDATE SET
        desired_version = desired_version + 1,
        state = @state, last_error = @lastError, attempts = 0, next_attempt_at = 0, dirty_seq = @seq,
        deleted = @deleted,
        dir_sync_enabled = coalesce(@dirSync, dir_sync_enabled),
        tokens_valid_from = coalesce(@tvf, tokens_valid_from),
        pending_password = coalesce(@pwd, pending_password),
        password_version = CASE WHEN @pwd IS NULL THEN password_version ELSE desired_version + 1 END`),
    applied: db.prepare(`UPDATE sync_state SET
        applied_version = @version,
        state = CASE WHEN state = 'blocked' THEN 'blocked' WHEN @version >= desired_version THEN 'synced' ELSE 'pending' END,
        last_error = CASE WHEN state = 'blocked' THEN last_error ELSE NULL END,
        attempts = 0, next_attempt_at = 0,
        applied_snapshot = @snapshot,
        applied_mode = @mode,
        graph_id = coalesce(@graphId, graph_id),
        applied_tokens_valid_from = coalesce(@appliedTvf, applied_tokens_valid_from),
        graph_tokens_valid_from = coalesce(@graphTvf, graph_tokens_valid_from),
        pending_password = CASE WHEN password_version IS NOT NULL AND @version >= password_version THEN NULL ELSE pending_password END,
        password_version = CASE WHEN password_version IS NOT NULL AND @version >= password_version THEN NULL ELSE password_version END
      WHERE type = @type AND id = @id`),
    // Failed for good at @version: error while that is still the desired version (due never: the next
    // change or `retry` wakes it); a newer change keeps the row pending and due now.
    failed: db.prepare(`UPDATE sync_state SET
        last_error = @message, attempts = attempts + 1,
        state = CASE WHEN state = 'blocked' THEN 'blocked' WHEN @version >= desired_version THEN 'error' ELSE 'pending' END,
        next_attempt_at = CASE WHEN @version >= desired_version THEN ${NEVER} ELSE 0 END
      WHERE type = @type AND id = @id`),
    // Transient: still pending, due again at @retryAt.
    retryLater: db.prepare(`UPDATE sync_state SET
        last_error = @message, attempts = attempts + 1,
        state = CASE WHEN state = 'blocked' THEN 'blocked' ELSE 'pending' END,
        next_attempt_at = @retryAt
      WHERE type = @type AND id = @id`),
    // Part of the work is done (a create, a match, part of a diff): keep what Graph now holds, and keep
    // the row behind its desired version so it stays due; a crash resumes from here.
    progress: db.prepare(`UPDATE sync_state SET
        applied_version = min(applied_version, desired_version - 1),
        state = CASE WHEN state = 'blocked' THEN 'blocked' ELSE 'pending' END,
        last_error = CASE WHEN state = 'blocked' THEN last_error ELSE NULL END,
        attempts = 0, next_attempt_at = 0,
        applied_snapshot = @snapshot,
        applied_mode = @mode,
        graph_id = coalesce(@graphId, graph_id),
        applied_tokens_valid_from = coalesce(@appliedTvf, applied_tokens_valid_from),
        graph_tokens_valid_from = coalesce(@graphTvf, graph_tokens_valid_from)
      WHERE type = @type AND id = @id`),
    setBlockReason: db.prepare(`INSERT INTO meta (key, value) VALUES ('${BLOCK_KEY}', ?)
      ON CONFLICT (key) DO UPDATE SET value = excluded.value`),
    clearBlockReason: db.prepare(`DELETE FROM meta WHERE key = '${BLOCK_KEY}'`),
    // A skipped group is not pushed either way: it keeps saying why.
    blockAll: db.prepare(`UPDATE sync_state SET state = 'blocked', last_error = ? WHERE state <> 'skipped'`),
    skipped: db.prepare(`UPDATE sync_state SET
        applied_version = @version,
        state = CASE WHEN state = 'blocked' THEN 'blocked' WHEN @version >= desired_version THEN 'skipped' ELSE 'pending' END,
        last_error = CASE WHEN state = 'blocked' THEN last_error ELSE @reason END,
        attempts = 0, next_attempt_at = 0, applied_mode = @mode
      WHERE type = @type AND id = @id`),
    // Users in error for want of a seat: lastError starts 'no free seat of SKU <part>: ' (src/sync/user-apply.ts).
    seatShortages: db.prepare(`SELECT substr(last_error, 21, instr(substr(last_error, 21), ':') - 1) AS sku, count(*) AS n
      FROM sync_state WHERE type = 'User' AND state = 'error' AND last_error LIKE 'no free seat of SKU %' GROUP BY sku`),
    requeueSkipped: db.prepare(`UPDATE sync_state SET desired_version = desired_version + 1, state = 'pending',
        last_error = NULL, attempts = 0, next_attempt_at = 0 WHERE type = 'Group' AND state = 'skipped'`),
    unblockAll: db.prepare(`UPDATE sync_state SET
        state = CASE WHEN desired_version > applied_version THEN 'pending' ELSE 'synced' END,
        last_error = NULL, attempts = 0, next_attempt_at = 0
      WHERE state = 'blocked'`),
    retryAll: db.prepare(`UPDATE sync_state SET state = 'pending', attempts = 0, next_attempt_at = 0, last_error = NULL
      WHERE state = 'error' AND (@type IS NULL OR type = @type)`),
    retryOne: db.prepare(`UPDATE sync_state SET state = CASE WHEN state = 'blocked' THEN 'blocked' ELSE 'pending' END,
        attempts = 0, next_attempt_at = 0, last_error = CASE WHEN state = 'blocked' THEN last_error ELSE NULL END
      WHERE type = @type AND id = @id`),
    setGraphId: db.prepare('UPDATE sync_state SET graph_id = ? WHERE type = ? AND id = ?'),
    // Applied, but under another mode's attribute sets (or before the mode was recorded per row).
    appliedUnderOtherMode: db.prepare(`UPDATE sync_state SET desired_version = desired_version + 1,
        state = 'pending', attempts = 0, next_attempt_at = 0, last_error = NULL
      WHERE deleted = 0 AND state IN ('synced', 'skipped') AND applied_version > 0 AND (applied_mode IS NULL OR applied_mode <> ?)`),
  };

  /** The dirty mark every accepted write makes, inside the caller's transaction. */
  function markDirty(type: ResourceType, id: string, opts: { deleted?: boolean; sync?: SyncWrite } = {}): void {
    const reason = q.blockedReason.get() as string | undefined;
    const s = opts.sync ?? {};
    q.dirty.run({
      type,
      id,
      state: reason === undefined ? 'pending' : 'blocked',
      lastError: reason ?? null,
      seq: q.nextSeq.get(),
      deleted: opts.deleted ? 1 : 0,
      dirSync: s.dirSyncEnabled === undefined ? null : s.dirSyncEnabled ? 1 : 0,
      tvf: s.tokensValidFrom ?? null,
      pwd: s.pendingPassword ?? null,
    });
  }

  return {
    markDirty,
    /** Rows to work on: behind or pending, not blocked, due by nowMs; oldest change first. */
    listDue(nowMs: number, limit: number): SyncRow[] {
      return (q.due.all(nowMs, limit) as Row[]).map(toSyncRow);
    },
    get(type: ResourceType, id: string): SyncRow | null {
      const r = q.get.get(type, id) as Row | undefined;
      return r ? toSyncRow(r) : null;
    },
    /** Everything up to `version` is in Graph: synced once that is the desired version, else still pending. */
    markApplied(type: ResourceType, id: string, version: number, opts: MarkAppliedOptions = {}): void {
      q.applied.run({ type, id, version, ...appliedParams(opts, mode) });
    },
    /** Progress short of the desired version, kept across a crash; the row stays due. */
    recordProgress(type: ResourceType, id: string, opts: MarkAppliedOptions = {}): void {
      q.progress.run({ type, id, ...appliedParams(opts, mode) });
    },
    /** Graph refused `version` for good: state error until the next change or `retry` (a newer change stays due). */
    markFailed(type: ResourceType, id: string, version: number, message: string): void {
      q.failed.run({ type, id, version, message });
    },
    /** A transient failure, or waiting on another resource: still pending, due again at retryAtMs. */
    markRetry(type: ResourceType, id: string, message: string, retryAtMs: number): void {
      q.retryLater.run({ type, id, message, retryAt: retryAtMs });
    },
    /**
     * Resources recorded synced though last applied under another mode than `current` (or before
     * the mode was recorded per row) are diffed again: due now with a new desired version.
     * Returns how many. reconcile --full calls it.
     */
    requeueAppliedUnderOtherMode(current: Mode): number {
      return q.appliedUnderOtherMode.run(current).changes;
    },
    /** Nothing to write for this version by choice (a group the mode does not push): state `skipped`, `reason` as lastError. */
    markSkipped(type: ResourceType, id: string, version: number, reason: string): void {
      q.skipped.run({ type, id, version, reason, mode });
    },
    /** Users waiting for a seat, by SKU (part number when the tenant named it), for /metrics. */
    seatShortages(): Record<string, number> {
      return Object.fromEntries((q.seatShortages.all() as { sku: string; n: number }[]).map((r) => [r.sku, r.n]));
    },
    /** Groups skipped earlier are diffed again (the bridge now pushes groups). Returns how many. */
    requeueSkippedGroups(): number {
      return q.requeueSkipped.run().changes;
    },
    /** Blocks every row (preflight failed); writes arriving while blocked are blocked too. */
    markBlocked(reason: string): void {
      db.transaction(() => {
        q.setBlockReason.run(reason);
        q.blockAll.run(reason);
      })();
    },
    unblockAll(): void {
      db.transaction(() => {
        q.clearBlockReason.run();
        q.unblockAll.run();
      })();
    },
    blockedReason(): string | null {
      return (q.blockedReason.get() as string | undefined) ?? null;
    },
    /** Errors of one type (or all) back to pending; with an id, that one resource whatever its state. */
    retry(type?: ResourceType, id?: string): number {
      if (type && id) return q.retryOne.run({ type, id }).changes;
      return q.retryAll.run({ type: type ?? null }).changes;
    },
    setGraphId(type: ResourceType, id: string, graphId: string): void {
      q.setGraphId.run(graphId, type, id);
    },
  };
}
