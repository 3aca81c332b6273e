// Read-only views for the operator: counts, a page of users with attribution and sync state,
// the queue and drift events. Every query is bounded by a LIMIT.
import type { Database } from 'better-sqlite3';
import { createConsoleQueries } from './console-queries';
import { attributionList } from './attribution';

export interface AdminUser {
  id: string;
  userName: string;
  source: string;
  active: boolean;
  syncState: string;
  lastSyncError: string | null;
  graphId: string | null;
  dirSyncEnabled: boolean;
  tokensValidFrom: string | null;
  attribution: Record<string, { source: string; at: string }>;
}

interface UserRow {
  id: string;
  user_name: string;
  source_id: string;
  active: number;
  state: string | null;
  last_error: string | null;
  graph_id: string | null;
  dir_sync_enabled: number | null;
  tokens_valid_from: string | null;
}

export function createAdminQueries(db: Database) {
  const q = {
    counts: db.prepare(`SELECT type, CASE WHEN deleted = 1 AND state = 'synced' THEN 'deprovisioned' ELSE state END AS state, count(*) AS n
      FROM sync_state GROUP BY 1, 2`),
    sourceCounts: db.prepare(`SELECT s.id, s.directories,
        (SELECT count(*) FROM users u WHERE u.source_id = s.id AND u.deleted = 0) AS users,
        (SELECT count(*) FROM groups g WHERE g.source_id = s.id AND g.deleted = 0) AS groups
      FROM sources s ORDER BY s.id`),
    userTotal: db.prepare(`SELECT count(*) FROM users WHERE deleted = 0 AND user_name LIKE ? ESCAPE '\\'`).pluck(),
    userPage: db.prepare(`SELECT u.id, u.user_name, u.source_id, u.active, s.state, s.last_error, s.graph_id,
        s.dir_sync_enabled, s.tokens_valid_from
      FROM users u LEFT JOIN sync_state s ON s.type = 'User' AND s.id = u.id
      WHERE u.deleted = 0 AND u.user_name LIKE ? ESCAPE '\\'
      ORDER BY u.user_name COLLATE NOCASE LIMIT ? OFFSET ?`),
    attribution: db.prepare(`SELECT resource_id, attrs FROM resource_attribution
      WHERE resource_type = 'User' AND resource_id IN (SELECT value FROM json_each(?))`),
    queue: db.prepare(`SELECT type, id, state, desired_version AS desiredVersion, applied_version AS appliedVersion,
        attempts, next_attempt_at AS nextAttemptAt, last_error AS lastError, deleted
      FROM sync_state WHERE state <> 'synced' OR desired_version > applied_version
      ORDER BY dirty_seq LIMIT ?`),
    pendingDeprovisions: db.prepare(`SELECT count(*) FROM sync_state WHERE deleted = 1 AND desired_version > applied_version`).pluck(),
    // The engine records drift as `sync.drift` (src/sync/drift.ts, user-apply.ts).
    drift: db.prepare(`SELECT seq, at, action, resource_type AS resourceType, resource_id AS resourceId, detail
      FROM audit WHERE action = 'sync.drift' ORDER BY seq DESC LIMIT ?`),
  };
  const c = createConsoleQueries(db);

  return {
    /** `{ "User.synced": 10, "User.pending": 2, ... }` plus totals by state. */
    countsByState(): Record<string, number> {
      const out: Record<string, number> = { pending: 0, synced: 0, error: 0, blocked: 0 };
      for (const r of q.counts.all() as { type: string; state: string; n: number }[]) {
        out[r.state] = (out[r.state] ?? 0) + r.n;
        out[`${r.type}.${r.state}`] = r.n;
      }
      return out;
    },
    sources(): Array<{ id: string; directories: unknown[]; users: number; groups: number }> {
      return (q.sourceCounts.all() as { id: string; directories: string; users: number; groups: number }[]).map((r) => ({
        ...r,
        directories: JSON.parse(r.directories),
      }));
    },
    users(options: { offset: number; limit: number; search?: string }): { total: number; items: AdminUser[] } {
      const like = `${(options.search ?? '').replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      const rows = q.userPage.all(like, options.limit, options.offset) as UserRow[];
      const attribution = new Map<string, AdminUser['attribution']>();
      const stored = q.attribution.all(JSON.stringify(rows.map((r) => r.id))) as { resource_id: string; attrs: string }[];
      for (const s of stored) {
        const entry: AdminUser['attribution'] = {};
        for (const a of attributionList(s.attrs)) entry[a.attribute] = { source: a.sourceId, at: a.setAt };
        attribution.set(s.resource_id, entry);
      }
      return {
        total: q.userTotal.get(like) as number,
        items: rows.map((r) => ({
          id: r.id,
          userName: r.user_name,
          source: r.source_id,
          active: r.active === 1,
          syncState: r.state ?? 'pending',
          lastSyncError: r.last_error,
          graphId: r.graph_id,
          dirSyncEnabled: r.dir_sync_enabled === 1,
          tokensValidFrom: r.tokens_valid_from,
          attribution: attribution.get(r.id) ?? {},
        })),
      };
    },
    /** Deleted resources whose Graph deprovisioning is still to do (held ones included). */
    pendingDeprovisions(): number {
      return q.pendingDeprovisions.get() as number;
    },
    queue(limit: number): unknown[] {
      return (q.queue.all(limit) as { nextAttemptAt: number; deleted: number }[]).map((r) => ({
        ...r,
        deleted: r.deleted === 1,
        // A permanent error waits for the resource's next change or an operator's retry.
        nextAttemptAt:
          r.nextAttemptAt >= Number.MAX_SAFE_INTEGER ? 'on change or retry' : r.nextAttemptAt > 0 ? new Date(r.nextAttemptAt).toISOString() : 'now',
      }));
    },
    drift(limit: number): unknown[] {
      return (q.drift.all(limit) as { detail: string | null }[]).map((r) => ({ ...r, detail: r.detail ? JSON.parse(r.detail) : null }));
    },
    ...c,
  };
}
