// The command line as an operator runs it: `serve` (what `npm start` runs) printing the SCIM URL
// and a fresh token, BRIDGE_CONFIG with BRIDGE_MODE overriding the file, `preflight` exit codes,
// `sources add|rotate|list`, `users transfer` and `status`. The real process (bin/scim-graph-bridge.js)
// runs serve with its banner and SIGTERM, a one-shot command beside a serving bridge, graph-sim, and
// serve's exit on a taken port; the rest runs the same main() in-process.
import { createHash } from 'node:crypto';
import { createServer } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { Agent, fetch as undiciFetch } from 'undici';
import { startSimulator } from '../../src/simulator';
import { cliIn, serveIn, stopServedIn } from './cli-in-process';
import { cli, killServed, serve, spawnUntil, until } from './cli-process';
import { simulatorGraph } from './harness';

jest.setTimeout(90_000);

const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const EXT = 'urn:ietf:params:scim:schemas:extension:graphbridge:2.0:User';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'bridge-cli-'));
});
afterEach(async () => {
  killServed();
  await stopServedIn();
  rmSync(dir, { recursive: true, force: true });
});

test('serve with no config prints the SCIM URL and a fresh token, provisions through the embedded simulator, and stops on SIGTERM', async () => {
  const db = join(dir, 'bridge.sqlite');
  const { child, out, scimUrl } = await serve({ BRIDGE_PORT: '0', BRIDGE_DATABASE: db });
  expect(scimUrl).toMatch(/^http:\/\/localhost:\d+\/scim\/v2$/);
  const token = /^Bearer token \(source "default"\): (\S+)$/m.exec(out())![1];
  expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(out()).toMatch(/^Graph: embedded simulator at https:\/\/127\.0\.0\.1:\d+ /m);
  expect(out()).toMatch(/^Simulator inspection token \(https:\/\/127\.0\.0\.1:\d+\/_sim\): [A-Za-z0-9_-]{32}$/m);

  const denied = await request(scimUrl).get('/Users').set('Authorization', 'Bearer wrong');
  expect(denied.status).toBe(401);
  const created = await request(scimUrl)
    .post('/Users')
    .set('Authorization', `Bearer ${token}`)
    .set('Content-Type', 'application/scim+json')
    .send({ schemas: [USER_SCHEMA], userName: 'grace@example.com', displayName: 'Grace Hopper' });
  expect(created.status).toBe(201);
  const synced = await until(async () => {
    const r = await request(scimUrl).get(`/Users/${created.body.id}`).set('Authorization', `Bearer ${token}`);
    return r.body[EXT].syncState === 'synced' ? r.body : undefined;
  });
  expect(synced[EXT]).toEqual({ source: 'default', dirSyncEnabled: false, graphId: expect.any(String), syncState: 'synced' });

  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
});

