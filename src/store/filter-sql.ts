// Filter AST -> SQL (RFC 7644 section 3.4.2.2), pushed down so no list ever loads all rows.
// Indexed columns for the attributes IdPs filter on; multi-valued `value`s through the indexed
// user_values table; members through memberships; everything else through JSON functions.
// caseExact=false compares with COLLATE NOCASE (and the indexes are built NOCASE to match).
import { BridgeError, invalidFilter } from '../errors';
import type { CompareOp, FilterAttr, FilterNode, FilterValue, SortSpec } from './filter-types';
import { identityKey } from './identity-key';
import { INDEXED_MULTI_VALUED } from './users';

export interface Sql {
  sql: string;
  params: unknown[];
}

type Kind = 'User' | 'Group';

const BRIDGE = 'urn:ietf:params:scim:schemas:extension:graphbridge:2.0:User';

/** Columns standing for attributes; the expression must match the index definitions verbatim. */
function column(kind: Kind, attr: FilterAttr): string | undefined {
  const t = kind === 'User' ? 'u' : 'g';
  if (!attr.schema) {
    if (attr.name === 'id' && !attr.sub) return `${t}.id`;
    if (attr.name === 'externalId' && !attr.sub) return `${t}.external_id`;
    if (attr.name === 'meta') {
      if (attr.sub === 'created') return `${t}.created`;
      if (attr.sub === 'lastModified') return `${t}.last_modified`;
      if (attr.sub === 'resourceType') return `'${kind}'`;
      if (attr.sub === 'version') return `('W/"' || ${t}.version || '"')`;
    }
    if (kind === 'User') {
      if (attr.name === 'userName') return 'u.user_name';
      if (attr.name === 'displayName') return 'u.display_name';
      if (attr.name === 'active') return 'u.active';
    } else if (attr.name === 'displayName') return 'g.display_name';
  } else if (attr.schema === BRIDGE) {
    const syncColumns: Record<string, string> = {
      source: 'u.source_id',
      syncState: 's.state',
      graphId: 's.graph_id',
      lastSyncError: 's.last_error',
      dirSyncEnabled: 's.dir_sync_enabled',
      tokensValidFrom: 's.tokens_valid_from',
    };
    if (syncColumns[attr.name]) return syncColumns[attr.name];
  }
  return undefined;
}

const SIMPLE_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
function jsonPath(keys: string[]): string {
  return `$${keys.map((k) => (SIMPLE_KEY.test(k) ? `.${k}` : `."${k.replace(/"/g, '')}"`)).join('')}`;
}

function dataPath(attr: FilterAttr, withSub = true): string[] {
  return [...(attr.schema ? [attr.schema] : []), attr.name, ...(withSub && attr.sub ? [attr.sub] : [])];
}

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** One comparison of expression `e` (a scalar) with a value, following the attribute's type. */
function compareSql(e: string, attr: FilterAttr, op: CompareOp, value: FilterValue): Sql {
  const nocase = !attr.caseExact && (attr.type === 'string' || attr.type === 'reference');
  const coll = nocase ? ' COLLATE NOCASE' : '';
  if (value === null) return { sql: op === 'ne' ? `${e} IS NOT NULL` : `${e} IS NULL`, params: [] };
  const v = typeof value === 'boolean' ? (value ? 1 : 0) : value;
  switch (op) {
    case 'eq':
      return { sql: `${e} = ?${coll}`, params: [v] };
    case 'ne':
      return { sql: `(${e} IS NULL OR ${e} <> ?${coll})`, params: [v] };
    case 'gt':
    case 'ge':
    case 'lt':
    case 'le': {
      const sym = { gt: '>', ge: '>=', lt: '<', le: '<=' }[op];
      return { sql: `${e} ${sym} ?${coll}`, params: [v] };
    }
    case 'sw':
      // A range on the (NOCASE) index instead of LIKE: same answer, and it can seek.
      return { sql: `(${e} >= ?${coll} AND ${e} < ?${coll})`, params: [String(v), `${String(v)}\u{10FFFF}`] };
    case 'co':
    case 'ew': {
      const pattern = op === 'co' ? `%${escapeLike(String(v))}%` : `%${escapeLike(String(v))}`;
      // LIKE folds ASCII case; caseExact needs GLOB-free exact matching instead.
      if (!nocase)
        return op === 'co' ? { sql: `instr(${e}, ?) > 0`, params: [String(v)] } : { sql: `substr(${e}, -length(?)) = ?`, params: [String(v), String(v)] };
      return { sql: `${e} LIKE ? ESCAPE '\\'`, params: [pattern] };
    }
  }
}

function presentSql(e: string): string {
  return `(${e} IS NOT NULL AND ${e} <> '' AND ${e} <> '[]' AND ${e} <> '{}')`;
}

class Compiler {
  /** `ownerId`: the reader sees only what this source owns, members and a user's groups included. */
  constructor(
    private readonly kind: Kind,
    private readonly ownerId: string | null = null,
  ) {}

