// Source tokens as an operator lives with them: the default source's token survives a restart of
// `serve`, `sources add` leaves other sources alone and is accepted without a restart,
// `sources list` shows every source owning resources, and `sources rotate` keeps the old token
// working for its grace period only.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import request from 'supertest';
import { cliIn, serveIn, stopServedIn } from './cli-in-process';
import { until } from './cli-process';

jest.setTimeout(120_000);

const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'bridge-tokens-'));
});
afterEach(async () => {
  await stopServedIn();
  rmSync(dir, { recursive: true, force: true });
});

const status = async (scimUrl: string, token: string) => (await request(scimUrl).get('/Users').set('Authorization', `Bearer ${token}`)).status;

test('the default source token is made on the first start, survives a restart, and sources add leaves it working', async () => {
  const env = { BRIDGE_DATABASE: join(dir, 'data', 'bridge.sqlite'), BRIDGE_PORT: '0' };
  const first = await serveIn(env);
  const token = /^Bearer token \(source "default"\): (\S+)$/m.exec(first.out())![1];
  const created = await request(first.scimUrl)
    .post('/Users')
    .set('Authorization', `Bearer ${token}`)
    .send({ schemas: [USER_SCHEMA], userName: 'ada@example.com' });
  expect(created.status).toBe(201);
  expect(await first.stop()).toBe(0);

  const second = await serveIn(env);
  expect(second.out()).not.toContain('Bearer token (source');
  expect(second.out()).toContain('Source "default": token exists (kept as a hash); "scim-graph-bridge sources rotate default" makes a new one\n');
  const seen = await request(second.scimUrl).get(`/Users/${created.body.id}`).set('Authorization', `Bearer ${token}`);
  expect([seen.status, seen.body.userName]).toEqual([200, 'ada@example.com']);

  // Added while the bridge runs: accepted at once, and the default source keeps its token and users.
  const added = await cliIn(['sources', 'add', 'okta'], env);
  expect(added.code).toBe(0);
  const oktaToken = /^token: (\S+)$/m.exec(added.stdout)![1];
  expect(await status(second.scimUrl, oktaToken)).toBe(200);
  expect(await status(second.scimUrl, token)).toBe(200);
  expect((await cliIn(['sources', 'list'], env)).stdout).toBe(
    'default\tsources add\tusers=1\tgroups=0\tdirectories=-\nokta\tsources add\tusers=0\tgroups=0\tdirectories=-\n',
  );
  expect(await second.stop()).toBe(0);

  const third = await serveIn(env);
  expect(await status(third.scimUrl, token)).toBe(200);
  expect(await status(third.scimUrl, oktaToken)).toBe(200);
});

test('sources list shows a source that owns users though no longer configured', async () => {
  const db = join(dir, 'bridge.sqlite');
  const withA = join(dir, 'a.json');
  const withB = join(dir, 'b.json');
  writeFileSync(withA, JSON.stringify({ database: db, sources: [{ id: 'a', token: 'source-a-token-0123456789' }] }));
  writeFileSync(withB, JSON.stringify({ database: db, sources: [{ id: 'b', token: 'source-b-token-0123456789' }] }));
  const bridge = await serveIn({ BRIDGE_CONFIG: withA, BRIDGE_PORT: '0' });
  const created = await request(bridge.scimUrl)
    .post('/Users')
    .set('Authorization', 'Bearer source-a-token-0123456789')
    .send({ schemas: [USER_SCHEMA], userName: 'ken@example.com' });
  expect(created.status).toBe(201);
  expect(await bridge.stop()).toBe(0);
  expect(await cliIn(['sources', 'list'], { BRIDGE_CONFIG: withB })).toEqual({
    code: 0,
    stdout: 'b\tconfig\tusers=0\tgroups=0\tdirectories=-\na\tnot configured (no token)\tusers=1\tgroups=0\tdirectories=-\n',
    stderr: '',
  });
});

test('sources rotate: both tokens work during the grace period, only the new one after; --revoke-old ends it at once', async () => {
  const env = { BRIDGE_DATABASE: join(dir, 'bridge.sqlite'), BRIDGE_PORT: '0' };
  const oldToken = /^token: (\S+)$/m.exec((await cliIn(['sources', 'add', 'onelogin'], env)).stdout)![1];
  const bridge = await serveIn(env);
  expect(await status(bridge.scimUrl, oldToken)).toBe(200);

  const rotated = await cliIn(['sources', 'rotate', 'onelogin', '--grace', '30'], env);
  expect(rotated.code).toBe(0);
  expect(rotated.stdout).toMatch(
    /^source onelogin has a new token, accepted by a running bridge at once; the old one keeps working until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ; end that now with "sources revoke-old onelogin"\ntoken: \S+\n$/,
  );
  const newToken = /^token: (\S+)$/m.exec(rotated.stdout)![1];
  // No restart: the running bridge takes the new token, and the old one still works (the grace is 30 s).
  const both = [await status(bridge.scimUrl, newToken), await status(bridge.scimUrl, oldToken)];
  expect(both).toEqual([200, 200]);
  // After the grace period only the new token works. Its end is moved to now through the database the
  // running bridge reads (as time passing would), instead of waiting 30 s of wall time.
  const db = new Database(env.BRIDGE_DATABASE);
  db.prepare("UPDATE source_tokens SET previous_valid_until = ? WHERE id = 'onelogin'").run(Date.now());
  db.close();
  await until(async () => ((await status(bridge.scimUrl, oldToken)) === 401 ? true : undefined));
  expect(await status(bridge.scimUrl, newToken)).toBe(200);
  expect((await cliIn(['sources', 'list'], env)).stdout).toBe('onelogin\tsources add\tusers=0\tgroups=0\tdirectories=-\n');

  const again = await cliIn(['sources', 'rotate', 'onelogin', '--revoke-old'], env);
  expect(again.stdout).toMatch(/^source onelogin has a new token, accepted by a running bridge at once; the old one no longer works\ntoken: \S+\n$/);
  const third = /^token: (\S+)$/m.exec(again.stdout)![1];
  expect([await status(bridge.scimUrl, newToken), await status(bridge.scimUrl, third)]).toEqual([401, 200]);

  // A default-length grace, ended early with revoke-old.
  const fourth = /^token: (\S+)$/m.exec((await cliIn(['sources', 'rotate', 'onelogin'], env)).stdout)![1];
  expect([await status(bridge.scimUrl, third), await status(bridge.scimUrl, fourth)]).toEqual([200, 200]);
  expect((await cliIn(['sources', 'list'], env)).stdout).toMatch(
    /^onelogin\tsources add \(previous token valid until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)\tusers=0\tgroups=0\tdirectories=-\n$/,
  );
  expect(await cliIn(['sources', 'revoke-old', 'onelogin'], env)).toEqual({
    code: 0,
    stdout: 'the previous token of source onelogin no longer works\n',
    stderr: '',
  });
  expect([await status(bridge.scimUrl, third), await status(bridge.scimUrl, fourth)]).toEqual([401, 200]);
});
