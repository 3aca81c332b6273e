// The baseline of bench/scim.ts: a bare express + better-sqlite3 SCIM handler for the three
// benchmarked requests, doing the same SQL work as the bridge on the same file (tables and
// indexes made by the store's migrations): the same statements, one transaction per write,
// and the same SCIM JSON shape in responses. No schema validation, no scimmy, no filter parser
// beyond one regular expression: what a hand-tuned endpoint would cost.
// Keep the SQL in step with src/store/ and src/scim/ (bench/lib/scim-shape.ts checks the shape).
import { randomUUID, timingSafeEqual } from 'node:crypto';
import type Database from 'better-sqlite3';
import express from 'express';

const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const BRIDGE = 'urn:ietf:params:scim:schemas:extension:graphbridge:2.0:User';
const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const MULTI = ['emails', 'phoneNumbers', 'ims', 'photos', 'entitlements', 'roles'];

export interface BaselineOptions {
  token: string;
  sourceId: string;
  dirSyncEnabled: boolean;
}

interface Row {
  id: string;
  source_id: string;
  data: string;
  version: number;
  created: string;
  last_modified: string;
  state: string | null;
  dir_sync_enabled: number | null;
  tokens_valid_from: string | null;
  graph_id: string | null;
  last_error: string | null;
}

const COLS = `u.id, u.source_id, u.data, u.version, u.created, u.last_modified,
  s.state, s.graph_id, s.last_error, s.dir_sync_enabled, s.tokens_valid_from`;
const FROM = `users u LEFT JOIN sync_state s ON s.type = 'User' AND s.id = u.id`;

/**
 * The reads, as src/store/queries.ts list() and getUser() write them: a count, then the page
 * ordered by rowid, owner-scoped, paged over rowids and joined afterwards. bench/lib/scim-sql-parity.ts checks them against the SQL the
 * store actually prepares for the same requests.
 */
const page = (where: string) =>
  `SELECT ${COLS} FROM ${FROM} WHERE u.rowid IN (SELECT u.rowid FROM users u WHERE ${where} ORDER BY u.rowid LIMIT ? OFFSET ?) ORDER BY u.rowid`;
const FILTER_WHERE = 'u.deleted = 0 AND likely(u.source_id = ?) AND u.user_name = ? COLLATE NOCASE';
const LIST_WHERE = 'u.deleted = 0 AND u.source_id = ?';
export const READ_SQL = {
  filterCount: `SELECT count(*) FROM users u WHERE ${FILTER_WHERE}`,
  filterPage: page(FILTER_WHERE),
  listCount: `SELECT count(*) FROM users u WHERE ${LIST_WHERE}`,
  listPage: page(LIST_WHERE),
  getUser: `SELECT ${COLS} FROM ${FROM} WHERE u.id = ? AND u.deleted = 0`,
};

/** The statements a create executes in the store (src/store/users.ts, attribution.ts, audit.ts, sync-state.ts). */
export const WRITE_SQL = {
  insert: `INSERT INTO users (id, source_id, user_name, external_id, display_name, active, data, version, created, last_modified)
      VALUES (@id, @sourceId, @userName, @externalId, @displayName, @active, @data, 1, @now, @now)`,
  addValue: 'INSERT OR IGNORE INTO user_values (user_id, attr, value) VALUES (?, ?, ?)',
  attribution: `INSERT INTO attribution (resource_type, resource_id, attribute, source_id, set_at) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (resource_type, resource_id, attribute) DO UPDATE SET source_id = excluded.source_id, set_at = excluded.set_at`,
  audit: 'INSERT INTO audit (at, source_id, action, resource_type, resource_id, detail) VALUES (?, ?, ?, ?, ?, ?)',
  blocked: `SELECT value FROM meta WHERE key = 'sync.blocked'`,
  nextSeq: 'SELECT coalesce(max(dirty_seq), 0) + 1 FROM sync_state',
  dirty: `INSERT INTO sync_state (type, id, desired_version, state, last_error, dirty_seq, deleted,
        dir_sync_enabled, tokens_valid_from, pending_password, password_version)
      VALUES (@type, @id, 1, @state, @lastError, @seq, @deleted, @dirSync, @tvf, @pwd, CASE WHEN @pwd IS NULL THEN NULL ELSE 1 END)
      ON CONFLICT (type, id) DO UPDATE SET
        desired_version = desired_version + 1,
        state = @state, last_error = @lastError, attempts = 0, next_attempt_at = 0, dirty_seq = @seq,
        deleted = @deleted,
        dir_sync_enabled = coalesce(@dirSync, dir_sync_enabled),
        tokens_valid_from = coalesce(@tvf, tokens_valid_from),
        pending_password = coalesce(@pwd, pending_password),
        password_version = CASE WHEN @pwd IS NULL THEN password_version ELSE desired_version + 1 END`,
};

function statements(db: Database.Database) {
  return {
    insert: db.prepare(WRITE_SQL.insert),
    addValue: db.prepare(WRITE_SQL.addValue),
    attribution: db.prepare(WRITE_SQL.attribution),
    audit: db.prepare(WRITE_SQL.audit),
    blocked: db.prepare(WRITE_SQL.blocked).pluck(),
    nextSeq: db.prepare(WRITE_SQL.nextSeq).pluck(),
    dirty: db.prepare(WRITE_SQL.dirty),
    countByUserName: db.prepare(READ_SQL.filterCount).pluck(),
    pageByUserName: db.prepare(READ_SQL.filterPage),
    count: db.prepare(READ_SQL.listCount).pluck(),
    page: db.prepare(READ_SQL.listPage),
    getUser: db.prepare(READ_SQL.getUser),
  };
}

