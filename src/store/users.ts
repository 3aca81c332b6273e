// Users: rows keyed by id, indexed columns for the attributes filters use most, the rest in
// JSON (`data`). Each write is one transaction: row, attribution, audit, dirty mark.
import { randomUUID } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import type { AttributionStore } from './attribution';
import type { AuditStore } from './audit';
import { notFound, preconditionFailed } from '../errors';
import { mapConstraint } from './constraints';
import { identityKey } from './identity-key';
import { type ResourceRow, toForSync, toStored } from './resource-row';
import type { SyncStore } from './sync-state';
import type { ForSync, StoredResource, SyncView, WriteContext } from './types';

/** Multi-valued attributes whose `value`s are indexed in user_values for filtering. */
export const INDEXED_MULTI_VALUED = ['emails', 'phoneNumbers', 'ims', 'photos', 'entitlements', 'roles'] as const;

function columns(data: Record<string, unknown>) {
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  return {
    userName: String(data.userName ?? ''),
    userNameKey: identityKey(String(data.userName ?? '')),
    externalId: str(data.externalId),
    displayName: str(data.displayName),
    active: data.active === false ? 0 : 1,
    data: JSON.stringify(data),
  };
}

function multiValues(data: Record<string, unknown>): [string, string][] {
  const out: [string, string][] = [];
  for (const attr of INDEXED_MULTI_VALUED) {
    const list = data[attr];
    if (!Array.isArray(list)) continue;
    for (const item of list) {
      const v = item && typeof item === 'object' ? (item as { value?: unknown }).value : undefined;
      if (typeof v === 'string' && v !== '') out.push([attr, v]);
    }
  }
  return out;
}

/**
 * A change that takes something away from a user who may already be in Graph: a deactivation or
 * an entitlement (licence) removed. Such writes go ahead of creations (sync-state.ts listDue).
 */
function takesAway(before: Record<string, unknown>, after: Record<string, unknown>): boolean {
  if (before.active !== false && after.active === false) return true;
  const values = (d: Record<string, unknown>) =>
    new Set((Array.isArray(d.entitlements) ? d.entitlements : []).map((e) => String((e as { value?: unknown })?.value ?? '').toLowerCase()));
  const kept = values(after);
  return [...values(before)].some((v) => v && !kept.has(v));
}

