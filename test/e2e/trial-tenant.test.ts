// The trial tenant persists: `npm start` without tenant credentials keeps the embedded simulator's
// tenant in the data directory, so a restart finds the users it left; one-shot commands talk to the
// running bridge's simulator, or say that there is none, and a taken simulator port gets a hint.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { Agent, fetch as undiciFetch } from 'undici';
import { cliIn, serveIn, stopServedIn } from './cli-in-process';
import { until } from './cli-process';

jest.setTimeout(180_000);

const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const EXT = 'urn:ietf:params:scim:schemas:extension:graphbridge:2.0:User';
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'bridge-trial-'));
});
afterEach(async () => {
  await stopServedIn();
  rmSync(dir, { recursive: true, force: true });
});

/** The running bridge's simulator, through the connection file it writes (with the /_sim token), and its tenant from the inspection API. */
async function tenant(dataDir: string): Promise<{ tenantId: string; users: { id: string; userPrincipalName: string }[] }> {
  const conn = JSON.parse(readFileSync(join(dataDir, 'simulator-connection.json'), 'utf8'));
  const res = await undiciFetch(`${conn.baseUrl}/_sim/state`, {
    headers: { authorization: `Bearer ${conn.inspectionToken}` },
    dispatcher: new Agent({ connect: { ca: readFileSync(conn.caFile, 'utf8') } }),
  });
  return (await res.json()) as { tenantId: string; users: { id: string; userPrincipalName: string }[] };
}

test("a restart of serve finds the trial tenant it left, and one-shot commands use the running bridge's simulator", async () => {
  const data = join(dir, 'data');
  const env = { BRIDGE_DATABASE: join(data, 'bridge.sqlite'), BRIDGE_PORT: '0' };
  const first = await serveIn(env);
  const token = /^Bearer token \(source "default"\): (\S+)$/m.exec(first.out())![1];
  const created = await request(first.scimUrl)
    .post('/Users')
    .set('Authorization', `Bearer ${token}`)
    .send({ schemas: [USER_SCHEMA], userName: 'grace@example.com', displayName: 'Grace Hopper' });
  expect(created.status).toBe(201);
  const graphId = await until(async () => {
    const r = await request(first.scimUrl).get(`/Users/${created.body.id}`).set('Authorization', `Bearer ${token}`);
    return r.body[EXT].syncState === 'synced' ? (r.body[EXT].graphId as string) : undefined;
  });
  const before = await tenant(data);
  expect(before.users.find((u) => u.userPrincipalName === 'grace@example.com')?.id).toBe(graphId);
  expect(statSync(join(data, 'simulator-connection.json')).mode & 0o777).toBe(0o600);

  // One-shot commands read the running bridge's tenant: it is fit, and nothing is left to write.
  expect(await cliIn(['preflight'], env)).toMatchObject({ code: 0, stdout: 'mode: profile-sync\npreflight passed\n' });
  expect(await cliIn(['plan'], env)).toMatchObject({ code: 0, stdout: 'pending Graph writes:\n0 write(s)\n' });

  expect(await first.stop()).toBe(0);
  expect(existsSync(join(data, 'simulator-connection.json'))).toBe(false);
  expect(statSync(join(data, 'simulator.json')).mode & 0o777).toBe(0o600);
  // Without a running bridge, a command that needs the tenant says so.
  const alone = await cliIn(['preflight'], env);
  expect(alone.code).toBe(1);
  expect(alone.stdout).toContain(
    `BLOCKED: cannot read the tenant: no bridge serving from ${data} runs the embedded Graph simulator this command would talk to: start it (npm start)`,
  );

  const second = await serveIn(env);
  const after = await tenant(data);
  expect(after.tenantId).toBe(before.tenantId);
  expect(after.users.map((u) => [u.id, u.userPrincipalName]).sort()).toEqual(before.users.map((u) => [u.id, u.userPrincipalName]).sort());
  // The bridge and the tenant agree: nothing to create again.
  const r = await request(second.scimUrl).get(`/Users/${created.body.id}`).set('Authorization', `Bearer ${token}`);
  expect(r.body[EXT]).toEqual({ source: 'default', dirSyncEnabled: false, graphId, syncState: 'synced' });
  expect(await cliIn(['plan'], env)).toMatchObject({ code: 0, stdout: 'pending Graph writes:\n0 write(s)\n' });
});

test('a fixed simulator port already taken: serve says which key to change; one-shot commands never bind it', async () => {
  const taken = createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
  const port = (taken.address() as { port: number }).port;
  try {
    const env = { BRIDGE_DATABASE: join(dir, 'bridge.sqlite'), BRIDGE_PORT: '0', BRIDGE_GRAPH_SIMULATOR_PORT: String(port) };
    const r = await cliIn(['serve'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `error: graph.simulator.port ${port} is in use (another bridge or graph-sim is listening there): stop it, ` +
        'or set graph.simulator.port (BRIDGE_GRAPH_SIMULATOR_PORT) to another port or 0 for any free one\n',
    );
    expect(await cliIn(['status'], env)).toMatchObject({ code: 0, stderr: '' });
  } finally {
    taken.close();
  }
});