// The keys src/scim/attribution-keys.ts records for a create: simple and multi-valued attributes
// by name, the single complex `name` by sub-attribute, extension attributes by URN.
function attributionKeys(data: Record<string, unknown>): string[] {
  const keys: string[] = [];
  for (const [key, value] of Object.entries(data)) {
    if ((key.startsWith('urn:') || key === 'name') && value && typeof value === 'object') {
      for (const sub of Object.keys(value)) keys.push(key === 'name' ? `name.${sub}` : `${key}:${sub}`);
    } else keys.push(key);
  }
  return keys.sort();
}

// The stored data carries no schemas (src/scim/resource-input.ts); the response lists them, like
// src/scim/render.ts renderUser.
function toScim(r: Row, base: string): Record<string, unknown> {
  const data = JSON.parse(r.data) as Record<string, unknown>;
  const schemas = data[ENTERPRISE] ? [CORE_USER, ENTERPRISE, BRIDGE] : [CORE_USER, BRIDGE];
  const bridge: Record<string, unknown> = { ...((data[BRIDGE] as object) ?? {}), source: r.source_id };
  if (r.dir_sync_enabled !== null) bridge.dirSyncEnabled = r.dir_sync_enabled === 1;
  if (r.tokens_valid_from !== null) bridge.tokensValidFrom = r.tokens_valid_from;
  if (r.graph_id !== null) bridge.graphId = r.graph_id;
  if (r.state !== null) bridge.syncState = r.state;
  if (r.last_error !== null) bridge.lastSyncError = r.last_error;
  const out: Record<string, unknown> = { schemas, id: r.id, ...data };
  out[BRIDGE] = bridge;
  out.meta = { resourceType: 'User', created: r.created, lastModified: r.last_modified, location: `${base}/Users/${r.id}`, version: `W/"${r.version}"` };
  return out;
}

export function createBaselineApp(db: Database.Database, options: BaselineOptions): express.Express {
  const q = statements(db);
  const expected = Buffer.from(options.token);
  const app = express();
  app.use(express.json({ type: ['application/json', 'application/scim+json'], limit: '1mb' }));
  app.use((req, res, next) => {
    const given = Buffer.from(String(req.headers.authorization ?? '').replace(/^Bearer /, ''));
    if (given.length === expected.length && timingSafeEqual(given, expected)) return next();
    res.status(401).json({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '401' });
  });
  const base = (req: express.Request) => `${req.protocol}://${req.get('host')}/scim/v2`;
  const send = (res: express.Response, status: number, body: unknown) => res.status(status).type('application/scim+json').send(JSON.stringify(body));

  const create = db.transaction((data: Record<string, unknown>) => {
    const id = randomUUID();
    const now = new Date().toISOString();
    const str = (v: unknown) => (typeof v === 'string' ? v : null);
    q.insert.run({ id, sourceId: options.sourceId, now, userName: String(data.userName), externalId: str(data.externalId), displayName: str(data.displayName), active: data.active === false ? 0 : 1, data: JSON.stringify(data) });
    for (const attr of MULTI) for (const item of (data[attr] as { value?: string }[]) ?? []) if (item?.value) q.addValue.run(id, attr, item.value);
    const attributes = attributionKeys(data);
    for (const a of attributes) q.attribution.run('User', id, a, options.sourceId, now);
    q.audit.run(now, options.sourceId, 'user.create', 'User', id, JSON.stringify({ attributes }));
    const reason = q.blocked.get() as string | undefined;
    const seq = q.nextSeq.get();
    q.dirty.run({ type: 'User', id, state: reason === undefined ? 'pending' : 'blocked', lastError: reason ?? null, seq, deleted: 0, dirSync: options.dirSyncEnabled ? 1 : 0, tvf: null, pwd: null });
    return { id, now };
  });

  app.post('/scim/v2/Users', (req, res) => {
    const { schemas: _schemas, ...data } = req.body as Record<string, unknown>;
    const { id } = create(data);
    const body = toScim(q.getUser.get(id) as Row, base(req));
    res.setHeader('Location', (body.meta as { location: string }).location);
    res.setHeader('ETag', 'W/"1"');
    send(res, 201, body);
  });

  app.get('/scim/v2/Users', (req, res) => {
    const startIndex = Math.max(1, Number(req.query.startIndex ?? 1) || 1);
    const count = Math.min(Math.max(0, Number(req.query.count ?? 100) || 0), 1000);
    const filter = typeof req.query.filter === 'string' ? /^userName eq "(.*)"$/.exec(req.query.filter) : null;
    const params = filter ? [options.sourceId, filter[1]] : [options.sourceId];
    const total = (filter ? q.countByUserName : q.count).get(...params) as number;
    const rows = count <= 0 || startIndex > total ? [] : ((filter ? q.pageByUserName : q.page).all(...params, count, startIndex - 1) as Row[]);
    send(res, 200, { schemas: [LIST], totalResults: total, Resources: rows.map((r) => toScim(r, base(req))), startIndex, itemsPerPage: rows.length });
  });
  return app;
}
