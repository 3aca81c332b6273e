// Reads for the SCIM surface: one resource with its sync state, and filtered, sorted, paged
// lists. Statements are prepared once per distinct SQL text and cached. The total of an
// unfiltered list (a count over every live resource of an owner) is kept until a resource row
// is inserted, deleted or changes owner (temporary triggers on this connection) or another
// connection commits (`PRAGMA data_version`), so paging through a large collection does not
// count it again for every page.
import type { Database, Statement } from 'better-sqlite3';
import { compileFilter, compileSort, usesSyncState, type Sql } from './filter-sql';
import type { FilterNode, SortSpec } from './filter-types';
import type { StoredResource, SyncStateName, SyncView } from './types';
import { type ResourceRow, toStored } from './resource-row';

export interface ListedResource extends StoredResource {
  /** The sync bookkeeping a GET reports in the bridge extension (users and groups). */
  sync?: SyncView;
}

export interface ListQuery {
  filter?: FilterNode;
  sort?: SortSpec;
  /** 1-based. */
  startIndex: number;
  count: number;
  /** Restrict to resources owned by this source; null for a source that sees all. */
  ownerId: string | null;
}

// A live resource row with its sync columns joined in.
interface Row extends Omit<ResourceRow, 'deleted'> {
  state?: SyncStateName | null;
  graph_id?: string | null;
  last_error?: string | null;
  dir_sync_enabled?: number | null;
  tokens_valid_from?: string | null;
}

function toListed(r: Row, withSync: boolean): ListedResource {
  const out: ListedResource = toStored(r);
  if (withSync) {
    out.sync = {
      state: r.state ?? null,
      graphId: r.graph_id ?? null,
      lastError: r.last_error ?? null,
      dirSyncEnabled: r.dir_sync_enabled === null || r.dir_sync_enabled === undefined ? null : r.dir_sync_enabled === 1,
      tokensValidFrom: r.tokens_valid_from ?? null,
    };
  }
  return out;
}

const BRIDGE_USER_SCHEMA = 'urn:ietf:params:scim:schemas:extension:graphbridge:2.0:User';

/**
 * `userName eq "..."`, the lookup an IdP makes before each create: compiled to the identity key,
 * unique among live users (filter-sql.ts), so it matches at most one row.
 */
function pinsOneUser(f: FilterNode): boolean {
  return f.kind === 'cmp' && f.op === 'eq' && typeof f.value === 'string' && !f.attr.schema && !f.attr.sub && f.attr.name === 'userName';
}
const USER_COLS = `u.id, u.source_id, u.data, u.version, u.created, u.last_modified,
  s.state, s.graph_id, s.last_error, s.dir_sync_enabled, s.tokens_valid_from`;
const USER_FROM = `users u LEFT JOIN sync_state s ON s.type = 'User' AND s.id = u.id`;
const GROUP_COLS = `g.id, g.source_id, g.data, g.version, g.created, g.last_modified,
  s.state, s.graph_id, s.last_error, NULL AS dir_sync_enabled, NULL AS tokens_valid_from`;
const GROUP_FROM = `groups g LEFT JOIN sync_state s ON s.type = 'Group' AND s.id = g.id`;

