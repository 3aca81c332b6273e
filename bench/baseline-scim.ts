// The baseline of bench/scim.ts: the least work a SCIM server on SQLite must do for the three
// benchmarked requests. express parses the body; one indexed statement per request (a list page
// adds the count its ListResponse needs for totalResults); a SCIM-shaped answer (schemas, id, the
// attributes, meta; a ListResponse envelope). Its own minimal table: no attribution, no audit, no
// sync bookkeeping, no schema validation, no filter parser beyond one regular expression. It is
// what the bridge is measured against, not a replay of the bridge's SQL.
import { randomUUID, timingSafeEqual } from 'node:crypto';
import type Database from 'better-sqlite3';
import express from 'express';
import { benchUser } from './lib/scim-users';

const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

export interface BaselineOptions {
  token: string;
}

interface Row {
  id: string;
  data: string;
  version: number;
  created: string;
  last_modified: string;
}

export const BASELINE_SCHEMA = `
  CREATE TABLE IF NOT EXISTS scim_users (
    id TEXT PRIMARY KEY,
    user_name TEXT NOT NULL,
    data TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created TEXT NOT NULL,
    last_modified TEXT NOT NULL
  );
  CREATE UNIQUE INDEX IF NOT EXISTS scim_users_user_name ON scim_users(user_name COLLATE NOCASE);`;

/** One statement per request (the page also counts: a ListResponse carries totalResults). */
export const BASELINE_SQL = {
  insert: 'INSERT INTO scim_users (id, user_name, data, version, created, last_modified) VALUES (?, ?, ?, 1, ?, ?)',
  byUserName: 'SELECT id, data, version, created, last_modified FROM scim_users WHERE user_name = ? COLLATE NOCASE',
  count: 'SELECT count(*) FROM scim_users',
  page: 'SELECT id, data, version, created, last_modified FROM scim_users WHERE rowid IN (SELECT rowid FROM scim_users ORDER BY rowid LIMIT ? OFFSET ?) ORDER BY rowid',
};

/** Seeds the baseline's table with the same users as the bridge's file, in one transaction. */
export function seedBaseline(db: Database.Database, users: number): void {
  db.exec(BASELINE_SCHEMA);
  const insert = db.prepare(BASELINE_SQL.insert);
  const now = new Date().toISOString();
  db.transaction(() => {
    for (let i = 0; i < users; i++) {
      const { schemas: _schemas, ...data } = benchUser(i);
      insert.run(randomUUID(), String(data.userName), JSON.stringify(data), now, now);
    }
  })();
}

function toScim(r: Row, base: string): Record<string, unknown> {
  return {
    schemas: [CORE_USER],
    id: r.id,
    ...(JSON.parse(r.data) as Record<string, unknown>),
    meta: { resourceType: 'User', created: r.created, lastModified: r.last_modified, location: `${base}/Users/${r.id}`, version: `W/"${r.version}"` },
  };
}

export function createBaselineApp(db: Database.Database, options: BaselineOptions): express.Express {
  db.exec(BASELINE_SCHEMA);
  const q = {
    insert: db.prepare(BASELINE_SQL.insert),
    byUserName: db.prepare(BASELINE_SQL.byUserName),
    count: db.prepare(BASELINE_SQL.count).pluck(),
    page: db.prepare(BASELINE_SQL.page),
  };
  const expected = Buffer.from(options.token);
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(express.json({ type: ['application/json', 'application/scim+json'], limit: '1mb' }));
  app.use((req, res, next) => {
    const given = Buffer.from(String(req.headers.authorization ?? '').replace(/^Bearer /, ''));
    if (given.length === expected.length && timingSafeEqual(given, expected)) return next();
    res.status(401).json({ schemas: [ERROR], status: '401' });
  });
  const base = (req: express.Request) => `${req.protocol}://${req.get('host')}/scim/v2`;
  const send = (res: express.Response, status: number, body: unknown) => res.status(status).type('application/scim+json').send(JSON.stringify(body));

  app.post('/scim/v2/Users', (req, res) => {
    const { schemas: _schemas, ...data } = req.body as Record<string, unknown>;
    if (typeof data.userName !== 'string' || !data.userName)
      return send(res, 400, { schemas: [ERROR], status: '400', scimType: 'invalidValue', detail: 'userName is required' });
    const id = randomUUID();
    const now = new Date().toISOString();
    try {
      q.insert.run(id, data.userName, JSON.stringify(data), now, now);
    } catch {
      return send(res, 409, { schemas: [ERROR], status: '409', scimType: 'uniqueness', detail: 'userName is already taken' });
    }
    const body = toScim({ id, data: JSON.stringify(data), version: 1, created: now, last_modified: now }, base(req));
    res.setHeader('Location', (body.meta as { location: string }).location);
    res.setHeader('ETag', 'W/"1"');
    send(res, 201, body);
  });

  app.get('/scim/v2/Users', (req, res) => {
    const startIndex = Math.max(1, Number(req.query.startIndex ?? 1) || 1);
    const count = Math.min(Math.max(0, Number(req.query.count ?? 100) || 0), 1000);
    const filter = typeof req.query.filter === 'string' ? /^userName eq "(.*)"$/.exec(req.query.filter) : null;
    let total: number;
    let rows: Row[];
    if (filter) {
      const all = q.byUserName.all(filter[1]) as Row[];
      total = all.length;
      rows = all.slice(startIndex - 1, startIndex - 1 + count);
    } else {
      total = q.count.get() as number;
      rows = count <= 0 || startIndex > total ? [] : (q.page.all(count, startIndex - 1) as Row[]);
    }
    send(res, 200, { schemas: [LIST], totalResults: total, Resources: rows.map((r) => toScim(r, base(req))), startIndex, itemsPerPage: rows.length });
  });
  return app;
}
