// A SCIM app on a temporary SQLite file for supertest, with a few sources: `okta` and `entra`
// (plain tokens), `script` (sha256 token, sees all), `hr` (contributes title and department).
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import request from 'supertest';
import { loadConfig, type Config, type Mode } from '../../src/config';
import { createLogger, type Logger } from '../../src/log';
import { createApp } from '../../src/scim/app';
import { openStore, type Store } from '../../src/store';

export const TOKENS = {
  okta: 'okta-token-0123456789abcdef',
  entra: 'entra-token-0123456789abcdef',
  script: 'script-token-0123456789abcdef',
  hr: 'hr-token-0123456789abcdef',
};

export const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const CORE_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const BRIDGE = 'urn:ietf:params:scim:schemas:extension:graphbridge:2.0:User';
export const BRIDGE_GROUP = 'urn:ietf:params:scim:schemas:extension:graphbridge:2.0:Group';
export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

export interface Harness {
  app: ReturnType<typeof createApp>;
  store: Store;
  config: Config;
  file: string;
  /** supertest agent methods with the source's bearer token set. */
  as(source: keyof typeof TOKENS): {
    get(url: string): request.Test;
    post(url: string): request.Test;
    put(url: string): request.Test;
    patch(url: string): request.Test;
    delete(url: string): request.Test;
  };
  close(): void;
}

/** `logger` replaces the silent one, for tests of what a request logs. */
export function startHarness(options: { mode?: Mode; overrides?: Record<string, unknown>; logger?: Logger } = {}): Harness {
  const dir = mkdtempSync(path.join(tmpdir(), 'bridge-http-'));
  const file = path.join(dir, 'bridge.sqlite');
  const config = loadConfig({
    env: {},
    overrides: {
      database: file,
      mode: options.mode ?? 'profile-sync',
      logLevel: 'silent',
      sources: [
        { id: 'okta', token: TOKENS.okta, directories: [{ id: 'corp.example.com', type: 'ad' }] },
        { id: 'entra', token: TOKENS.entra },
        { id: 'script', tokenSha256: createHash('sha256').update(TOKENS.script).digest('hex'), seesAll: true },
        { id: 'hr', token: TOKENS.hr, contributes: ['title', 'department'] },
      ],
      ...options.overrides,
    },
  });
  const store = openStore(file, { mode: config.mode, sources: config.sources });
  const app = createApp({ config, store, logger: options.logger ?? createLogger('silent') });
  return {
    app,
    store,
    config,
    file,
    as(source) {
      const auth = `Bearer ${TOKENS[source]}`;
      const withSchemas = (t: request.Test, method: string, url: string) => {
        const send = t.send.bind(t);
        t.send = (body?: string | object) => send(typeof body === 'object' && body !== null && !Array.isArray(body) ? addSchemas(method, url, body) : body);
        return t;
      };
      return {
        get: (url) => request(app).get(url).set('Authorization', auth),
        post: (url) => withSchemas(request(app).post(url).set('Authorization', auth), 'POST', url),
        put: (url) => withSchemas(request(app).put(url).set('Authorization', auth), 'PUT', url),
        patch: (url) => withSchemas(request(app).patch(url).set('Authorization', auth), 'PATCH', url),
        delete: (url) => request(app).delete(url).set('Authorization', auth),
      };
    },
    close() {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The `schemas` a body must carry (RFC 7643 section 3, RFC 7644 sections 3.4.3, 3.5.2 and 3.7), added
 * when a test's body has none, so that each test shows only what it is about. Tests of `schemas`
 * itself send their bytes directly. supertest sends objects as application/json.
 */
function addSchemas(method: string, url: string, body: object): object {
  if (Object.keys(body).some((k) => k.toLowerCase() === 'schemas')) return body;
  const path = url.split('?')[0];
  if (/\/\.search$/.test(path)) return { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], ...body };
  if (/\/Bulk$/.test(path)) return { schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'], ...body };
  if (method === 'PATCH') return { schemas: [PATCH_OP], ...body };
  if (/\/Groups/.test(path)) return { schemas: [CORE_GROUP], ...body };
  const extensions = [ENTERPRISE, BRIDGE].filter((urn) => urn in body);
  return { schemas: [CORE_USER, ...extensions], ...body };
}

/** Placeholder for values a test cannot know: ids, times, the test server's host. */
export const anyId = expect.stringMatching(/^[0-9a-f-]{36}$/);
export const anyTime = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
export const location = (pathname: string) =>
  expect.stringMatching(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/scim/v2${pathname.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));

export function scimError(status: number, detail: string | RegExp, scimType?: string) {
  return {
    schemas: [ERROR],
    status: String(status),
    ...(scimType ? { scimType } : {}),
    detail: typeof detail === 'string' ? detail : expect.stringMatching(detail),
  };
}

/** Every row of every table, read through a second connection: a rejected request must change none. */
export function snapshot(file: string): Record<string, unknown[]> {
  const db = new Database(file, { readonly: true });
  try {
    const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).pluck().all() as string[];
    return Object.fromEntries(tables.map((t) => [t, db.prepare(`SELECT * FROM "${t}"`).all()]));
  } finally {
    db.close();
  }
}