test('BRIDGE_CONFIG with a tokenSha256 source and BRIDGE_MODE=user-sync: preflight blocks on the tenant switch and ingress still accepts', async () => {
  const token = 'config-file-token-abcdefghijklmnop';
  const configFile = join(dir, 'bridge.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      mode: 'profile-sync',
      database: join(dir, 'bridge.sqlite'),
      sources: [{ id: 'entra', tokenSha256: createHash('sha256').update(token).digest('hex') }],
      adminToken: 'cli-test-admin-token-abcdefghijklmnop',
    }),
  );
  const env = { BRIDGE_CONFIG: configFile, BRIDGE_MODE: 'user-sync', BRIDGE_PORT: '0' };

  const { scimUrl, out } = await serve(env);
  expect(out()).not.toContain('Bearer token (source');
  // preflight reads the running bridge's embedded tenant.
  const pre = cli(['preflight'], env);
  expect(pre.code).toBe(1);
  expect(pre.stdout).toContain('mode: user-sync');
  expect(pre.stdout).toMatch(/^BLOCKED: .*graph\.allowTenantDirSync.*$/m);
  const created = await request(scimUrl)
    .post('/Users')
    .set('Authorization', `Bearer ${token}`)
    .send({ schemas: [USER_SCHEMA], userName: 'linus@example.com' });
  expect(created.status).toBe(201);
  const blocked = await until(async () => {
    const r = await request(scimUrl).get(`/Users/${created.body.id}`).set('Authorization', `Bearer ${token}`);
    return r.body[EXT].syncState === 'blocked' ? r.body : undefined;
  });
  expect(blocked[EXT]).toEqual({
    source: 'entra',
    dirSyncEnabled: true,
    syncState: 'blocked',
    lastSyncError: expect.stringContaining('graph.allowTenantDirSync'),
  });
  // The reasons are details for the admin; without the admin token /healthz gives state and counts only.
  const health = await request(scimUrl.replace(/\/scim\/v2$/, ''))
    .get('/healthz')
    .set('Authorization', 'Bearer cli-test-admin-token-abcdefghijklmnop');
  expect(health.body.status).toBe('blocked');
  expect(health.body.engine.reasons).toEqual([expect.stringContaining('graph.allowTenantDirSync')]);
  const brief = await request(scimUrl.replace(/\/scim\/v2$/, '')).get('/healthz');
  expect(brief.body).toMatchObject({ status: 'blocked', engine: { state: 'blocked' } });
  expect(JSON.stringify(brief.body)).not.toContain('allowTenantDirSync');
});

test('sources add, list and rotate: the token is printed once and only its hash is kept', async () => {
  const env = { BRIDGE_DATABASE: join(dir, 'bridge.sqlite') };
  const added = await cliIn(['sources', 'add', 'onelogin', '--directory', 'corp.example.com'], env);
  expect(added.code).toBe(0);
  const token = /^token: (\S+)$/m.exec(added.stdout)![1];
  expect(await cliIn(['sources', 'add', 'onelogin'], env)).toMatchObject({ code: 1, stderr: 'error: source onelogin exists; use "sources rotate onelogin"\n' });
  const listed = await cliIn(['sources', 'list'], env);
  expect(listed.stdout).toBe('onelogin\tsources add\tusers=0\tgroups=0\tdirectories=corp.example.com\n');
  expect(listed.stdout).not.toContain(token);

  const { scimUrl } = await serveIn({ ...env, BRIDGE_PORT: '0' });
  const ok = await request(scimUrl).get('/Users').set('Authorization', `Bearer ${token}`);
  expect(ok.status).toBe(200);

  const rotated = await cliIn(['sources', 'rotate', 'onelogin'], env);
  expect(rotated.code).toBe(0);
  expect(/^token: (\S+)$/m.exec(rotated.stdout)![1]).not.toBe(token);
  expect(await cliIn(['sources', 'rotate', 'nobody'], env)).toMatchObject({ code: 1, stderr: 'error: no source nobody was added with "sources add"\n' });
});

test('users transfer moves ownership between sources and status counts resources', async () => {
  const a = 'source-a-token-0123456789abcdef';
  const b = 'source-b-token-0123456789abcdef';
  const configFile = join(dir, 'bridge.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      database: join(dir, 'bridge.sqlite'),
      sources: [
        { id: 'a', token: a },
        { id: 'b', token: b },
      ],
    }),
  );
  const env = { BRIDGE_CONFIG: configFile, BRIDGE_PORT: '0' };
  const { scimUrl, stop } = await serveIn(env);
  const created = await request(scimUrl)
    .post('/Users')
    .set('Authorization', `Bearer ${a}`)
    .send({ schemas: [USER_SCHEMA], userName: 'ken@example.com' });
  expect(created.status).toBe(201);
  expect((await request(scimUrl).get(`/Users/${created.body.id}`).set('Authorization', `Bearer ${b}`)).status).toBe(404);

  const moved = await cliIn(['users', 'transfer', created.body.id, 'b'], env);
  expect(moved).toMatchObject({ code: 0, stdout: `user ${created.body.id} moved from a to b\n` });
  const seen = await request(scimUrl).get(`/Users/${created.body.id}`).set('Authorization', `Bearer ${b}`);
  expect(seen.status).toBe(200);
  expect(seen.body[EXT].source).toBe('b');
  expect(await cliIn(['users', 'transfer', 'no-such-id', 'b'], env)).toMatchObject({ code: 1, stderr: 'error: no user with id no-such-id\n' });

  await until(async () => {
    const r = await request(scimUrl).get(`/Users/${created.body.id}`).set('Authorization', `Bearer ${b}`);
    return r.body[EXT].syncState === 'synced' ? true : undefined;
  });
  await stop();
  const status = await cliIn(['status', '--json'], env);
  expect(status.code).toBe(0);
  expect(JSON.parse(status.stdout)).toEqual({
    mode: 'profile-sync',
    blocked: null,
    counts: { pending: 0, synced: 1, error: 0, blocked: 0, 'User.synced': 1 },
    queueDepth: 0,
    lastErrors: [],
    pendingDeletions: 0,
  });
});

