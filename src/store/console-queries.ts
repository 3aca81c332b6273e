// Read models of the operator's console (src/admin/console-*.ts): pages of users and groups
// filtered by sync state, source and text, group members, pending deletions, the audit log and
// a resource's timeline. Every query is bounded by a LIMIT; counts are separate queries so a page
// never loads more than it shows.
import type { Database, Statement } from 'better-sqlite3';
import type { ResourceType } from './types';

export interface ListFilter {
  /** Sync state: pending, synced, error or blocked. */
  state?: string;
  source?: string;
  /** The start of the userName, displayName, given or family name (case-insensitive), or an exact id or externalId. */
  text?: string;
  offset: number;
  limit: number;
}

export interface ConsoleUserRow {
  id: string;
  userName: string;
  displayName: string | null;
  source: string;
  active: boolean;
  syncState: string;
  lastError: string | null;
  graphId: string | null;
}

export interface ConsoleGroupRow {
  id: string;
  displayName: string;
  source: string;
  members: number;
  syncState: string;
  lastError: string | null;
  graphId: string | null;
}

export interface ConsoleMemberRow {
  id: string;
  type: ResourceType;
  name: string | null;
  /** in Graph | to add | to remove */
  status: 'in Graph' | 'to add' | 'to remove';
}

export interface PendingDeletionRow {
  id: string;
  userName: string;
  sourceId: string;
  graphId: string | null;
  deletedAt: string;
}

export interface ConsoleAuditRow {
  seq: number;
  at: string;
  sourceId: string | null;
  action: string;
  resourceType: string | null;
  resourceId: string | null;
  detail: unknown;
}

export interface AuditFilter {
  /** Exact action, or a prefix ending in '.' or '*' (`sync.`, `user.*`). */
  action?: string;
  source?: string;
  resourceId?: string;
  /** Entries older than this sequence number (paging backwards). */
  beforeSeq?: number;
  limit: number;
}

const STATES = new Set(['pending', 'synced', 'error', 'blocked']);

// The upper bound of a prefix range: every string starting with the prefix sorts below it (NOCASE
// compares UTF-8 bytes after folding ASCII case; U+10FFFF is the largest code point).
const PREFIX_END = '\u{10FFFF}';

interface Bound {
  state: string | null;
  source: string | null;
  text: string | null;
  lo: string | null;
  hi: string | null;
}

function params(f: ListFilter): Bound {
  const text = f.text?.trim() || null;
  return {
    state: f.state && STATES.has(f.state) ? f.state : null,
    source: f.source || null,
    text,
    lo: text,
    hi: text ? text + PREFIX_END : null,
  };
}

/**
 * One statement per combination of filters, so that each uses its index: name order from the NOCASE
 * name index, a state from sync_state_state, text as prefix ranges over the name indexes.
 * Pages are two steps: the rowids of the page, then those rows.
 */
function listStatements(db: Database, type: 'User' | 'Group') {
  const table = type === 'User' ? 'users' : 'groups';
  const order = type === 'User' ? 'r.user_name COLLATE NOCASE' : 'r.display_name COLLATE NOCASE';
  const range = (expr: string) => `SELECT rowid FROM ${table} WHERE deleted = 0 AND ${expr} >= @lo COLLATE NOCASE AND ${expr} < @hi COLLATE NOCASE`;
  // A union of index searches: each arm uses its own NOCASE index (an OR would scan in name order).
  const textMatch = [
    range(type === 'User' ? 'user_name' : 'display_name'),
    ...(type === 'User' ? [range('display_name'), range(`(data ->> '$.name.givenName')`), range(`(data ->> '$.name.familyName')`)] : []),
    `SELECT rowid FROM ${table} WHERE deleted = 0 AND external_id = @text`,
    `SELECT rowid FROM ${table} WHERE id = @text`,
  ].join(' UNION ');
  const cache = new Map<string, { count: Statement; page: Statement }>();
  return (b: Bound) => {
    const key = `${b.state ? 's' : ''}${b.source ? 'o' : ''}${b.text ? 't' : ''}`;
    let st = cache.get(key);
    if (!st) {
      const where = ['r.deleted = 0'];
      if (b.source) where.push('r.source_id = @source');
      if (b.text) where.push(`r.rowid IN (${textMatch})`);
      // Every resource has its sync_state row from its first write.
      const join = b.state ? `JOIN sync_state s ON s.type = '${type}' AND s.id = r.id AND s.state = @state COLLATE NOCASE` : '';
      const from = `FROM ${table} r ${join} WHERE ${where.join(' AND ')}`;
      st = {
        count: db.prepare(`SELECT count(*) ${from}`).pluck(),
        page: db.prepare(`SELECT r.rowid ${from} ORDER BY ${order} LIMIT @limit OFFSET @offset`).pluck(),
      };
      cache.set(key, st);
    }
    const args = Object.fromEntries(Object.entries(b).filter(([k, v]) => v !== null && (k !== 'lo' && k !== 'hi' ? true : b.text !== null)));
    return {
      count: () => st!.count.get(args) as number,
      rowids: (limit: number, offset: number) => st!.page.all({ ...args, limit, offset }) as number[],
    };
  };
}

