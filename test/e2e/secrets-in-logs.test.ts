// Secrets never reach the logs: a bridge logging at trace level provisions a user with a password,
// changes it, refuses a wrong token and serves the dashboard; no token, password or client secret
// appears in anything it logged.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import request from 'supertest';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/log';
import { type Bridge, startBridge } from '../../src/main';

jest.setTimeout(60_000);

const SOURCE_TOKEN = 'logs-test-source-token-0123456789';
const WRONG_TOKEN = 'logs-test-wrong-token-0123456789';
const ADMIN_TOKEN = 'logs-test-admin-token-0123456789';
const PASSWORDS = ['Fir5t-Passw0rd!qz', 'Sec0nd-Passw0rd!qz'];
const EXT = 'urn:ietf:params:scim:schemas:extension:graphbridge:2.0:User';

let dir: string;
let bridge: Bridge;
let logged = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bridge-logs-'));
  const sink = new Writable({
    write(chunk, _enc, done) {
      logged += String(chunk);
      done();
    },
  });
  const config = loadConfig({
    env: {},
    overrides: { port: 0, host: '127.0.0.1', database: join(dir, 'b.sqlite'), adminToken: ADMIN_TOKEN, sources: [{ id: 'okta', token: SOURCE_TOKEN }] },
  });
  bridge = await startBridge(config, { logger: createLogger('trace', sink) });
});

afterAll(async () => {
  await bridge?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('provisioning, a password change, a refused token and the dashboard log no secret', async () => {
  const scim = request(bridge.scimUrl.replace(/\/scim\/v2$/, ''));
  const auth = { Authorization: `Bearer ${SOURCE_TOKEN}` };
  const created = await scim
    .post('/scim/v2/Users')
    .set(auth)
    .send({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'ada@example.com', password: PASSWORDS[0] });
  expect(created.status).toBe(201);
  const waitSynced = async (version: string) => {
    for (let i = 0; i < 200; i++) {
      const r = await scim.get(`/scim/v2/Users/${created.body.id}`).set(auth);
      if (r.body[EXT].syncState === 'synced' && r.body.meta.version === version) return;
      await new Promise((res) => setTimeout(res, 50));
    }
    throw new Error('not synced');
  };
  await waitSynced('W/"1"');
  const patched = await scim
    .patch(`/scim/v2/Users/${created.body.id}`)
    .set(auth)
    .send({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'password', value: PASSWORDS[1] }] });
  expect(patched.status).toBe(204);
  await waitSynced('W/"2"');
  expect((await scim.get('/scim/v2/Users').set('Authorization', `Bearer ${WRONG_TOKEN}`)).status).toBe(401);
  expect((await scim.get('/admin/api/overview').set('Authorization', `Bearer ${ADMIN_TOKEN}`)).status).toBe(200);

  // The run did log (requests, the engine at trace level), so an empty log cannot pass this test.
  expect(logged).toContain('"msg":"request"');
  for (const secret of [SOURCE_TOKEN, WRONG_TOKEN, ADMIN_TOKEN, ...PASSWORDS, bridge.simulator!.clientSecret]) {
    expect(logged).not.toContain(secret);
  }
  // The simulator did receive both passwords: they were written to Graph, just never logged.
  const writes = bridge.simulator!.requests.writes().filter((w) => JSON.stringify(w.requestBody ?? {}).includes('passwordProfile'));
  expect(writes.length).toBe(2);
});