test('a config error names the key and exits 2', async () => {
  const configFile = join(dir, 'bad.json');
  writeFileSync(configFile, JSON.stringify({ mode: 'full-sync', sources: [{ id: 'x', token: 'short' }] }));
  const r = await cliIn(['status'], { BRIDGE_CONFIG: configFile });
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('mode: Invalid option: expected one of "license-only"|"profile-sync"|"user-sync"|"universal-sync"');
  expect(r.stderr).toContain('sources.0.token: at least 16 characters');
});

test('moving down from user-sync is refused at serve until confirmed, and plan shows what the new mode would write', async () => {
  const env = { BRIDGE_DATABASE: join(dir, 'bridge.sqlite'), BRIDGE_PORT: '0' };
  const first = await serveIn({ ...env, BRIDGE_MODE: 'user-sync' });
  await first.stop();
  // Commands that only look record no mode: they answer for the mode given and the bridge keeps its own.
  expect((await cliIn(['status'], { ...env, BRIDGE_MODE: 'profile-sync' })).stderr).toBe(
    'note: the bridge runs in user-sync mode; this answers for profile-sync and records nothing\n',
  );
  const refused = await cliIn(['serve'], { ...env, BRIDGE_MODE: 'profile-sync' });
  expect(refused.code).toBe(1);
  expect(refused.stderr).toBe(
    'error: mode change user-sync -> profile-sync moves down from a directory-synced mode: users stop being reverted to their source and ' +
      'lose dirSyncEnabled. Run "scim-graph-bridge plan --mode profile-sync" with the current config to see what it would write, ' +
      'then set confirmModeChange: true (BRIDGE_CONFIRM_MODE_CHANGE=true) to go ahead.\n',
  );
  const plan = await cliIn(['plan', '--mode', 'profile-sync'], { ...env, BRIDGE_MODE: 'user-sync' });
  expect(plan).toMatchObject({ code: 0, stdout: 'switching user-sync -> profile-sync would write:\n0 write(s)\n' });
  const confirmed = await serveIn({ ...env, BRIDGE_MODE: 'profile-sync', BRIDGE_CONFIRM_MODE_CHANGE: 'true' });
  await confirmed.stop();
  expect(JSON.parse((await cliIn(['status', '--json'], { ...env, BRIDGE_MODE: 'profile-sync' })).stdout).mode).toBe('profile-sync');
});

test('graph-sim serves the simulator alone through the scim-graph-bridge command', async () => {
  const { out, match } = await spawnUntil(
    ['graph-sim', '--port', '0', '--no-throttling'],
    {},
    (o) => /CA file:\s+\S+/.test(o) && /Graph simulator listening on (https:\/\/127\.0\.0\.1:\d+)/.exec(o),
  );
  const url = match[1];
  // Without a token Graph answers 401 with its error body.
  const ca = readFileSync(/CA file:\s+(\S+)/.exec(out())![1], 'utf8');
  const res = await undiciFetch(`${url}/v1.0/users`, { dispatcher: new Agent({ connect: { ca } }) });
  expect(res.status).toBe(401);
  const body = (await res.json()) as { error: { code: string } };
  expect(body.error.code).toBe('InvalidAuthenticationToken');
});

