// Groups and their memberships. Members live in their own table so that adding or removing
// one member of a 100,000-member group is a few indexed statements, never a rewrite.
import { randomUUID } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import type { AttributionStore } from './attribution';
import type { AuditStore } from './audit';
import { notFound, preconditionFailed } from '../errors';
import { mapConstraint } from './constraints';
import { identityKey } from './identity-key';
import { type ResourceRow, toForSync, toStored } from './resource-row';
import type { SyncStore } from './sync-state';
import type { ForSync, MemberRef, StoredResource, WriteContext } from './types';

/** What a member removal returns of each row it took out. */
const LEFT = 'member_id, member_type, present';
interface Left {
  member_id: string;
  member_type: string;
  present: number;
}

/** Adds the users among removed membership rows that were present to `left`; returns how many rows were removed. */
function noteLeavers(rows: unknown[], left: Set<string>): number {
  for (const r of rows as Left[]) if (r.present === 1 && r.member_type === 'User') left.add(r.member_id);
  return rows.length;
}

/** Membership changes of one write, applied in SQL: replace, removeAll, remove, then add. Give a list to apply several in order. */
export interface MemberChanges {
  add?: readonly MemberRef[];
  remove?: readonly string[];
  removeAll?: boolean;
  replace?: readonly MemberRef[];
}

export interface MemberView {
  value: string;
  type: 'User' | 'Group';
  display: string | null;
}