export function createUserStore(db: Database, deps: { sync: SyncStore; audit: AuditStore; attribution: AttributionStore }) {
  const cols = 'id, source_id, data, version, created, last_modified, deleted';
  const q = {
    get: db.prepare(`SELECT ${cols} FROM users WHERE id = ? AND deleted = 0`),
    getAny: db.prepare(`SELECT ${cols} FROM users WHERE id = ?`),
    byUserName: db.prepare(`SELECT ${cols} FROM users WHERE user_name_key = ? AND deleted = 0`),
    insert: db.prepare(`INSERT INTO users (id, source_id, user_name, user_name_key, external_id, display_name, active, data, version, created, last_modified)
      VALUES (@id, @sourceId, @userName, @userNameKey, @externalId, @displayName, @active, @data, 1, @now, @now)`),
    update: db.prepare(`UPDATE users SET user_name = @userName,
      user_name_key = CASE WHEN user_name = @userName THEN coalesce(user_name_key, @userNameKey) ELSE @userNameKey END, external_id = @externalId, display_name = @displayName,
      active = @active, data = @data, version = version + 1, last_modified = @now WHERE id = @id AND deleted = 0`),
    softDelete: db.prepare(`UPDATE users SET deleted = 1, version = version + 1, last_modified = ? WHERE id = ? AND deleted = 0`),
    clearValues: db.prepare('DELETE FROM user_values WHERE user_id = ?'),
    addValue: db.prepare('INSERT OR IGNORE INTO user_values (user_id, attr, value) VALUES (?, ?, ?)'),
    owners: db.prepare(`SELECT u.id, u.source_id FROM json_each(?) j JOIN users u ON u.id = j.value AND u.deleted = 0`).raw(),
    references: db.prepare(`SELECT u.id, u.source_id, u.deleted FROM json_each(?) j JOIN users u ON u.id = j.value`).raw(),
    groupsOf: db.prepare(`SELECT group_id FROM memberships WHERE member_id = ? AND present = 1`).pluck(),
    dropNeverApplied: db.prepare('DELETE FROM memberships WHERE member_id = ? AND in_graph = 0'),
    leaveGroups: db.prepare('UPDATE memberships SET present = 0 WHERE member_id = ? AND present = 1'),
    touchGroup: db.prepare('UPDATE groups SET version = version + 1, last_modified = ? WHERE id = ?'),
  };

  function writeValues(id: string, data: Record<string, unknown>, replacing: boolean): void {
    if (replacing) q.clearValues.run(id);
    for (const [attr, value] of multiValues(data)) q.addValue.run(id, attr, value);
  }

  /** Attribution, audit and the dirty mark of a write; returns the sync state the write left. */
  function record(id: string, action: string, ctx: WriteContext, now: string, deleted = false): SyncView {
    if (ctx.attributes?.length) deps.attribution.record('User', id, ctx.attributes, ctx.sourceId, now);
    deps.audit.append({
      sourceId: ctx.sourceId,
      action,
      resourceType: 'User',
      resourceId: id,
      detail: ctx.attributes || ctx.auditDetail ? { ...(ctx.attributes ? { attributes: ctx.attributes } : {}), ...ctx.auditDetail } : undefined,
      at: new Date(now),
    });
    return deps.sync.markDirty('User', id, { deleted, sync: ctx.sync });
  }

  // Returns the user as a GET reads it right after (data as stored, with its sync state), so the
  // ingress answers without reading it back.
  const create = db.transaction((data: Record<string, unknown>, ctx: WriteContext & { id?: string }): StoredResource & { sync: SyncView } => {
    const id = ctx.id ?? randomUUID();
    const now = (ctx.at ?? new Date()).toISOString();
    const c = columns(data);
    mapConstraint(() => q.insert.run({ id, sourceId: ctx.sourceId, now, ...c }), `userName "${c.userName}" is already taken`);
    writeValues(id, data, false);
    const sync = record(id, ctx.action ?? 'user.create', ctx, now);
    return { id, sourceId: ctx.sourceId, version: 1, created: now, lastModified: now, data: JSON.parse(c.data), sync };
  });

  const replace = db.transaction(
    (
      id: string,
      data: Record<string, unknown>,
      ctx: WriteContext & { expectedVersion?: number; skipIfUnchanged?: boolean },
    ): StoredResource & { changed: boolean; sync?: SyncView } => {
      const before = q.get.get(id) as ResourceRow | undefined;
      if (!before) throw notFound(`User ${id} not found`);
      if (ctx.expectedVersion !== undefined && ctx.expectedVersion !== before.version) throw preconditionFailed('resource version does not match If-Match');
      const now = (ctx.at ?? new Date()).toISOString();
      const c = columns(data);
      // A write that changes nothing (a replayed PUT, a PATCH to the same value) is not a change.
      if (ctx.skipIfUnchanged && c.data === before.data && !ctx.sync?.pendingPassword && !ctx.sync?.tokensValidFrom) {
        return { ...toStored(before), changed: false };
      }
      mapConstraint(() => q.update.run({ id, now, ...c }), `userName "${c.userName}" is already taken`);
      writeValues(id, data, true);
      const urgent = takesAway(JSON.parse(before.data) as Record<string, unknown>, data);
      const sync = record(id, ctx.action ?? 'user.replace', urgent ? { ...ctx, sync: { ...ctx.sync, urgent } } : ctx, now);
      // As a GET reads it right after: data as stored, with the sync state the write left.
      const stored = { id, sourceId: before.source_id, version: before.version + 1, created: before.created, lastModified: now, data: JSON.parse(c.data) };
      return { ...stored, changed: true, sync };
    },
  );

  // A deleted user leaves its groups: memberships never applied to Graph go, applied ones
  // become pending removes, and each group it left is marked dirty.
  const remove = db.transaction((id: string, ctx: WriteContext & { expectedVersion?: number }): void => {
    const before = q.get.get(id) as ResourceRow | undefined;
    if (!before) throw notFound(`User ${id} not found`);
    if (ctx.expectedVersion !== undefined && ctx.expectedVersion !== before.version) throw preconditionFailed('resource version does not match If-Match');
    const now = (ctx.at ?? new Date()).toISOString();
    const groups = q.groupsOf.all(id) as string[];
    q.softDelete.run(now, id);
    q.clearValues.run(id);
    q.dropNeverApplied.run(id);
    q.leaveGroups.run(id);
    for (const g of groups) {
      q.touchGroup.run(now, g);
      // The user leaves the group: a member removal.
      deps.sync.markDirty('Group', g, { sync: { urgent: true } });
    }
    record(id, ctx.action ?? 'user.delete', { ...ctx, attributes: undefined }, now, true);
  });

  return {
    create,
    replace,
    remove,
    get(id: string): StoredResource | null {
      const r = q.get.get(id) as ResourceRow | undefined;
      return r ? toStored(r) : null;
    },
    getByUserName(userName: string): StoredResource | null {
      const r = q.byUserName.get(identityKey(userName)) as ResourceRow | undefined;
      return r ? toStored(r) : null;
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
    /** For sync/: the resource including deleted ones (until deprovisioned), with id and schemas. */
    getForSync(id: string): ForSync | null {
      const r = q.getAny.get(id) as ResourceRow | undefined;
      if (!r) return null;
      return toForSync(r, 'User');
    },
  };
}