test('BRIDGE_CONFIG naming an outside Graph (baseUrl, authorityHost, tenantId, clientId, clientSecret, caFile) provisions there', async () => {
  const sim = await startSimulator({ port: 0, dataDir: dir, seed: { domains: [{ name: 'contoso.com', isDefault: true }] } });
  try {
    const token = 'outside-graph-token-0123456789';
    const configFile = join(dir, 'bridge.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        database: join(dir, 'bridge.sqlite'),
        mode: 'profile-sync',
        defaults: { usageLocation: 'US' },
        sources: [{ id: 'okta', token }],
        graph: simulatorGraph(sim),
      }),
    );
    const { scimUrl, out } = await serveIn({ BRIDGE_CONFIG: configFile, BRIDGE_PORT: '0' });
    expect(out()).toContain(`Graph: ${sim.url}\n`);
    const created = await request(scimUrl)
      .post('/Users')
      .set('Authorization', `Bearer ${token}`)
      .send({
        schemas: [USER_SCHEMA],
        userName: 'barbara@contoso.com',
        displayName: 'Barbara Liskov',
        name: { givenName: 'Barbara', familyName: 'Liskov' },
        title: 'Professor',
      });
    expect(created.status).toBe(201);
    const synced = await until(async () => {
      const r = await request(scimUrl).get(`/Users/${created.body.id}`).set('Authorization', `Bearer ${token}`);
      return r.body[EXT].syncState === 'synced' ? r.body : undefined;
    });
    const graphUser = sim.state.snapshot().users.find((u: any) => u.userPrincipalName === 'barbara@contoso.com') as any;
    expect(synced[EXT].graphId).toBe(graphUser.id);
    // profile-sync writes the basic set only: no jobTitle.
    const create = sim.requests.writes().find((w) => w.method === 'POST' && w.url === '/users')!;
    expect(create.status).toBe(201);
    expect(create.requestBody).toEqual({
      accountEnabled: true,
      displayName: 'Barbara Liskov',
      givenName: 'Barbara',
      surname: 'Liskov',
      mailNickname: 'barbara',
      userPrincipalName: 'barbara@contoso.com',
      usageLocation: 'US',
      passwordProfile: { password: expect.any(String), forceChangePasswordNextSignIn: false },
    });
  } finally {
    await sim.close();
  }
});

test('retry, approve-deletions and reconcile answer in words and exit codes', async () => {
  const env = { BRIDGE_DATABASE: join(dir, 'bridge.sqlite') };
  expect(await cliIn(['retry'], env)).toMatchObject({ code: 0, stdout: '0 resource(s) queued for retry\n' });
  expect(await cliIn(['retry', '--user', 'no-such-user'], env)).toMatchObject({ code: 0, stdout: '0 resource(s) queued for retry\n' });
  expect(await cliIn(['approve-deletions'], env)).toMatchObject({ code: 0, stdout: '0 deprovision(s) approved\n' });
  const reconcile = await cliIn(['reconcile', '--full'], env);
  expect(reconcile.code).toBe(1);
  expect(JSON.parse(reconcile.stdout)).toEqual({
    full: true,
    examined: 0,
    drifted: [],
    reverted: 0,
    errors: ['drift is checked in user-sync and universal-sync; profile-sync allows direct edits in Entra'],
    requeued: 0,
  });
});

test('serve on a port already taken exits 1 with the reason instead of hanging', async () => {
  const taken = createServer();
  await new Promise<void>((r) => taken.listen(0, '0.0.0.0', () => r()));
  const port = (taken.address() as { port: number }).port;
  try {
    const r = cli(['serve'], { BRIDGE_DATABASE: join(dir, 'bridge.sqlite'), BRIDGE_PORT: String(port) });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`error: listen EADDRINUSE: address already in use 0.0.0.0:${port}\n`);
  } finally {
    taken.close();
  }
});
