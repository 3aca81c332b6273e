// Read models and small bookkeeping the sync engine needs beyond store.sync: counts for status,
// pending deprovisions per source, the resource a Graph id is linked to, a user's groups, and the
// engine's own key/value state (delta links, approvals, when it linked a Graph object). Reached as
// `store.engine`, on the store's one connection; the tables are created by migrations (version 5).
import type { Database } from 'better-sqlite3';
import type { ResourceType, SyncStateName } from './types';

/** A sync state, or where a deleted resource stands: what /metrics and the console count by. */
export type ResourceState = SyncStateName | 'deprovisioning' | 'deprovisioned';

export type SyncEngineQueries = ReturnType<typeof createSyncEngineQueries>;

/** What the engine reads back after a delay: revoked sessions' validity, licence assignment states. */
type ReadbackKind = 'tokens' | 'licences';

export function createSyncEngineQueries(db: Database) {
  const q = {
    counts: db.prepare(`SELECT state, count(*) AS n FROM sync_state GROUP BY state`),
    // Deleted resources count as `deprovisioned` once applied and `deprovisioning` until then, as the console shows them.
    countsByType:
      db.prepare(`SELECT type, CASE WHEN deleted = 1 AND state = 'synced' THEN 'deprovisioned' WHEN deleted = 1 THEN 'deprovisioning' ELSE state END AS state,
      count(*) AS n FROM sync_state GROUP BY 1, 2`),
    // The change waiting longest: the first due row in dirty order, and when its resource was last written.
    oldestDue: db
      .prepare(
        `SELECT coalesce(u.last_modified, g.last_modified) FROM
      (SELECT type, id FROM sync_state WHERE state <> 'blocked' AND (desired_version > applied_version OR state = 'pending') ORDER BY dirty_seq LIMIT 1) s
      LEFT JOIN users u ON s.type = 'User' AND u.id = s.id LEFT JOIN groups g ON s.type = 'Group' AND g.id = s.id`,
      )
      .pluck(),
    queue: db.prepare(`SELECT count(*) FROM sync_state WHERE state <> 'blocked' AND (desired_version > applied_version OR state = 'pending')`).pluck(),
    // A Graph object once linked stays with its resource, deprovisioned or deleted (docs/security.md).
    byGraphId: db.prepare(`SELECT id FROM sync_state WHERE type = ? AND graph_id = ? AND id <> ?`).pluck(),
    // Deprovisions still to do: SCIM deletes, and deactivations (active=false) of users linked in Graph whose
    // applied state is not deprovisioned yet (still enabled; in license-only, still holding licenses it assigned).
    // Two parts, each read from its own partial index (migration 13) in that order, so that neither scans
    // every user: deleted users not yet applied, then inactive users.
    pendingDeletions: db.prepare(`SELECT s.id, u.source_id AS sourceId, u.user_name AS userName, 'delete' AS kind
      FROM sync_state s INDEXED BY sync_state_deleting CROSS JOIN users u ON u.id = s.id
      WHERE s.type = 'User' AND s.deleted = 1 AND s.desired_version > s.applied_version
    UNION ALL
    SELECT s.id, u.source_id AS sourceId, u.user_name AS userName, 'deactivate' AS kind
      FROM users u INDEXED BY users_inactive CROSS JOIN sync_state s ON s.type = 'User' AND s.id = u.id
      WHERE u.active = 0 AND s.deleted = 0 AND (s.desired_version > s.applied_version OR s.state = 'pending')
        AND s.graph_id IS NOT NULL AND s.applied_snapshot IS NOT NULL
        AND coalesce(json_extract(s.applied_snapshot, '$.deprovisioned'), 0) = 0
        AND CASE WHEN @licensesOnly = 1 OR coalesce(json_extract(s.applied_snapshot, '$.onPremisesMastered'), 0) = 1
          THEN coalesce(json_array_length(s.applied_snapshot, '$.licenses'), 0) + coalesce(json_array_length(s.applied_snapshot, '$.groupLicenses'), 0) > 0
          ELSE coalesce(json_extract(s.applied_snapshot, '$.properties.accountEnabled'), 1) <> 0 END
    ORDER BY 1`),
    // What plan shows: everything behind, blocked rows included (plan explains a blocked engine too).
    behind: db.prepare(`SELECT type, id FROM sync_state WHERE desired_version > applied_version OR state IN ('pending', 'blocked') ORDER BY dirty_seq`),
    userIds: db.prepare(`SELECT id FROM users WHERE deleted = 0 ORDER BY created, id`).pluck(),
    // One resource by the Graph object it is linked to (index sync_state_graph_id).
    linkedTo: db.prepare(`SELECT id FROM sync_state WHERE graph_id = ? AND type = ? AND deleted = 0`).pluck(),
    groupsOf: db.prepare(`SELECT g.id, g.display_name AS displayName FROM memberships m JOIN groups g ON g.id = m.group_id
      WHERE m.member_id = ? AND m.present = 1 AND g.deleted = 0`),
    presentMembers: db.prepare(`SELECT member_id FROM memberships WHERE group_id = ? AND present = 1`).pluck(),
    holdingLicense: db
      .prepare(
        `SELECT DISTINCT s.id FROM sync_state s, json_each(s.applied_snapshot, '$.licenses') l
      WHERE s.type = 'User' AND s.applied_snapshot IS NOT NULL AND lower(l.value) IN (SELECT lower(value) FROM json_each(?))`,
      )
      .pluck(),
    groupMembers: db.prepare(`SELECT member_id FROM memberships WHERE group_id = ? AND in_graph = 1`).pluck(),
    markMemberMissing: db.prepare(`UPDATE memberships SET in_graph = 0 WHERE group_id = ? AND member_id = ?`),
    markMemberForeign: db.prepare(`UPDATE memberships SET in_graph = 1 WHERE group_id = ? AND member_id = ?`),
    touchDirty: db.prepare(`UPDATE sync_state SET state = CASE WHEN state = 'blocked' THEN 'blocked' ELSE 'pending' END,
      next_attempt_at = 0 WHERE type = ? AND id = ?`),
    // Users linked to Graph and applied, diffed again (licenses.assignment changed).
    touchLinkedUsers: db.prepare(`UPDATE sync_state SET state = 'pending', next_attempt_at = 0
      WHERE type = 'User' AND graph_id IS NOT NULL AND state = 'synced' AND deleted = 0`),
    unlink: db.prepare(`UPDATE sync_state SET graph_id = NULL, applied_snapshot = NULL,
      state = CASE WHEN state = 'blocked' THEN 'blocked' ELSE 'pending' END, next_attempt_at = 0 WHERE type = ? AND id = ?`),
    errors: db.prepare(`SELECT type, id, last_error AS lastError FROM sync_state WHERE state = 'error' ORDER BY dirty_seq DESC LIMIT ?`),
    // Deprovisions the audit records since `?` and since the last operator approval (which resets the count).
    recentDeprovisions: db.prepare(`SELECT source_id AS sourceId, at FROM audit
      WHERE action LIKE 'sync.deprovision.%' AND at > ?
        AND at > coalesce((SELECT max(at) FROM audit WHERE action = 'sync.deletions.approved'), '')`),
    createSent: db.prepare(`INSERT INTO sync_engine_creates (type, id, match_key, sent_at) VALUES (?, ?, ?, ?)
      ON CONFLICT (type, id) DO UPDATE SET match_key = excluded.match_key, sent_at = excluded.sent_at`),
    userNameHolder: db.prepare(`SELECT id FROM users WHERE user_name = ? COLLATE NOCASE AND deleted = 0 AND id <> ?`).pluck(),
    createKey: db.prepare(`SELECT match_key FROM sync_engine_creates WHERE type = ? AND id = ?`).pluck(),
    createDone: db.prepare(`DELETE FROM sync_engine_creates WHERE type = ? AND id = ?`),
    getMeta: db.prepare(`SELECT value FROM sync_engine_meta WHERE key = ?`).pluck(),
    setMeta: db.prepare(`INSERT INTO sync_engine_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`),
    setLinked: db.prepare(
      `INSERT INTO sync_engine_linked (graph_id, linked_at) VALUES (?, ?) ON CONFLICT (graph_id) DO UPDATE SET linked_at = excluded.linked_at`,
    ),
    pruneLinked: db.prepare(`DELETE FROM sync_engine_linked WHERE linked_at < ?`),
    linkedAt: db.prepare(`SELECT linked_at FROM sync_engine_linked WHERE graph_id = ?`).pluck(),
    // Read-backs (migration 16): a new due time puts the row out of a read-back under way.
    // The ids of each statement below come as one JSON array.
    readbackSchedule: db.prepare(`INSERT INTO sync_engine_readback (kind, id, due_at, taken) SELECT ?, value, ?, 0 FROM json_each(?) WHERE true
      ON CONFLICT (kind, id) DO UPDATE SET due_at = excluded.due_at, taken = 0`),
    readbackTake: db.prepare(`UPDATE sync_engine_readback SET taken = 1 WHERE kind = ? AND due_at <= ?`),
    readbackTaken: db.prepare(`SELECT id FROM sync_engine_readback WHERE kind = ? AND taken = 1 ORDER BY due_at, id LIMIT ?`).pluck(),
    readbackDone: db.prepare(`DELETE FROM sync_engine_readback WHERE kind = ? AND id IN (SELECT value FROM json_each(?)) AND taken = 1`),
    readbackRelease: db.prepare(`UPDATE sync_engine_readback SET taken = 0 WHERE kind = ? AND id IN (SELECT value FROM json_each(?)) AND taken = 1`),
  };
  let lastPrune = -Infinity;
  return {
    countsByState(): Record<Exclude<SyncStateName, 'skipped'>, number> & { skipped?: number } {
      const out: Record<Exclude<SyncStateName, 'skipped'>, number> & { skipped?: number } = { pending: 0, synced: 0, error: 0, blocked: 0 };
      for (const r of q.counts.all() as { state: SyncStateName; n: number }[]) out[r.state] = r.n;
      return out;
    },
    queueDepth: () => q.queue.get() as number,
    /** Rows by resource type and state (deleted ones as deprovisioning / deprovisioned), for /metrics. */
    countsByTypeAndState: () => q.countsByType.all() as { type: ResourceType; state: ResourceState; n: number }[],
    /** When the oldest change still waiting for Graph was accepted (ISO 8601), or null with an empty queue. */
    oldestDueChangeAt: () => (q.oldestDue.get() as string | null | undefined) ?? null,
    /** Another resource of this type already linked to graphId (matching must not adopt it twice). */
    linkedElsewhere: (type: ResourceType, graphId: string, exceptId: string) => (q.byGraphId.get(type, graphId, exceptId) as string | undefined) ?? null,
    /**
     * Deprovisions a source has queued, the deletion threshold's subject: deletes, and deactivations
     * not yet applied (`licensesOnly`: the mode is license-only, where a deactivation removes licenses).
     */
    pendingDeletions: (licensesOnly = false) =>
      q.pendingDeletions.all({ licensesOnly: licensesOnly ? 1 : 0 }) as { id: string; sourceId: string; userName: string; kind: 'delete' | 'deactivate' }[],
    userIds: () => q.userIds.all() as string[],
    behind: () => q.behind.all() as { type: ResourceType; id: string }[],
    /** The live resource of this type linked to graphId, if any. */
    linkedTo: (type: ResourceType, graphId: string) => (q.linkedTo.get(graphId, type) as string | undefined) ?? null,
    groupsOf: (userId: string) => q.groupsOf.all(userId) as { id: string; displayName: string }[],
    /** Current members of a group, for sync/ to look at their licenses again. */
    presentMembers: (groupId: string) => q.presentMembers.all(groupId) as string[],
    /** Users the bridge assigned any of these skuIds to. */
    usersHoldingLicense: (skuIds: readonly string[]) => q.holdingLicense.all(JSON.stringify(skuIds)) as string[],
    membersInGraph: (groupId: string) => q.groupMembers.all(groupId) as string[],
    /** Drift: a member the bridge added was removed in Graph; it becomes a pending add again. */
    memberMissingInGraph: (groupId: string, memberId: string) => q.markMemberMissing.run(groupId, memberId),
    /** Marks a resource due now without a new desired version (drift found Graph off its applied state). */
    touch: (type: ResourceType, id: string) => q.touchDirty.run(type, id),
    touchLinkedUsers: () => q.touchLinkedUsers.run().changes,
    /** The Graph object is gone for good: forget the link so the next pass matches or creates again. */
    unlink: (type: ResourceType, id: string) => void q.unlink.run(type, id),
    recentErrors: (limit = 20) => q.errors.all(limit) as { type: ResourceType; id: string; lastError: string }[],
    /** Deprovisions applied since `sinceIso`, for the deletion threshold to survive a restart. */
    recentDeprovisions: (sinceIso: string) => q.recentDeprovisions.all(sinceIso) as { sourceId: string | null; at: string }[],
    /** Another live user whose userName is exactly this one (without case), if any. */
    userNameHeldElsewhere: (userName: string, exceptId: string) => (q.userNameHolder.get(userName, exceptId) as string | undefined) ?? null,
    /** Creates about to be sent, each resource id with its match key (a UPN, compared lower case); one transaction. */
    createsSent: db.transaction((type: ResourceType, entries: [string, string][]) => {
      const at = Date.now();
      for (const [id, key] of entries) q.createSent.run(type, id, key.toLowerCase(), at);
    }) as (type: ResourceType, entries: [string, string][]) => void,
    /** The match key of a create sent earlier whose outcome the engine never recorded, if any. */
    createUnanswered: (type: ResourceType, id: string) => (q.createKey.get(type, id) as string | undefined) ?? null,
    /** The creates' outcomes are known (created, refused, or linked): forget them; one transaction. */
    createsSettled: db.transaction((type: ResourceType, ids: string[]) => {
      for (const id of ids) q.createDone.run(type, id);
    }) as (type: ResourceType, ids: string[]) => void,
    getMeta: (key: string) => (q.getMeta.get(key) as string | undefined) ?? null,
    setMeta: (key: string, value: string) => void q.setMeta.run(key, value),
    /** Records when a Graph object was created or matched; forgets records older than pruneBeforeMs. */
    recordLinked(graphId: string, atMs: number, pruneBeforeMs: number): void {
      // The prune scans the table: once a minute is enough for records kept ten minutes.
      if (atMs - lastPrune >= 60_000 || atMs < lastPrune) {
        q.pruneLinked.run(pruneBeforeMs);
        lastPrune = atMs;
      }
      q.setLinked.run(graphId.toLowerCase(), atMs);
    },
    /** Several at once, in one transaction (the ids a chunk of creates or matches linked). */
    recordLinkedMany(graphIds: readonly string[], atMs: number): void {
      db.transaction(() => {
        for (const id of graphIds) q.setLinked.run(id.toLowerCase(), atMs);
      })();
    },
    /** Epoch ms the engine created or matched this Graph object, if recorded and not yet pruned. */
    linkedAt: (graphId: string) => (q.linkedAt.get(graphId.toLowerCase()) as number | undefined) ?? null,
    /** Read these resources back at `atMs` (a later schedule replaces an earlier one, also one under way); one transaction. */
    scheduleReadback: (kind: ReadbackKind, ids: readonly string[], atMs: number) => void q.readbackSchedule.run(kind, atMs, JSON.stringify(ids)),
    /** Starts a read-back: the rows due at `nowMs` are taken; returns how many. */
    takeDueReadbacks: (kind: ReadbackKind, nowMs: number) => q.readbackTake.run(kind, nowMs).changes,
    /** The next `limit` rows taken and not yet done or released, earliest due first. */
    takenReadbacks: (kind: ReadbackKind, limit: number) => q.readbackTaken.all(kind, limit) as string[],
    /** Read back: forgotten, unless scheduled again since they were taken. */
    readbacksDone: (kind: ReadbackKind, ids: readonly string[]) => void q.readbackDone.run(kind, JSON.stringify(ids)),
    /** Not read this time (a failed read): due again on the next read-back, at the time they had. */
    releaseReadbacks: (kind: ReadbackKind, ids: readonly string[]) => void q.readbackRelease.run(kind, JSON.stringify(ids)),
  };
}
