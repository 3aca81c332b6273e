// Per-resource sync bookkeeping (docs/internals.md, "Sync bookkeeping"). scim/ writes the
// dirty mark inside its transaction; sync/ reads due rows and records what it applied.
import type { Database } from 'better-sqlite3';
import type { Mode } from '../config';
import type { SecretBox } from './secrets';
import type { ResourceType, SyncRow, SyncStateName, SyncView, SyncWrite } from './types';

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
  has_pending_password: number;
  deleted: number;
  urgent: number;
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
    hasPendingPassword: r.has_pending_password === 1,
    deleted: r.deleted === 1,
    urgent: r.urgent === 1,
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

// The pending password is stored sealed (secrets.ts) and never leaves through a row: only
// revealPendingPassword, which the engine calls to write it to Graph, opens it.
const contextOf = (type: ResourceType, id: string) => `sync_state.pending_password:${type}:${id}`;

/** `mode`: the mode this process applies under, recorded with each applied row. */
export function createSyncStore(db: Database, box: SecretBox, mode: Mode) {
  const cols = `type, id, desired_version, applied_version, applied_snapshot, graph_id, state, last_error, attempts,
    next_attempt_at, dir_sync_enabled, tokens_valid_from, applied_tokens_valid_from, graph_tokens_valid_from,
    pending_password IS NOT NULL AS has_pending_password, deleted, urgent`;
  const q = {
    sealed: db.prepare(`SELECT pending_password FROM sync_state WHERE type = ? AND id = ?`).pluck(),
    unsealed: db.prepare(`SELECT type, id, pending_password AS pwd FROM sync_state WHERE pending_password IS NOT NULL AND pending_password NOT LIKE 'v1:%'`),
    reseal: db.prepare(`UPDATE sync_state SET pending_password = ? WHERE type = ? AND id = ?`),
    get: db.prepare(`SELECT ${cols} FROM sync_state WHERE type = ? AND id = ?`),
    // The due rows, oldest change first, two ways (migration 15): walking the pending rows in dirty_seq
    // order (sync_state_due) costs one table read per pending row until `limit` are due, so it suits a
    // queue that is mostly due; taking the due rows from sync_state_next and sorting them costs what is
    // due, so it suits a queue that mostly waits (a large load waiting on the inbound provisioning service).
    due: db.prepare(`SELECT ${cols} FROM sync_state
      WHERE state <> 'blocked' AND (desired_version > applied_version OR state = 'pending') AND next_attempt_at <= ?
      ORDER BY dirty_seq LIMIT ?`),
    dueFew: db.prepare(`SELECT ${cols} FROM sync_state INDEXED BY sync_state_next
      WHERE state <> 'blocked' AND (desired_version > applied_version OR state = 'pending') AND next_attempt_at <= ?
      ORDER BY dirty_seq LIMIT ?`),
    /** Index only (sync_state_next). */
    dueCount: db
      .prepare(
        `SELECT count(*) FROM sync_state
      WHERE state <> 'blocked' AND (desired_version > applied_version OR state = 'pending') AND next_attempt_at <= ?`,
      )
      .pluck(),
    // Urgent rows of resources already in Graph, oldest first (partial index sync_state_urgent).
    urgentDue: db.prepare(`SELECT ${cols} FROM sync_state
      WHERE urgent = 1 AND graph_id IS NOT NULL AND state <> 'blocked' AND (desired_version > applied_version OR state = 'pending')
        AND next_attempt_at <= ?
      ORDER BY dirty_seq LIMIT ?`),
    blockedReason: db.prepare(`SELECT value FROM meta WHERE key = '${BLOCK_KEY}'`).pluck(),
    // One statement: the block reason and the next sequence number (max over the dirty_seq index,
    // one seek) are read inside it. The SELECT form of INSERT needs a WHERE for the upsert to parse.
    dirty: db.prepare(`INSERT INTO sync_state (type, id, desired_version, state, last_error, dirty_seq, deleted,
        dir_sync_enabled, tokens_valid_from, pending_password, password_version, urgent)
      SELECT @type, @id, 1, CASE WHEN b.value IS NULL THEN 'pending' ELSE 'blocked' END, b.value,
        (SELECT coalesce(max(dirty_seq), 0) + 1 FROM sync_state), @deleted, @dirSync, @tvf, @pwd, CASE WHEN @pwd IS NULL THEN NULL ELSE 1 END, @urgent
      FROM (SELECT (SELECT value FROM meta WHERE key = '${BLOCK_KEY}') AS value) b WHERE true
      ON CONFLICT (type, id) DO UPDATE SET
        desired_version = desired_version + 1,
        state = excluded.state, last_error = excluded.last_error, attempts = 0, next_attempt_at = 0, dirty_seq = excluded.dirty_seq,
        deleted = @deleted,
        dir_sync_enabled = coalesce(@dirSync, dir_sync_enabled),
        tokens_valid_from = coalesce(@tvf, tokens_valid_from),
        pending_password = CASE WHEN @deleted = 1 THEN NULL ELSE coalesce(@pwd, pending_password) END,
        urgent = CASE WHEN desired_version > applied_version THEN max(urgent, excluded.urgent) ELSE excluded.urgent END,
        password_version = CASE WHEN @deleted = 1 THEN NULL WHEN @pwd IS NULL THEN password_version ELSE desired_version + 1 END
      RETURNING state, graph_id, last_error, dir_sync_enabled, tokens_valid_from`),
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
        password_version = CASE WHEN password_version IS NOT NULL AND @version >= password_version THEN NULL ELSE password_version END,
        urgent = CASE WHEN @version >= desired_version THEN 0 ELSE urgent END
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
        attempts = 0, next_attempt_at = 0, applied_mode = @mode,
        urgent = CASE WHEN @version >= desired_version THEN 0 ELSE urgent END
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
    retryAll: db.prepare(`UPDATE sync_state SET state = 'pending', attempts = 0, next_attempt_at = 0, last_error = NULL, urgent = 1
      WHERE state = 'error' AND (@type IS NULL OR type = @type)`),
    retryOne: db.prepare(`UPDATE sync_state SET state = CASE WHEN state = 'blocked' THEN 'blocked' ELSE 'pending' END, urgent = 1,
        attempts = 0, next_attempt_at = 0, last_error = CASE WHEN state = 'blocked' THEN last_error ELSE NULL END
      WHERE type = @type AND id = @id`),
    // Diffed again, ahead of creations: resources already in Graph whose desired state changed through another resource.
    touchUrgently: db.prepare(`UPDATE sync_state SET state = CASE WHEN state = 'blocked' THEN 'blocked' ELSE 'pending' END, urgent = 1,
        next_attempt_at = 0
      WHERE type = ? AND id IN (SELECT value FROM json_each(?)) AND graph_id IS NOT NULL AND deleted = 0`),
    setGraphId: db.prepare('UPDATE sync_state SET graph_id = ? WHERE type = ? AND id = ?'),
    // Applied, but under another mode's attribute sets (or before the mode was recorded per row).
    appliedUnderOtherMode: db.prepare(`UPDATE sync_state SET desired_version = desired_version + 1,
        state = 'pending', attempts = 0, next_attempt_at = 0, last_error = NULL
      WHERE deleted = 0 AND state IN ('synced', 'skipped') AND applied_version > 0 AND (applied_mode IS NULL OR applied_mode <> ?)`),
  };

  const dirtyListeners = new Set<(urgent: boolean, type: ResourceType) => void>();
  const setDirSync = db.prepare(`UPDATE sync_state SET dir_sync_enabled = ? WHERE type = ? AND id = ?`);

  /**
   * The dirty mark every accepted write makes, inside the caller's transaction. Returns the row's
   * sync state as the write left it (what a GET of the resource reports), so the writer need not read it back.
   */
  function markDirty(type: ResourceType, id: string, opts: { deleted?: boolean; sync?: SyncWrite } = {}): SyncView {
    const s = opts.sync ?? {};
    // Deletions, passwords and token validity are urgent whatever else the write did.
    const urgent = Boolean(opts.deleted || s.urgent || s.pendingPassword || s.tokensValidFrom);
    const after = q.dirty.get({
      type,
      id,
      deleted: opts.deleted ? 1 : 0,
      dirSync: s.dirSyncEnabled === undefined ? null : s.dirSyncEnabled ? 1 : 0,
      tvf: s.tokensValidFrom ?? null,
      pwd: s.pendingPassword ? box.seal(s.pendingPassword, contextOf(type, id)) : null,
      urgent: urgent ? 1 : 0,
    }) as Pick<Row, 'state' | 'graph_id' | 'last_error' | 'dir_sync_enabled' | 'tokens_valid_from'>;
    // Listeners hear of urgent work only when listUrgent can take it: a new user's password is not.
    const urgentDue = urgent && after.graph_id !== null && after.state !== 'blocked';
    for (const listener of dirtyListeners) listener(urgentDue, type);
    return {
      state: after.state,
      graphId: after.graph_id,
      lastError: after.last_error,
      dirSyncEnabled: after.dir_sync_enabled === null ? null : after.dir_sync_enabled === 1,
      tokensValidFrom: after.tokens_valid_from,
    };
  }

  // Pending passwords a version before encryption stored in clear are sealed at open.
  db.transaction(() => {
    for (const r of q.unsealed.all() as { type: ResourceType; id: string; pwd: string }[]) q.reseal.run(box.seal(r.pwd, contextOf(r.type, r.id)), r.type, r.id);
  })();

  return {
    markDirty,
    /**
     * Inside the caller's transaction: these resources, where already in Graph, are diffed again
     * ahead of creations (what Graph should hold for them changed through another resource, e.g. a
     * licence group they left). Their own versions stay: nothing of theirs was written.
     */
    touchUrgently(type: ResourceType, ids: readonly string[]): void {
      if (q.touchUrgently.run(type, JSON.stringify(ids)).changes === 0) return;
      for (const listener of dirtyListeners) listener(true, type);
    },
    /** The pending password in clear, for the engine's Graph write only; null when none. */
    revealPendingPassword(type: ResourceType, id: string): string | null {
      const sealed = q.sealed.get(type, id) as string | null | undefined;
      if (!sealed) return null;
      try {
        return box.open(sealed, contextOf(type, id));
      } catch {
        throw new Error('the pending password cannot be decrypted with the configured secrets key (secretsKey or secrets.key changed?)');
      }
    },
    /**
     * Called on every dirty mark with whether the change is urgent and of a resource already in Graph
     * (what listUrgent returns), and the resource type (inside the writer's transaction: a listener
     * only schedules work, e.g. wakes the idle engine). Returns the unsubscribe function.
     */
    onDirty(listener: (urgent: boolean, type: ResourceType) => void): () => void {
      dirtyListeners.add(listener);
      return () => dirtyListeners.delete(listener);
    },
    /**
     * Rows to work on: behind or pending, not blocked, due by nowMs. In 'fifo' order, oldest change
     * first. In 'priority' order, urgent rows of resources already in Graph first (oldest first),
     * then the rest (creations and the initial load) in arrival order; when both are waiting, at
     * least one row in every `creationEvery + 1` is from the rest, so neither can starve the other.
     */
    listDue(nowMs: number, limit: number, order: { order?: 'priority' | 'fifo'; creationEvery?: number } = {}): SyncRow[] {
      // Few due (or none) among many waiting: read the due ones alone.
      const dueCount = q.dueCount.get(nowMs) as number;
      if (dueCount === 0) return [];
      const due = dueCount <= 4 * limit ? q.dueFew : q.due;
      if (order.order === 'fifo' || limit <= 0) return (due.all(nowMs, limit) as Row[]).map(toSyncRow);
      const every = Math.max(1, order.creationEvery ?? 20);
      const urgent = q.urgentDue.all(nowMs, limit) as Row[];
      const taken = new Set(urgent.map((r) => `${r.type}:${r.id}`));
      const rest = (due.all(nowMs, limit + urgent.length) as Row[]).filter((r) => !taken.has(`${r.type}:${r.id}`));
      const restSlots = Math.max(Math.min(rest.length, Math.ceil(limit / (every + 1))), limit - urgent.length);
      const first = urgent.slice(0, Math.max(0, limit - Math.min(rest.length, restSlots)));
      return [...first, ...rest.slice(0, limit - first.length)].map(toSyncRow);
    },
    /** Urgent rows of resources already in Graph that are due, oldest first (one partial-index seek: cheap to ask often). */
    listUrgent(nowMs: number, limit: number): SyncRow[] {
      return (q.urgentDue.all(nowMs, limit) as Row[]).map(toSyncRow);
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
    /** dirSyncEnabled as Graph reports it for the user (onPremisesSyncEnabled), where the inbound writer provisions into AD. */
    setDirSyncEnabled(type: ResourceType, id: string, enabled: boolean): void {
      setDirSync.run(enabled ? 1 : 0, type, id);
    },
  };
}
