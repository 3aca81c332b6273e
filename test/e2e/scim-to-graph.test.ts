// The whole path: SCIM requests into the express app (supertest), the engine against the
// simulator, the Graph writes out; and the bridge extension on GET reporting syncState, graphId,
// dirSyncEnabled and tokensValidFrom as soon as they are known (SPEC section 12).
import request from 'supertest';
import { createLogger } from '../../src/log';
import { createApp } from '../../src/scim/app';
import { BRIDGE_USER_SCHEMA } from '../../src/rules/identity';
import { named, passwordOf, SOURCE_TOKEN, startHarness, type Harness } from './harness';

let h: Harness;
afterEach(async () => h?.close());

const auth = { Authorization: `Bearer ${SOURCE_TOKEN}`, 'Content-Type': 'application/scim+json' };

async function setup(mode: 'profile-sync' | 'user-sync', seed?: object) {
  h = await startHarness({ mode, seed, permissions: 'recommended', overrides: { 'graph.allowTenantDirSync': true } });
  return createApp({ config: h.config, store: h.store, logger: createLogger('silent') });
}

it('an Entra-style POST, PATCH and password change become exactly the Graph writes of profile-sync', async () => {
  const app = await setup('profile-sync');
  const created = await request(app)
    .post('/scim/v2/Users')
    .set(auth)
    .send({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: 'kay@example.com',
      active: true,
      displayName: 'Kay',
      name: { givenName: 'Kay', familyName: 'Oh' },
      password: 'Kay-Passw0rd!x',
    });
  expect(created.status).toBe(201);
  const id = created.body.id;
  expect(created.body[BRIDGE_USER_SCHEMA]).toMatchObject({ syncState: 'pending', dirSyncEnabled: false });
  await h.engine.runOnce();
  const got = await request(app).get(`/scim/v2/Users/${id}`).set(auth);
  const graphUser = h.sim.state.snapshot().users.find((u) => u.userPrincipalName === 'kay@example.com')!;
  expect(got.body[BRIDGE_USER_SCHEMA]).toEqual({ source: 'okta', dirSyncEnabled: false, graphId: graphUser.id, syncState: 'synced' });
  h.clearLog();
  const patched = await request(app)
    .patch(`/scim/v2/Users/${id}`)
    .set(auth)
    .send({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [
        { op: 'Replace', path: 'displayName', value: 'Kay Oh' },
        { op: 'Replace', path: 'password', value: 'N3w-Passw0rd!x' },
      ],
    });
  // RFC 7644 section 3.5.2: 200 with the resource or 204 without; either is the ingress's choice.
  expect([200, 204]).toContain(patched.status);
  await h.engine.runOnce();
  expect(named(h)).toEqual([
    // The password goes in a request of its own, so that a refused password cannot fail the profile.
    { method: 'PATCH', url: '/users/{kay@example.com}', body: { displayName: 'Kay Oh' }, status: 204 },
    {
      method: 'PATCH',
      url: '/users/{kay@example.com}',
      body: { passwordProfile: { password: '[redacted]', forceChangePasswordNextSignIn: false } },
      status: 204,
    },
    { method: 'POST', url: '/users/{kay@example.com}/revokeSignInSessions', status: 200 },
  ]);
  expect(passwordOf(h, 'kay@example.com')).toBe('N3w-Passw0rd!x');
  const after = await request(app).get(`/scim/v2/Users/${id}`).set(auth);
  expect(after.body[BRIDGE_USER_SCHEMA]).toMatchObject({ syncState: 'synced', tokensValidFrom: h.store.sync.get('User', id)!.appliedTokensValidFrom });
});

it('a blocked engine keeps accepting SCIM writes and GET shows syncState blocked with the reason', async () => {
  const app = await setup('user-sync', { organization: { onPremisesSyncEnabled: true, onPremisesLastSyncDateTime: '2026-11-20T08:00:00Z' } });
  await h.engine.runOnce();
  const created = await request(app)
    .post('/scim/v2/Users')
    .set(auth)
    .send({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'lee@example.com', active: true, displayName: 'Lee' });
  expect(created.status).toBe(201);
  await h.engine.runOnce();
  const got = await request(app).get(`/scim/v2/Users/${created.body.id}`).set(auth);
  expect(got.body[BRIDGE_USER_SCHEMA]).toEqual({
    source: 'okta',
    dirSyncEnabled: true,
    syncState: 'blocked',
    lastSyncError:
      'another sync engine owns the tenant (Entra Connect, AAD Sync or DirSync): organization.onPremisesSyncEnabled is true with an onPremisesLastSyncDateTime; user-sync would fight it',
  });
  expect(named(h)).toEqual([]);
});

it('a bridge on database ":memory:" syncs SCIM writes to Graph with its engine state on the same connection', async () => {
  h = await startHarness({ mode: 'profile-sync', database: ':memory:' });
  const app = createApp({ config: h.config, store: h.store, logger: createLogger('silent') });
  const created = await request(app)
    .post('/scim/v2/Users')
    .set(auth)
    .send({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: 'mo@example.com',
      active: true,
      displayName: 'Mo',
      name: { givenName: 'Mo', familyName: 'Ng' },
    });
  expect(created.status).toBe(201);
  const run = await h.engine.runOnce();
  expect([run.error, run.created, h.engine.status().counts]).toEqual([undefined, 1, { pending: 0, synced: 1, error: 0, blocked: 0 }]);
  // No password from the IdP: the bridge sends a random one (SPEC section 4).
  expect(named(h)).toEqual([
    {
      method: 'POST',
      url: '/users',
      status: 201,
      body: {
        accountEnabled: true,
        displayName: 'Mo',
        givenName: 'Mo',
        surname: 'Ng',
        mailNickname: 'mo',
        usageLocation: 'US',
        userPrincipalName: 'mo@example.com',
        passwordProfile: { forceChangePasswordNextSignIn: false, password: expect.any(String) },
      },
    },
  ]);
  // The replication window's record lives in the same in-memory database.
  const graphId = h.store.sync.get('User', created.body.id)!.graphId!;
  expect(h.store.engine.linkedAt(graphId)).not.toBeNull();
});