export function createConsoleQueries(db: Database) {
  const userList = listStatements(db, 'User');
  const groupList = listStatements(db, 'Group');
  const q = {
    // Deleted resources: `deprovisioned` once applied, `deprovisioning` while Graph still has to follow.
    counts:
      db.prepare(`SELECT type, CASE WHEN deleted = 1 AND state = 'synced' THEN 'deprovisioned' WHEN deleted = 1 THEN 'deprovisioning' ELSE state END AS state,
        count(*) AS n FROM sync_state GROUP BY 1, 2`),
    userNames: db.prepare(`SELECT id, user_name AS name FROM users WHERE id IN (SELECT value FROM json_each(?))`),
    groupNames: db.prepare(`SELECT id, display_name AS name FROM groups WHERE id IN (SELECT value FROM json_each(?))`),
    userRows: db.prepare(`SELECT u.id, u.user_name AS userName, u.display_name AS displayName, u.source_id AS source, u.active,
        coalesce(s.state, 'pending') AS syncState, s.last_error AS lastError, s.graph_id AS graphId
      FROM users u LEFT JOIN sync_state s ON s.type = 'User' AND s.id = u.id
      WHERE u.rowid IN (SELECT value FROM json_each(?)) ORDER BY u.user_name COLLATE NOCASE`),
    groupRows: db.prepare(`SELECT g.id, g.display_name AS displayName, g.source_id AS source,
        (SELECT count(*) FROM memberships m WHERE m.group_id = g.id AND m.present = 1) AS members,
        coalesce(s.state, 'pending') AS syncState, s.last_error AS lastError, s.graph_id AS graphId
      FROM groups g LEFT JOIN sync_state s ON s.type = 'Group' AND s.id = g.id
      WHERE g.rowid IN (SELECT value FROM json_each(?)) ORDER BY g.display_name COLLATE NOCASE`),
    memberTotal: db.prepare(`SELECT count(*) FROM memberships WHERE group_id = ? AND (present = 1 OR in_graph = 1)`).pluck(),
    memberPage: db.prepare(`SELECT m.member_id AS id, m.member_type AS type, m.present, m.in_graph AS inGraph,
        coalesce(u.user_name, g.display_name, m.display) AS name
      FROM memberships m
      LEFT JOIN users u ON m.member_type = 'User' AND u.id = m.member_id
      LEFT JOIN groups g ON m.member_type = 'Group' AND g.id = m.member_id
      WHERE m.group_id = ? AND (m.present = 1 OR m.in_graph = 1)
      ORDER BY name COLLATE NOCASE, m.member_id LIMIT ? OFFSET ?`),
    groupsOfUser: db.prepare(`SELECT g.id, g.display_name AS displayName FROM memberships m JOIN groups g ON g.id = m.group_id
      WHERE m.member_id = ? AND m.present = 1 AND g.deleted = 0 ORDER BY g.display_name COLLATE NOCASE LIMIT ?`),
    pendingDeletionCounts: db.prepare(`SELECT u.source_id AS sourceId, count(*) AS n FROM sync_state s JOIN users u ON u.id = s.id
      WHERE s.type = 'User' AND s.deleted = 1 AND s.desired_version > s.applied_version GROUP BY u.source_id ORDER BY u.source_id`),
    pendingDeletions: db.prepare(`SELECT u.id, u.user_name AS userName, u.source_id AS sourceId, s.graph_id AS graphId, u.last_modified AS deletedAt
      FROM sync_state s JOIN users u ON u.id = s.id
      WHERE s.type = 'User' AND s.deleted = 1 AND s.desired_version > s.applied_version AND (@source IS NULL OR u.source_id = @source)
      ORDER BY u.source_id, u.user_name COLLATE NOCASE LIMIT @limit`),
    audit: db.prepare(`SELECT seq, at, source_id AS sourceId, action, resource_type AS resourceType, resource_id AS resourceId, detail FROM audit
      WHERE (@before IS NULL OR seq < @before)
        AND ((@action IS NULL AND @prefix IS NULL) OR action = @action OR substr(action, 1, length(@prefix)) = @prefix)
        AND (@source IS NULL OR source_id = @source)
        AND (@resource IS NULL OR resource_id = @resource)
      ORDER BY seq DESC LIMIT @limit`),
    auditOf: db.prepare(`SELECT seq, at, source_id AS sourceId, action, resource_type AS resourceType, resource_id AS resourceId, detail FROM audit
      WHERE resource_type = ? AND resource_id = ? ORDER BY seq DESC LIMIT ?`),
    byGraphId: db.prepare(`SELECT type, id FROM sync_state WHERE graph_id = ? LIMIT 1`),
    userByName: db.prepare(`SELECT id FROM users WHERE user_name = ? COLLATE NOCASE AND deleted = 0 LIMIT 1`).pluck(),
    groupByName: db.prepare(`SELECT id FROM groups WHERE display_name = ? COLLATE NOCASE AND deleted = 0 LIMIT 1`).pluck(),
  };

  const auditRows = (rows: unknown[]): ConsoleAuditRow[] =>
    (rows as (ConsoleAuditRow & { detail: string | null })[]).map((r) => ({ ...r, detail: r.detail ? JSON.parse(r.detail) : null }));

  return {
    /** `{ User: { synced: 10, pending: 2, ... }, Group: { ... } }`; deleted ones count as `deprovisioning` / `deprovisioned`. */
    countsByTypeAndState(): Record<ResourceType, Record<string, number>> {
      const out: Record<ResourceType, Record<string, number>> = {
        User: { pending: 0, synced: 0, error: 0, blocked: 0, deprovisioning: 0, deprovisioned: 0 },
        Group: { pending: 0, synced: 0, error: 0, blocked: 0, deprovisioning: 0, deprovisioned: 0 },
      };
      for (const r of q.counts.all() as { type: ResourceType; state: string; n: number }[]) {
        if (out[r.type]) out[r.type][r.state] = (out[r.type][r.state] ?? 0) + r.n;
      }
      return out;
    },
    userList(filter: ListFilter): { total: number; items: ConsoleUserRow[] } {
      const list = userList(params(filter));
      const rowids = list.rowids(filter.limit, filter.offset);
      const items = (q.userRows.all(JSON.stringify(rowids)) as (Omit<ConsoleUserRow, 'active'> & { active: number })[]).map((r) => ({
        ...r,
        active: r.active === 1,
      }));
      return { total: list.count(), items };
    },
    groupList(filter: ListFilter): { total: number; items: ConsoleGroupRow[] } {
      const list = groupList(params(filter));
      return { total: list.count(), items: q.groupRows.all(JSON.stringify(list.rowids(filter.limit, filter.offset))) as ConsoleGroupRow[] };
    },
    groupMembers(groupId: string, page: { offset: number; limit: number }): { total: number; items: ConsoleMemberRow[] } {
      const rows = q.memberPage.all(groupId, page.limit, page.offset) as {
        id: string;
        type: ResourceType;
        present: number;
        inGraph: number;
        name: string | null;
      }[];
      return {
        total: q.memberTotal.get(groupId) as number,
        items: rows.map((r) => ({ id: r.id, type: r.type, name: r.name, status: r.present && r.inGraph ? 'in Graph' : r.present ? 'to add' : 'to remove' })),
      };
    },
    groupsOfUser(userId: string, limit: number): { id: string; displayName: string }[] {
      return q.groupsOfUser.all(userId, limit) as { id: string; displayName: string }[];
    },
    /** Deleted users whose deprovisioning in Graph is still to do, per source, and up to `limit` of them. */
    pendingDeletions(options: { source?: string; limit: number }): { bySource: { sourceId: string; count: number }[]; items: PendingDeletionRow[] } {
      return {
        bySource: (q.pendingDeletionCounts.all() as { sourceId: string; n: number }[]).map((r) => ({ sourceId: r.sourceId, count: r.n })),
        items: q.pendingDeletions.all({ source: options.source ?? null, limit: options.limit }) as PendingDeletionRow[],
      };
    },
    auditList(filter: AuditFilter): ConsoleAuditRow[] {
      const action = filter.action?.trim() || null;
      const prefix = action && (action.endsWith('.') || action.endsWith('*')) ? action.replace(/\*$/, '') : null;
      return auditRows(
        q.audit.all({
          before: filter.beforeSeq ?? null,
          action: prefix ? null : action,
          prefix,
          source: filter.source || null,
          resource: filter.resourceId || null,
          limit: filter.limit,
        }),
      );
    },
    auditOf(type: ResourceType, id: string, limit: number): ConsoleAuditRow[] {
      return auditRows(q.auditOf.all(type, id, limit));
    },
    /** userName / displayName of resources (deleted ones too), keyed `Type:id`; at most 500 looked up. */
    names(refs: readonly { type: string | null; id: string | null }[]): Map<string, string> {
      const out = new Map<string, string>();
      for (const [type, stmt] of [
        ['User', q.userNames],
        ['Group', q.groupNames],
      ] as const) {
        const ids = [...new Set(refs.filter((r) => r.type === type && r.id).map((r) => r.id as string))].slice(0, 500);
        if (!ids.length) continue;
        for (const r of stmt.all(JSON.stringify(ids)) as { id: string; name: string }[]) out.set(`${type}:${r.id}`, r.name);
      }
      return out;
    },
    /** The bridge resource a Graph request concerned: by Graph id, else by UPN or group name. */
    resourceFor(keys: { graphId?: string; userName?: string; groupName?: string }): { type: ResourceType; id: string } | null {
      if (keys.graphId) {
        const r = q.byGraphId.get(keys.graphId) as { type: ResourceType; id: string } | undefined;
        if (r) return r;
      }
      if (keys.userName) {
        const id = q.userByName.get(keys.userName) as string | undefined;
        if (id) return { type: 'User', id };
      }
      if (keys.groupName) {
        const id = q.groupByName.get(keys.groupName) as string | undefined;
        if (id) return { type: 'Group', id };
      }
      return null;
    },
  };
}
