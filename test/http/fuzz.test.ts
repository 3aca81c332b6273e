// Bad input (SPEC section 11): more than 1,000 malformed bodies, filters and headers, generated
// from a fixed seed, against the real app listening on 127.0.0.1. Every response must be a 2xx
// where the RFC allows one, or an RFC 7644 error body with a 4xx status; nothing may answer 5xx,
// crash the process or change a single row of the SQLite file.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/log';
import { createApp } from '../../src/scim/app';
import { openStore, type Store } from '../../src/store';
import { CORE_USER, ENTERPRISE, PATCH_OP } from '../fixtures/fuzz/attributes';
import { tableDigests } from '../fixtures/fuzz/db-hash';
import { closeAgent, send } from '../fixtures/fuzz/http';
import { allCases, describe as describeCase, problemsOf, type FuzzCase, type FuzzContext } from '../fixtures/fuzz';

const SEED = 20_261_126;
const OWNER_TOKEN = 'fuzz-owner-token-0123456789abcdef';
const OTHER_TOKEN = 'fuzz-other-token-0123456789abcdef';

let dir: string;
let store: Store;
let server: Server;
let base: URL;
let ctx: FuzzContext;
let cases: FuzzCase[];
let digestsBefore: Record<string, string>;

const ownerHeaders = { Authorization: `Bearer ${OWNER_TOKEN}`, 'Content-Type': 'application/scim+json' };

async function created(pathname: string, body: unknown): Promise<{ id: string; etag: string }> {
  const res = await send(base, { method: 'POST', path: pathname, headers: ownerHeaders, body: JSON.stringify(body) });
  if (res.status !== 201) throw new Error(`seeding ${pathname} failed: ${res.status} ${res.body}`);
  const json = JSON.parse(res.body.toString());
  return { id: json.id, etag: String(res.headers.etag ?? json.meta?.version) };
}

async function seed(): Promise<void> {
  const users = [];
  for (let i = 0; i < 20; i++) {
    const userName = `seed.user${i}@example.com`;
    const body = {
      schemas: [CORE_USER, ENTERPRISE],
      userName,
      externalId: `ext-${i}`,
      name: { givenName: 'Seed', familyName: `User${i}` },
      displayName: `Seed User ${i}`,
      active: true,
      emails: [{ value: userName, type: 'work', primary: true }],
      [ENTERPRISE]: { department: `dept-${i % 3}`, ...(i > 0 ? { manager: { value: users[0].id } } : {}) },
    };
    const { id, etag } = await created('/Users', body);
    users.push({ id, name: userName, etag });
  }
  const groups = [];
  for (let i = 0; i < 4; i++) {
    const displayName = `Seed Group ${i}`;
    const members = users.slice(i * 3, i * 3 + 5).map((u) => ({ value: u.id }));
    const { id, etag } = await created('/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName, members });
    groups.push({ id, name: displayName, etag });
  }
  ctx = { token: OWNER_TOKEN, otherToken: OTHER_TOKEN, anchors: users.slice(0, 4), users: users.slice(4), groups };
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'bridge-fuzz-'));
  const database = path.join(dir, 'fuzz.sqlite');
  const config = loadConfig({
    env: {},
    overrides: {
      database,
      mode: 'user-sync',
      logLevel: 'silent',
      sources: [
        { id: 'owner', token: OWNER_TOKEN },
        { id: 'other', tokenSha256: createHash('sha256').update(OTHER_TOKEN).digest('hex') },
      ],
    },
  });
  store = openStore(database, { mode: config.mode, sources: config.sources });
  const app = createApp({ config, store, logger: createLogger('silent') });
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as { port: number };
  base = new URL(`http://127.0.0.1:${port}/scim/v2`);
  await seed();
  cases = allCases(SEED, ctx);
  digestsBefore = tableDigests(database);
});

afterAll(async () => {
  closeAgent();
  await new Promise((resolve) => server?.close(resolve));
  store?.close();
  rmSync(dir, { recursive: true, force: true });
});

const CATEGORIES = [
  'broken JSON', 'not a resource', 'deep nesting', 'huge strings', 'invalid UTF-8', 'wrong content type', 'oversized body', 'unknown attributes',
  'wrong types', 'bad PATCH', 'read-only attribute', 'wrong types (PATCH)', 'bad If-Match', 'garbage filter', 'filter bomb', 'bad paging', 'bad sort',
  'bad attributes', 'bad .search', 'auth', 'bad Bulk', 'junk route', 'collision',
];

test('the generator makes more than 1,000 cases, every one in a known category', () => {
  expect(cases.length).toBeGreaterThan(1000);
  expect([...new Set(cases.map((c) => c.category))].sort()).toEqual([...CATEGORIES].sort());
});

describe.each(CATEGORIES)('%s', (category) => {
  test('no 5xx, every error an RFC 7644 error body with the right status and scimType', async () => {
    const failures: string[] = [];
    for (const c of cases.filter((x) => x.category === category)) {
      let problems: string[];
      let answer = '';
      try {
        const res = await send(base, c);
        problems = problemsOf(c, res);
        answer = `${res.status} ${res.body.toString('utf8').slice(0, 200)}`;
      } catch (err) {
        problems = [`no response: ${(err as Error).message}`];
      }
      if (problems.length) failures.push(`${c.name}: ${problems.join('; ')}\n    request: ${describeCase(c)}\n    response: ${answer}`);
    }
    expect(failures).toEqual([]);
  });
});

test('no row of any table changed', () => {
  expect(tableDigests(path.join(dir, 'fuzz.sqlite'))).toEqual(digestsBefore);
});

test('the server still answers a valid request after the fuzzing', async () => {
  const patch = { schemas: [PATCH_OP], Operations: [] };
  const anchor = ctx.anchors[0];
  const res = await send(base, { method: 'PATCH', path: `/Users/${anchor.id}`, headers: ownerHeaders, body: JSON.stringify(patch) });
  expect(res.status).toBe(204);
  const get = await send(base, { method: 'GET', path: `/Users/${anchor.id}`, headers: { Authorization: ownerHeaders.Authorization } });
  expect(get.status).toBe(200);
  expect(JSON.parse(get.body.toString())).toMatchObject({ id: anchor.id, userName: anchor.name, meta: { version: anchor.etag } });
});
