// Bad input (SPEC section 11): more than 1,000 malformed bodies, filters and headers, generated
// from a fixed seed, against the real app listening on 127.0.0.1. Every response must be a 2xx
// where the RFC allows one, or an RFC 7644 error body with a 4xx status; nothing may answer 5xx,
// crash the process or change a single row of the SQLite file. Valid writes carrying an extension
// schema the bridge does not implement are not malformed: they run after that check, apart, and
// must be accepted with the extension ignored and the rest stored as sent.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
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
import {
  ACCEPTED_EXTENSION,
  UNICODE,
  UNICODE_SEED_USER,
  UNKNOWN_EXTENSION,
  allCases,
  describe as describeCase,
  problemsOf,
  type FuzzCase,
  type FuzzContext,
} from '../fixtures/fuzz';

const SEED = 20_261_126;
const OWNER_TOKEN = 'fuzz-owner-token-0123456789abcdef';
const OTHER_TOKEN = 'fuzz-other-token-0123456789abcdef';

let dir: string;
let store: Store;
let server: Server;
let base: URL;
let ctx: FuzzContext;
let cases: FuzzCase[];
let accepted: FuzzCase[];
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
  // A name beyond ASCII, so that its other spellings (NFD, upper case) are collisions.
  await created('/Users', { schemas: [CORE_USER], userName: UNICODE_SEED_USER });
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
  const all = allCases(SEED, ctx);
  cases = all.filter((c) => c.expect !== 'accepted');
  accepted = all.filter((c) => c.expect === 'accepted');
  digestsBefore = tableDigests(database);
});

afterAll(async () => {
  closeAgent();
  await new Promise((resolve) => server?.close(resolve));
  store?.close();
  rmSync(dir, { recursive: true, force: true });
});

const CATEGORIES = [
  'broken JSON',
  'not a resource',
  'deep nesting',
  'huge strings',
  'invalid UTF-8',
  'wrong content type',
  'oversized body',
  'unknown attributes',
  'wrong types',
  'bad PATCH',
  'read-only attribute',
  'wrong types (PATCH)',
  'bad If-Match',
  'garbage filter',
  'filter bomb',
  'bad paging',
  'bad sort',
  'bad attributes',
  'bad .search',
  'auth',
  'bad Bulk',
  'junk route',
  'collision',
  'unknown extension with a bad body',
  UNICODE,
];

test('the generator makes more than 1,000 cases, every one in a known category', () => {
  expect(cases.length).toBeGreaterThan(1000);
  expect([...new Set(cases.map((c) => c.category))].sort()).toEqual([...CATEGORIES].sort());
  expect(accepted.every((c) => c.category === ACCEPTED_EXTENSION && c.ignoredExtension)).toBe(true);
  // The five that were malformed before unknown extensions were accepted: POST and PUT with the URN in
  // schemas, POST and PUT with it as an unlisted key, one PATCH path under it.
  expect(accepted.filter((c) => c.ignoredExtension === UNKNOWN_EXTENSION).map((c) => c.name.replace(/^\w+ path/, 'op path'))).toEqual([
    'unknown schema URN POST',
    'unknown schema URN PUT',
    'extension not listed in schemas POST',
    'extension not listed in schemas PUT',
    `op path "${UNKNOWN_EXTENSION}:x"`,
  ]);
  expect(accepted.length).toBeGreaterThan(20);
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

/** The resource a case writes to, as stored; for a POST, the one its response names. */
function storedOf(pathname: string): { data: Record<string, unknown>; version: number } | null {
  const m = /^\/(Users|Groups)\/([^/?]+)$/.exec(pathname);
  if (!m) return null;
  return (m[1] === 'Users' ? store.queries.getUser(m[2]) : store.queries.getGroup(m[2])) ?? null;
}

/** What a POST or PUT body stores once its unknown extension is set aside: everything else, as sent. */
function withoutExtension(body: Record<string, unknown>, urn: string): Record<string, unknown> {
  const lower = urn.toLowerCase();
  return Object.fromEntries(Object.entries(body).filter(([k]) => k !== 'schemas' && !k.toLowerCase().startsWith(lower)));
}

async function acceptedProblems(c: FuzzCase): Promise<string[]> {
  const urn = c.ignoredExtension!;
  const before = storedOf(c.path);
  const res = await send(base, c);
  const problems = problemsOf(c, res);
  if (problems.length) return problems;
  const text = res.body.toString('utf8');
  if (text.toLowerCase().includes(urn.toLowerCase())) problems.push('the response names the ignored extension');
  const body = JSON.parse(typeof c.body === 'string' ? c.body : '{}');
  if (c.method === 'PATCH') {
    if (res.status !== 204) problems.push(`status ${res.status}, expected 204`);
    const after = storedOf(c.path);
    if (JSON.stringify(after) !== JSON.stringify(before)) problems.push('the resource changed');
    return problems;
  }
  if (res.status !== (c.method === 'POST' ? 201 : 200)) problems.push(`status ${res.status}`);
  const id = JSON.parse(text).id as string;
  const stored = storedOf(c.method === 'POST' ? `${c.path}/${id}` : c.path);
  if (!stored) problems.push('nothing stored');
  else if (!isDeepStrictEqual(stored.data, withoutExtension(body, urn))) problems.push(`stored ${JSON.stringify(stored.data)}`);
  return problems;
}

test('a valid write carrying an unknown extension is accepted, the extension ignored, the rest stored as sent', async () => {
  const failures: string[] = [];
  for (const c of accepted) {
    let problems: string[];
    try {
      problems = await acceptedProblems(c);
    } catch (err) {
      problems = [`no response: ${(err as Error).message}`];
    }
    if (problems.length) failures.push(`${c.name}: ${problems.join('; ')}\n    request: ${describeCase(c)}`);
  }
  expect(failures).toEqual([]);
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