  /** Restricts a membership row `m` to what the reader sees: members (or groups) it owns. */
  private scoped(inner: Sql, side: 'member' | 'group'): Sql {
    const sql = `EXISTS (SELECT 1 FROM memberships m WHERE m.${side === 'member' ? 'group_id = g.id' : 'member_id = u.id'} AND m.present = 1 AND ${inner.sql}`;
    if (this.ownerId === null) return { sql: `${sql})`, params: inner.params };
    const owned =
      side === 'member'
        ? `coalesce((SELECT su.source_id FROM users su WHERE su.id = m.member_id), (SELECT sg.source_id FROM groups sg WHERE sg.id = m.member_id)) = ?`
        : `(SELECT sg.source_id FROM groups sg WHERE sg.id = m.group_id) = ?`;
    return { sql: `${sql} AND ${owned})`, params: [...inner.params, this.ownerId] };
  }

  private get t(): string {
    return this.kind === 'User' ? 'u' : 'g';
  }

  compile(node: FilterNode): Sql {
    switch (node.kind) {
      case 'and':
      case 'or': {
        const parts = node.items.map((n) => this.compile(n));
        return { sql: `(${parts.map((p) => p.sql).join(node.kind === 'and' ? ' AND ' : ' OR ')})`, params: parts.flatMap((p) => p.params) };
      }
      case 'not': {
        const inner = this.compile(node.expr);
        return { sql: `NOT coalesce(${inner.sql}, 0)`, params: inner.params };
      }
      case 'pr':
        return this.leaf(node.attr, (e) => ({ sql: presentSql(e), params: [] }), 'pr');
      case 'cmp':
        return this.leaf(node.attr, (e) => compareSql(e, node.attr, node.op, node.value), node.op, node.value);
      case 'valuePath':
        return this.valuePath(node.attr, node.filter);
    }
  }

  /** A comparison on one attribute: column, membership table, indexed values, or JSON. */
  private leaf(attr: FilterAttr, cmp: (e: string) => Sql, op: CompareOp | 'pr', value?: FilterValue): Sql {
    // `userName eq` / a group's `displayName eq` compare identity keys as uniqueness does (identity-key.ts),
    // so the lookup an IdP makes before a create finds what a create would collide with.
    if (op === 'eq' && typeof value === 'string' && !attr.schema && !attr.sub) {
      if (this.kind === 'User' && attr.name === 'userName') return { sql: 'u.user_name_key = ?', params: [identityKey(value)] };
      if (this.kind === 'Group' && attr.name === 'displayName') return { sql: 'g.display_name_key = ?', params: [identityKey(value)] };
    }
    const col = column(this.kind, attr);
    if (col) return cmp(col);
    const t = this.t;
    if (this.kind === 'Group' && attr.name === 'members' && !attr.schema) return this.members(attr, cmp);
    if (this.kind === 'User' && attr.name === 'groups' && !attr.schema) {
      if (attr.sub !== 'value' && attr.sub !== undefined) throw unsupported(`groups.${attr.sub}`);
      return this.scoped(cmp('m.group_id'), 'group');
    }
    if (attr.multiValued) {
      if (
        this.kind === 'User' &&
        !attr.schema &&
        attr.sub === 'value' &&
        op !== 'ne' &&
        (INDEXED_MULTI_VALUED as readonly string[]).includes(attr.name) &&
        !(op === 'eq' && value === null)
      ) {
        const inner = cmp('v.value');
        return { sql: `u.id IN (SELECT v.user_id FROM user_values v WHERE v.attr = '${attr.name}' AND ${inner.sql})`, params: inner.params };
      }
      const path = jsonPath(dataPath(attr, false));
      if (op === 'pr' && !attr.sub) return { sql: `coalesce(json_array_length(${t}.data, '${path}'), 0) > 0`, params: [] };
      const inner = cmp(attr.sub ? `(e.value ->> '${jsonPath([attr.sub])}')` : 'e.value');
      return { sql: `EXISTS (SELECT 1 FROM json_each(${t}.data, '${path}') e WHERE ${inner.sql})`, params: inner.params };
    }
    const expr = attr.type === 'complex' && !attr.sub ? `(${t}.data -> '${jsonPath(dataPath(attr))}')` : `(${t}.data ->> '${jsonPath(dataPath(attr))}')`;
    return cmp(expr);
  }

  private members(attr: FilterAttr, cmp: (e: string) => Sql): Sql {
    const col = { value: 'm.member_id', type: 'm.member_type', display: 'm.display' }[attr.sub ?? 'value'];
    if (!col) throw unsupported(`members.${attr.sub}`);
    return this.scoped(cmp(col), 'member');
  }

