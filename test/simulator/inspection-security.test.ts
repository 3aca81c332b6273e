// The inspection API (/_sim) reads and resets the tenant and injects faults: it answers only with the
// simulator's inspection token. The request log it serves never holds a password or a secret: they
// show as a fixed marker, while the simulated tenant keeps what was set.
import { redactBody } from '../../src/simulator/redact';
import { raw, tokenFor } from './graph-client';
import { ALEX, useSimulator } from './setup';

const h = useSimulator();
const PASSWORD = 'Str0ng-Passw0rd!x9';

test.each([
  ['GET', '/_sim/state'],
  ['GET', '/_sim/requests'],
  ['POST', '/_sim/faults'],
  ['POST', '/_sim/reset'],
  ['DELETE', '/_sim/requests'],
])('%s %s without the inspection token: 401, and nothing read or changed', async (method, path) => {
  await raw(h.sim, 'PATCH', `/v1.0/users/${ALEX}`, { jobTitle: 'Buyer' });
  const body = method === 'POST' && path === '/_sim/faults' ? { failNext: [{ status: 502 }] } : undefined;
  const unauthorized = {
    status: 401,
    body: { error: { code: 'Unauthorized', message: 'The simulator inspection API needs its token: Authorization: Bearer <inspection token>.' } },
  };
  for (const token of [null, 'not-the-token', await tokenFor(h.sim)]) expect(await raw(h.sim, method, path, body, token)).toMatchObject(unauthorized);
  expect(h.sim.state.snapshot().users.find((u) => u.id === ALEX)!.jobTitle).toBe('Buyer');
  expect(h.sim.faults.get().pending).toEqual([]);
  expect(h.sim.requests.list({ method: 'PATCH' })).toHaveLength(1);
});

test('the request log shows passwords and secrets as [redacted], alone and in $batch; the tenant keeps the password', async () => {
  const create = {
    accountEnabled: true,
    displayName: 'Pat',
    mailNickname: 'pat',
    userPrincipalName: 'pat@contoso.com',
    passwordProfile: { password: PASSWORD, forceChangePasswordNextSignIn: false },
  };
  const created = await raw(h.sim, 'POST', '/v1.0/users', create);
  expect(created.status).toBe(201);
  const second = {
    ...create,
    displayName: 'Sam',
    mailNickname: 'sam',
    userPrincipalName: 'sam@contoso.com',
    passwordProfile: { password: `${PASSWORD}2`, forceChangePasswordNextSignIn: true },
  };
  const batch = await raw(h.sim, 'POST', '/v1.0/$batch', {
    requests: [{ id: '1', method: 'POST', url: '/users', body: second, headers: { 'Content-Type': 'application/json' } }],
  });
  expect(batch.body.responses[0].status).toBe(201);
  const log = await raw(h.sim, 'GET', '/_sim/requests', undefined, h.sim.inspectionToken);
  expect(log.status).toBe(200);
  const text = JSON.stringify(log.body) + JSON.stringify(h.sim.requests.list());
  expect(text).not.toContain(PASSWORD);
  expect(h.sim.requests.writes().map((e) => [e.method, e.url, e.requestBody])).toEqual([
    ['POST', '/users', { ...create, passwordProfile: { password: '[redacted]', forceChangePasswordNextSignIn: false } }],
    ['POST', '/users', { ...second, passwordProfile: { password: '[redacted]', forceChangePasswordNextSignIn: true } }],
  ]);
  expect(h.sim.state.directory.users.get(created.body.id)!.password).toBe(PASSWORD);
  expect(h.sim.state.directory.users.get(batch.body.responses[0].body.id)!.password).toBe(`${PASSWORD}2`);
});

test('client secrets, keys, bearer values and JWTs in any body are redacted; names that only look alike are not', () => {
  const jwt = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2ln';
  const body = {
    displayName: 'Basic Users',
    jobTitle: 'bearer of news',
    passwordCredentials: [{ secretText: 's3cr3t-value' }],
    keyCredentials: [{ key: 'a2V5' }],
    notes: `Bearer ${jwt}`,
    other: jwt,
    client_secret: 'cs',
  };
  expect(redactBody(body)).toEqual({
    displayName: 'Basic Users',
    jobTitle: 'bearer of news',
    passwordCredentials: [{ secretText: '[redacted]' }],
    keyCredentials: [{ key: '[redacted]' }],
    notes: '[redacted]',
    other: '[redacted]',
    client_secret: '[redacted]',
  });
});
