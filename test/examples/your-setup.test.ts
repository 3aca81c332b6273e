// Your own provisioning test: a bridge with your configuration, started in the test against the
// embedded Graph simulator, driven through SCIM as your IdP would drive it, checked by what Graph received.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/log';
import { type Bridge, startBridge } from '../../src/main';

const TOKEN = 'my-okta-test-token-0123456789';
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const BRIDGE_EXT = 'urn:ietf:params:scim:schemas:extension:graphbridge:2.0:User';

let dir: string;
let bridge: Bridge;
let scim: ReturnType<typeof request>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'my-bridge-'));
  const config = loadConfig({
    env: {},
    overrides: {
      port: 0,
      host: '127.0.0.1',
      database: join(dir, 'bridge.sqlite'),
      mode: 'profile-sync',
      sources: [{ id: 'okta', token: TOKEN }],
      'defaults.usageLocation': 'GB',
      logLevel: 'silent',
    },
  });
  // No tenant credentials: the bridge starts its embedded Graph simulator.
  bridge = await startBridge(config, { logger: createLogger('silent') });
  scim = request(bridge.scimUrl.replace(/\/scim\/v2$/, ''));
});

afterAll(async () => {
  await bridge?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function syncedUser(id: string) {
  for (let i = 0; i < 200; i++) {
    const res = await scim.get(`/scim/v2/Users/${id}`).set('Authorization', `Bearer ${TOKEN}`);
    if (res.body[BRIDGE_EXT]?.syncState === 'synced') return res.body;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`user ${id} never synced`);
}

test('a user pushed by the IdP is created in Entra with its basic profile', async () => {
  const created = await scim
    .post('/scim/v2/Users')
    .set('Authorization', `Bearer ${TOKEN}`)
    .set('Content-Type', 'application/scim+json')
    .send({ schemas: [USER], userName: 'grace@contoso.com', name: { givenName: 'Grace', familyName: 'Hopper' }, title: 'Rear Admiral' });
  expect(created.status).toBe(201);

  const user = await syncedUser(created.body.id);
  const graphId = user[BRIDGE_EXT].graphId;
  expect(graphId).toEqual(expect.any(String));

  // What Graph received: profile-sync writes the basic set (no jobTitle), with the default usage location.
  const creates = bridge.simulator!.requests.writes().filter((w) => w.method === 'POST' && w.url === '/users');
  expect(creates).toHaveLength(1);
  expect(creates[0].requestBody).toMatchObject({
    userPrincipalName: 'grace@contoso.com',
    displayName: 'Grace Hopper',
    givenName: 'Grace',
    surname: 'Hopper',
    accountEnabled: true,
    mailNickname: 'grace',
    usageLocation: 'GB',
  });
  expect(creates[0].requestBody).not.toHaveProperty('jobTitle');
});

test('a token the bridge does not know gets the SCIM 401 body', async () => {
  const res = await scim.get('/scim/v2/Users').set('Authorization', 'Bearer not-my-token');
  expect(res.status).toBe(401);
  expect(res.body).toEqual({
    schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
    status: '401',
    detail: 'the bearer token is not valid for any source',
  });
});