export function createResourceQueries(db: Database) {
  const cache = new Map<string, Statement>();
  function prepared(sql: string): Statement {
    let stmt = cache.get(sql);
    if (!stmt) {
      if (cache.size > 500) cache.clear();
      stmt = db.prepare(sql);
      cache.set(sql, stmt);
    }
    return stmt;
  }

  // Moves on every row this connection inserts, deletes, soft-deletes or moves to another owner.
  let generation = 0;
  db.function('bridge_resources_changed', { varargs: false }, () => {
    generation++;
    return null;
  });
  for (const table of ['users', 'groups']) {
    for (const [name, event] of [
      ['insert', 'INSERT'],
      ['delete', 'DELETE'],
      ['update', 'UPDATE OF deleted, source_id'],
    ]) {
      db.exec(`CREATE TEMP TRIGGER IF NOT EXISTS bridge_count_${table}_${name} AFTER ${event} ON main.${table} BEGIN SELECT bridge_resources_changed(); END`);
    }
  }
  const dataVersion = db.prepare('PRAGMA data_version').pluck();
  const totals = new Map<string, { generation: number; dataVersion: number; total: number }>();

  /** count(*) of a list; an unfiltered one is kept while nothing it counts can have changed (outside a transaction only). */
  function totalOf(sql: string, params: unknown[], cacheable: boolean): number {
    if (!cacheable || db.inTransaction)
      return prepared(sql)
        .pluck()
        .get(...params) as number;
    const key = `${sql}\0${params.join('\0')}`;
    const version = dataVersion.get() as number;
    const hit = totals.get(key);
    if (hit && hit.generation === generation && hit.dataVersion === version) return hit.total;
    const total = prepared(sql)
      .pluck()
      .get(...params) as number;
    if (totals.size > 100) totals.clear();
    totals.set(key, { generation, dataVersion: version, total });
    return total;
  }

  const getUser = db.prepare(`SELECT ${USER_COLS} FROM ${USER_FROM} WHERE u.id = ? AND u.deleted = 0`);
  const getGroup = db.prepare(`SELECT ${GROUP_COLS} FROM ${GROUP_FROM} WHERE g.id = ? AND g.deleted = 0`);

  function where(kind: 'User' | 'Group', q: ListQuery): Sql {
    const t = kind === 'User' ? 'u' : 'g';
    const parts = [`${t}.deleted = 0`];
    const params: unknown[] = [];
    if (q.ownerId !== null) {
      // With a filter, tell the planner the owner term is not selective (one source usually owns
      // nearly everything) so that it seeks on the filter's index instead of scanning the owner's.
      parts.push(q.filter ? `likely(${t}.source_id = ?)` : `${t}.source_id = ?`);
      params.push(q.ownerId);
    }
    if (q.filter) {
      const f = compileFilter(kind, q.filter, q.ownerId);
      parts.push(f.sql);
      params.push(...f.params);
    }
    return { sql: parts.join(' AND '), params };
  }

  function list(kind: 'User' | 'Group', q: ListQuery): { total: number; resources: ListedResource[] } {
    const w = where(kind, q);
    const user = kind === 'User';
    const joinSync = user && (usesSyncState(q.filter) || q.sort?.attr.schema === BRIDGE_USER_SCHEMA);
    const countFrom = user ? (joinSync ? USER_FROM : 'users u') : 'groups g';
    const countSql = `SELECT count(*) FROM ${countFrom} WHERE ${w.sql}`;
    const kept = !q.filter;
    if (q.count <= 0) return { total: totalOf(countSql, w.params, kept), resources: [] };
    if (user && q.filter && pinsOneUser(q.filter)) {
      // At most one live row (the unique identity key): no page to order or skip, one seek.
      const rows = prepared(`SELECT ${USER_COLS} FROM ${USER_FROM} WHERE ${w.sql}`).all(...w.params) as Row[];
      return { total: rows.length, resources: rows.slice(q.startIndex - 1, q.startIndex - 1 + q.count).map((r) => toListed(r, true)) };
    }
    // An unfiltered total is usually kept (totalOf): counted first, it spares the page past the end.
    const counted = kept ? totalOf(countSql, w.params, true) : undefined;
    if (counted !== undefined && q.startIndex > counted) return { total: counted, resources: [] };
    const order = q.sort ? compileSort(kind, q.sort) : `${user ? 'u' : 'g'}.rowid`;
    const t = user ? 'u' : 'g';
    // Deferred join: page over rowids (a covering index for the common cases) and read the
    // 100 rows afterwards, so a deep OFFSET skips index entries rather than whole rows.
    const page = `SELECT ${t}.rowid FROM ${countFrom} WHERE ${w.sql} ORDER BY ${order} LIMIT ? OFFSET ?`;
    const sql = `SELECT ${user ? USER_COLS : GROUP_COLS} FROM ${user ? USER_FROM : GROUP_FROM} WHERE ${t}.rowid IN (${page}) ORDER BY ${order}`;
    const rows = prepared(sql).all(...w.params, q.count, q.startIndex - 1) as Row[];
    // A filtered page that is neither empty nor full is the end of the result: it tells the total
    // without a count (a lookup by userName, the IdP's question before each create, is one statement).
    const total = counted ?? (rows.length > 0 && rows.length < q.count ? q.startIndex - 1 + rows.length : totalOf(countSql, w.params, false));
    return { total, resources: rows.map((r) => toListed(r, true)) };
  }

  return {
    list,
    getUser(id: string): ListedResource | null {
      const r = getUser.get(id) as Row | undefined;
      return r ? toListed(r, true) : null;
    },
    getGroup(id: string): ListedResource | null {
      const r = getGroup.get(id) as Row | undefined;
      return r ? toListed(r, true) : null;
    },
    /** The SQL plan of a list query (tests assert that filters use indexes). */
    explain(kind: 'User' | 'Group', q: ListQuery): string[] {
      const w = where(kind, q);
      const from = kind === 'User' ? USER_FROM : 'groups g';
      return (db.prepare(`EXPLAIN QUERY PLAN SELECT count(*) FROM ${from} WHERE ${w.sql}`).all(...w.params) as { detail: string }[]).map((r) => r.detail);
    },
  };
}