export function createGroupStore(db: Database, deps: { sync: SyncStore; audit: AuditStore; attribution: AttributionStore }) {
  const cols = 'id, source_id, data, version, created, last_modified, deleted';
  const refs = `SELECT json_extract(value, '$.value') AS id, coalesce(json_extract(value, '$.type'), 'User') AS type,
    json_extract(value, '$.display') AS display FROM json_each(?)`;
  const q = {
    hasPendingRemove: db.prepare('SELECT 1 FROM memberships WHERE group_id = ? AND present <> in_graph AND present = 0 LIMIT 1').pluck(),
    get: db.prepare(`SELECT ${cols} FROM groups WHERE id = ? AND deleted = 0`),
    getAny: db.prepare(`SELECT ${cols} FROM groups WHERE id = ?`),
    insert: db.prepare(`INSERT INTO groups (id, source_id, display_name, display_name_key, external_id, data, version, created, last_modified)
      VALUES (@id, @sourceId, @displayName, @displayNameKey, @externalId, @data, 1, @now, @now)`),
    update: db.prepare(`UPDATE groups SET display_name = @displayName,
      display_name_key = CASE WHEN display_name = @displayName THEN coalesce(display_name_key, @displayNameKey) ELSE @displayNameKey END, external_id = @externalId, data = @data,
      version = version + 1, last_modified = @now WHERE id = @id AND deleted = 0`),
    softDelete: db.prepare('UPDATE groups SET deleted = 1, version = version + 1, last_modified = ? WHERE id = ? AND deleted = 0'),
    add: db.prepare(`INSERT INTO memberships (group_id, member_id, member_type, present, in_graph, display)
      SELECT ?, r.id, r.type, 1, 0, r.display FROM (${refs}) r WHERE r.id IS NOT NULL
      ON CONFLICT (group_id, member_id) DO UPDATE SET present = 1, display = coalesce(excluded.display, display)
        WHERE present = 0 OR (excluded.display IS NOT NULL AND excluded.display IS NOT display)`),
    // Each removal returns the members it took out (present before), so that a licence group's leavers can be re-diffed.
    dropIn: db.prepare(`DELETE FROM memberships WHERE group_id = ? AND in_graph = 0 AND member_id IN (SELECT value FROM json_each(?))
      RETURNING ${LEFT}`),
    leaveIn: db.prepare(`UPDATE memberships SET present = 0 WHERE group_id = ? AND present = 1 AND member_id IN (SELECT value FROM json_each(?))
      RETURNING ${LEFT}`),
    dropAll: db.prepare(`DELETE FROM memberships WHERE group_id = ? AND in_graph = 0 RETURNING ${LEFT}`),
    leaveAll: db.prepare(`UPDATE memberships SET present = 0 WHERE group_id = ? AND present = 1 RETURNING ${LEFT}`),
    dropExcept: db.prepare(`DELETE FROM memberships WHERE group_id = ? AND in_graph = 0
      AND member_id NOT IN (SELECT json_extract(value, '$.value') FROM json_each(?)) RETURNING ${LEFT}`),
    leaveExcept: db.prepare(`UPDATE memberships SET present = 0 WHERE group_id = ? AND present = 1
      AND member_id NOT IN (SELECT json_extract(value, '$.value') FROM json_each(?)) RETURNING ${LEFT}`),
    members: db.prepare(`SELECT m.member_id AS value, m.member_type AS type, coalesce(m.display, u.display_name, g.display_name) AS display
      FROM memberships m
      LEFT JOIN users u ON m.member_type = 'User' AND u.id = m.member_id
      LEFT JOIN groups g ON m.member_type = 'Group' AND g.id = m.member_id
      WHERE m.group_id = ? AND m.present = 1`),
    membersOwnedBy: db.prepare(`SELECT m.member_id AS value, m.member_type AS type, coalesce(m.display, u.display_name, g.display_name) AS display
      FROM memberships m
      LEFT JOIN users u ON m.member_type = 'User' AND u.id = m.member_id
      LEFT JOIN groups g ON m.member_type = 'Group' AND g.id = m.member_id
      WHERE m.group_id = ? AND m.present = 1 AND coalesce(u.source_id, g.source_id) = ?`),
    pending: db.prepare(`SELECT member_id, present FROM memberships WHERE group_id = ? AND present <> in_graph LIMIT ?`),
    pendingRemoves: db.prepare(`SELECT member_id FROM memberships WHERE group_id = ? AND present = 0 AND in_graph = 1 LIMIT ?`).pluck(),
    appliedAdd: db.prepare(`INSERT INTO memberships (group_id, member_id, member_type, present, in_graph)
      SELECT ?, value, 'User', 0, 1 FROM json_each(?) WHERE true
      ON CONFLICT (group_id, member_id) DO UPDATE SET in_graph = 1`),
    appliedRemove: db.prepare(`UPDATE memberships SET in_graph = 0 WHERE group_id = ? AND member_id IN (SELECT value FROM json_each(?))`),
    purgeRemoved: db.prepare('DELETE FROM memberships WHERE group_id = ? AND present = 0 AND in_graph = 0'),
    deleteMemberships: db.prepare(`DELETE FROM memberships WHERE group_id = ? RETURNING ${LEFT}`),
    groupsOf: db.prepare('SELECT group_id FROM memberships WHERE member_id = ? AND present = 1').pluck(),
    dropMemberNeverApplied: db.prepare('DELETE FROM memberships WHERE member_id = ? AND in_graph = 0'),
    leaveAsMember: db.prepare('UPDATE memberships SET present = 0 WHERE member_id = ? AND present = 1'),
    touch: db.prepare('UPDATE groups SET version = version + 1, last_modified = ? WHERE id = ?'),
    owners: db.prepare(`SELECT g.id, g.source_id FROM json_each(?) j JOIN groups g ON g.id = j.value AND g.deleted = 0`).raw(),
    references: db.prepare(`SELECT g.id, g.source_id, g.deleted FROM json_each(?) j JOIN groups g ON g.id = j.value`).raw(),
    isMember: db.prepare('SELECT 1 FROM memberships WHERE group_id = ? AND member_id = ? AND present = 1').pluck(),
  };

  /** Applies member changes; the users who left (were present before) are added to `left`. */
  function applyMembers(id: string, changes: MemberChanges | readonly MemberChanges[] | undefined, left: Set<string>): number {
    if (!changes) return 0;
    if (Array.isArray(changes)) return changes.reduce((n: number, c: MemberChanges) => n + applyMembers(id, c, left), 0);
    const m = changes as MemberChanges;
    const removed = (rows: unknown[]) => noteLeavers(rows, left);
    let n = 0;
    if (m.replace) {
      const list = JSON.stringify(m.replace);
      n += removed(q.dropExcept.all(id, list)) + removed(q.leaveExcept.all(id, list));
      n += q.add.run(id, list).changes;
    }
    if (m.removeAll) n += removed(q.dropAll.all(id)) + removed(q.leaveAll.all(id));
    if (m.remove?.length) {
      const list = JSON.stringify(m.remove);
      n += removed(q.dropIn.all(id, list)) + removed(q.leaveIn.all(id, list));
    }
    if (m.add?.length) {
      n += q.add.run(id, JSON.stringify(m.add)).changes;
      // Removed and added back in one write: not a leaver.
      for (const ref of m.add) left.delete(ref.value);
    }
    return n;
  }

  /** A licence group's leavers already in Graph are diffed again ahead of creations (WriteContext.leaversUrgent). */
  function leaversUrgent(ctx: WriteContext, left: Set<string>): void {
    if (ctx.leaversUrgent && left.size) deps.sync.touchUrgently('User', [...left]);
  }

  function record(id: string, action: string, ctx: WriteContext, now: string, detail: Record<string, unknown>, deleted = false): void {
    if (ctx.attributes?.length) deps.attribution.record('Group', id, ctx.attributes, ctx.sourceId, now);
    deps.audit.append({ sourceId: ctx.sourceId, action, resourceType: 'Group', resourceId: id, detail: { ...detail, ...ctx.auditDetail }, at: new Date(now) });
    // A member to remove from Graph makes the group's change urgent (listDue).
    const urgent = !deleted && q.hasPendingRemove.get(id) !== undefined;
    deps.sync.markDirty('Group', id, { deleted, sync: urgent ? { ...ctx.sync, urgent } : ctx.sync });
  }

  const str = (v: unknown) => (typeof v === 'string' ? v : null);

  const create = db.transaction((data: Record<string, unknown>, ctx: WriteContext & { id?: string; members?: readonly MemberRef[] }): StoredResource => {
    const id = ctx.id ?? randomUUID();
    const now = (ctx.at ?? new Date()).toISOString();
    const displayName = String(data.displayName ?? '');
    mapConstraint(
      () =>
        q.insert.run({
          id,
          sourceId: ctx.sourceId,
          displayName,
          displayNameKey: identityKey(displayName),
          externalId: str(data.externalId),
          data: JSON.stringify(data),
          now,
        }),
      `displayName "${displayName}" is already taken`,
    );
    const added = ctx.members?.length ? applyMembers(id, { add: ctx.members }, new Set()) : 0;
    record(id, ctx.action ?? 'group.create', ctx, now, { attributes: ctx.attributes, membersAdded: added });
    return { id, sourceId: ctx.sourceId, version: 1, created: now, lastModified: now, data };
  });

  /**
   * Replaces data (when given; null keeps it) and applies member changes, in one transaction.
   * With skipIfUnchanged, a write that changes nothing bumps no version and marks nothing dirty.
   */
  const update = db.transaction(
    (
      id: string,
      data: Record<string, unknown> | null,
      ctx: WriteContext & { expectedVersion?: number; members?: MemberChanges | readonly MemberChanges[]; skipIfUnchanged?: boolean },
    ): StoredResource & { changed: boolean } => {
      const before = q.get.get(id) as ResourceRow | undefined;
      if (!before) throw notFound(`Group ${id} not found`);
      if (ctx.expectedVersion !== undefined && ctx.expectedVersion !== before.version) throw preconditionFailed('resource version does not match If-Match');
      const now = (ctx.at ?? new Date()).toISOString();
      const left = new Set<string>();
      const memberChanges = applyMembers(id, ctx.members, left);
      const json = data ? JSON.stringify(data) : before.data;
      if (ctx.skipIfUnchanged && memberChanges === 0 && json === before.data) return { ...toStored(before), changed: false };
      const next = data ?? JSON.parse(before.data);
      const displayName = String(next.displayName ?? '');
      mapConstraint(
        () => q.update.run({ id, displayName, displayNameKey: identityKey(displayName), externalId: str(next.externalId), data: json, now }),
        `displayName "${displayName}" is already taken`,
      );
      record(id, ctx.action ?? 'group.update', ctx, now, { attributes: ctx.attributes, memberChanges });
      leaversUrgent(ctx, left);
      return { id, sourceId: before.source_id, version: before.version + 1, created: before.created, lastModified: now, data: next, changed: true };
    },
  );

  const remove = db.transaction((id: string, ctx: WriteContext & { expectedVersion?: number }): void => {
    const before = q.get.get(id) as ResourceRow | undefined;
    if (!before) throw notFound(`Group ${id} not found`);
    if (ctx.expectedVersion !== undefined && ctx.expectedVersion !== before.version) throw preconditionFailed('resource version does not match If-Match');
    const now = (ctx.at ?? new Date()).toISOString();
    const parents = q.groupsOf.all(id) as string[];
    q.softDelete.run(now, id);
    const left = new Set<string>();
    noteLeavers(q.deleteMemberships.all(id), left);
    q.dropMemberNeverApplied.run(id);
    q.leaveAsMember.run(id);
    for (const g of parents) {
      q.touch.run(now, g);
      deps.sync.markDirty('Group', g, { sync: { urgent: true } });
    }
    record(id, ctx.action ?? 'group.delete', ctx, now, {}, true);
    leaversUrgent(ctx, left);
  });

  return {
    create,
    update,
    remove,
    get(id: string): StoredResource | null {
      const r = q.get.get(id) as ResourceRow | undefined;
      return r ? toStored(r) : null;
    },
    /** The group's members; with `ownerId`, only those that source owns (what an owner-scoped source may see). */
    members(id: string, ownerId: string | null = null): MemberView[] {
      return (ownerId === null ? q.members.all(id) : q.membersOwnedBy.all(id, ownerId)) as MemberView[];
    },
    isMember(groupId: string, memberId: string): boolean {
      return q.isMember.get(groupId, memberId) !== undefined;
    },
    /** Live ids among `ids` with their owning source, in one query. */
    owners(ids: readonly string[]): Map<string, string> {
      return new Map(q.owners.all(JSON.stringify(ids)) as [string, string][]);
    },
    /** Ids among `ids` that name a row, deleted ones included (tombstones), with owner and whether deleted. */
    references(ids: readonly string[]): Map<string, { sourceId: string; deleted: boolean }> {
      const rows = q.references.all(JSON.stringify(ids)) as [string, string, number][];
      return new Map(rows.map(([id, sourceId, deleted]) => [id, { sourceId, deleted: deleted === 1 }]));
    },
    getForSync(id: string): ForSync | null {
      const r = q.getAny.get(id) as ResourceRow | undefined;
      if (!r) return null;
      return toForSync(r, 'Group');
    },
    /** Desired-but-unapplied adds and applied-but-undesired removes, from the partial index. */
    pendingMemberChanges(groupId: string, limit = 1000): { adds: string[]; removes: string[] } {
      const rows = q.pending.all(groupId, limit) as { member_id: string; present: number }[];
      return {
        adds: rows.filter((r) => r.present === 1).map((r) => r.member_id),
        removes: rows.filter((r) => r.present === 0).map((r) => r.member_id),
      };
    },
    /** Members to take out of the group in Graph, up to `limit` (what the engine sends ahead of creations). */
    pendingRemoves(groupId: string, limit: number): string[] {
      return q.pendingRemoves.all(groupId, limit) as string[];
    },
    /** Records what sync/ wrote to Graph; a member removed meanwhile becomes a pending remove. */
    markMembersApplied: db.transaction((groupId: string, adds: readonly string[], removes: readonly string[]): void => {
      if (adds.length) q.appliedAdd.run(groupId, JSON.stringify(adds));
      if (removes.length) {
        q.appliedRemove.run(groupId, JSON.stringify(removes));
        q.purgeRemoved.run(groupId);
      }
    }),
  };
}