  private valuePath(attr: FilterAttr, filter: FilterNode): Sql {
    const t = this.t;
    if (this.kind === 'Group' && attr.name === 'members' && !attr.schema) {
      return this.scoped(
        this.within(filter, (a) => ({ value: 'm.member_id', type: 'm.member_type', display: 'm.display' })[a.sub ?? ''] ?? fail(a)),
        'member',
      );
    }
    if (this.kind === 'User' && attr.name === 'groups' && !attr.schema) {
      return this.scoped(
        this.within(filter, (a) => (a.sub === 'value' ? 'm.group_id' : fail(a))),
        'group',
      );
    }
    const path = jsonPath(dataPath(attr, false));
    if (!attr.multiValued) {
      const inner = this.within(filter, (a) => `(${t}.data ->> '${jsonPath([...dataPath(attr, false), a.sub ?? ''])}')`);
      return inner;
    }
    const inner = this.within(filter, (a) => `(e.value ->> '${jsonPath([a.sub ?? ''])}')`);
    const exists = { sql: `EXISTS (SELECT 1 FROM json_each(${t}.data, '${path}') e WHERE ${inner.sql})`, params: inner.params };
    // emails[type eq "work" and value eq "x"]: seek the indexed values first, then check the element.
    const seek = this.kind === 'User' && !attr.schema && (INDEXED_MULTI_VALUED as readonly string[]).includes(attr.name) ? valueTerm(filter) : undefined;
    if (!seek) return exists;
    const prefilter = compareSql('v.value', seek.attr, seek.op, seek.value);
    return {
      sql: `(u.id IN (SELECT v.user_id FROM user_values v WHERE v.attr = '${attr.name}' AND ${prefilter.sql}) AND ${exists.sql})`,
      params: [...prefilter.params, ...exists.params],
    };
  }

  /** Compiles a value-path filter whose leaves are sub-attributes resolved by `expr`. */
  private within(node: FilterNode, expr: (a: FilterAttr) => string): Sql {
    switch (node.kind) {
      case 'and':
      case 'or': {
        const parts = node.items.map((n) => this.within(n, expr));
        return { sql: `(${parts.map((p) => p.sql).join(node.kind === 'and' ? ' AND ' : ' OR ')})`, params: parts.flatMap((p) => p.params) };
      }
      case 'not': {
        const inner = this.within(node.expr, expr);
        return { sql: `NOT coalesce(${inner.sql}, 0)`, params: inner.params };
      }
      case 'pr':
        return { sql: presentSql(expr(node.attr)), params: [] };
      case 'cmp':
        return compareSql(expr(node.attr), node.attr, node.op, node.value);
      case 'valuePath':
        throw unsupported('nested value path');
    }
  }
}

/** A `value eq|sw` term that every match of a value-path filter must satisfy, if there is one. */
function valueTerm(node: FilterNode): Extract<FilterNode, { kind: 'cmp' }> | undefined {
  if (node.kind === 'cmp' && node.attr.sub === 'value' && (node.op === 'eq' || node.op === 'sw') && typeof node.value === 'string') return node;
  if (node.kind === 'and')
    for (const item of node.items) {
      const found = valueTerm(item);
      if (found) return found;
    }
  return undefined;
}

function unsupported(what: string): BridgeError {
  return invalidFilter(`filtering on ${what} is not supported`);
}

function fail(a: FilterAttr): never {
  throw unsupported(`${a.name}.${a.sub}`);
}

export function compileFilter(kind: Kind, node: FilterNode, ownerId: string | null = null): Sql {
  return new Compiler(kind, ownerId).compile(node);
}

/** Whether a filter needs the sync_state join (bridge read-only attributes). */
export function usesSyncState(node: FilterNode | undefined): boolean {
  if (!node) return false;
  switch (node.kind) {
    case 'and':
    case 'or':
      return node.items.some(usesSyncState);
    case 'not':
      return usesSyncState(node.expr);
    default:
      return node.attr.schema === BRIDGE;
  }
}

export function compileSort(kind: Kind, sort: SortSpec): string {
  const { attr } = sort;
  const t = kind === 'User' ? 'u' : 'g';
  const dir = sort.descending ? 'DESC' : 'ASC';
  const nocase = !attr.caseExact && (attr.type === 'string' || attr.type === 'reference') ? ' COLLATE NOCASE' : '';
  let e = column(kind, attr);
  if (!e) {
    if (attr.multiValued) {
      // RFC 7644 section 3.4.2.3: a multi-valued attribute sorts by its primary (else first) value.
      const path = jsonPath(dataPath(attr, false));
      e = `(SELECT e.value ->> '${jsonPath([attr.sub ?? 'value'])}' FROM json_each(${t}.data, '${path}') e ORDER BY (e.value ->> '$.primary') DESC LIMIT 1)`;
    } else if (attr.type === 'complex' && !attr.sub) throw unsupported(`sorting by complex ${attr.name}`);
    else e = `(${t}.data ->> '${jsonPath(dataPath(attr))}')`;
  }
  const notNull = e === 'u.user_name' || e === 'g.display_name' || e === `${t}.id` || e.startsWith(`${t}.created`) || e.startsWith(`${t}.last_modified`);
  return `${notNull ? '' : `(${e} IS NULL), `}${e}${nocase} ${dir}, ${t}.rowid ${dir}`;
}
