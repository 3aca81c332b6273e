import { credentialFor, graphClientFor, graphError, innerError, raw, tokenFor } from './graph-client';
import { FIXTURE, newUser, useSimulator } from './setup';
import { startSimulator } from '../../src/simulator';
import { createPublicKey, verify } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const h = useSimulator();

test('the CA file written at start is the CA the server certificate chains to', () => {
  expect(readFileSync(h.sim.caFile, 'utf8')).toBe(h.sim.caPem);
  expect(h.sim.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
});

test('OIDC discovery names the token endpoint under authorityHost/tenantId', async () => {
  const res = await raw(h.sim, 'GET', `/${h.sim.tenantId}/v2.0/.well-known/openid-configuration`, undefined, null);
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({
    token_endpoint: `${h.sim.authorityHost}/${h.sim.tenantId}/oauth2/v2.0/token`,
    issuer: `${h.sim.authorityHost}/${h.sim.tenantId}/v2.0`,
    jwks_uri: `${h.sim.authorityHost}/${h.sim.tenantId}/discovery/v2.0/keys`,
    authorization_endpoint: `${h.sim.authorityHost}/${h.sim.tenantId}/oauth2/v2.0/authorize`,
  });
});

test('client credentials yield an RS256 token carrying the app roles', async () => {
  const { token } = (await credentialFor(h.sim).getToken('https://graph.microsoft.com/.default'))!;
  const [header, payload] = token
    .split('.')
    .slice(0, 2)
    .map((p) => JSON.parse(Buffer.from(p, 'base64url').toString('utf8')));
  expect(header).toMatchObject({ alg: 'RS256', typ: 'JWT' });
  expect(payload).toMatchObject({
    aud: 'https://graph.microsoft.com',
    tid: h.sim.tenantId,
    appid: h.sim.clientId,
    idtyp: 'app',
    roles: ['User.ReadWrite.All', 'RoleManagement.Read.Directory', 'Organization.ReadWrite.All', 'Device.Read.All', 'Group.ReadWrite.All'],
    wids: [],
  });
  const jwks = await raw(h.sim, 'GET', `/${h.sim.tenantId}/discovery/v2.0/keys`, undefined, null);
  const key = createPublicKey({ key: jwks.body.keys.find((k: { kid: string }) => k.kid === header.kid), format: 'jwk' });
  const [head, body, signature] = token.split('.');
  expect(verify('RSA-SHA256', Buffer.from(`${head}.${body}`), key, Buffer.from(signature, 'base64url'))).toBe(true);
});

test('a wrong client secret is refused by the token endpoint', async () => {
  await expect(credentialFor(h.sim, 'wrong-secret').getToken('https://graph.microsoft.com/.default')).rejects.toThrow(/AADSTS7000215/);
});

test('a request without a token is 401 InvalidAuthenticationToken', async () => {
  const res = await raw(h.sim, 'GET', '/v1.0/users', undefined, null);
  expect(res.status).toBe(401);
  expect(res.body).toEqual({ error: { code: 'InvalidAuthenticationToken', message: 'Access token is empty.', innerError } });
  const forged = await raw(h.sim, 'GET', '/v1.0/users', undefined, 'eyJhbGciOiJSUzI1NiJ9.eyJyb2xlcyI6W119.c2lnbmF0dXJl');
  expect(forged.body.error).toEqual({ code: 'InvalidAuthenticationToken', message: 'Access token validation failure.', innerError });
});

test("another tenant's token is refused though signed with the same published key", async () => {
  const other = await startSimulator({
    seed: JSON.parse(readFileSync(FIXTURE, 'utf8')),
    throttling: false,
    dataDir: mkdtempSync(join(tmpdir(), 'graph-sim-test-')),
  });
  try {
    expect(other.tenantId).not.toBe(h.sim.tenantId);
    const theirs = await raw(other, 'GET', `/${other.tenantId}/discovery/v2.0/keys`, undefined, null);
    const ours = await raw(h.sim, 'GET', `/${h.sim.tenantId}/discovery/v2.0/keys`, undefined, null);
    expect(theirs.body).toEqual(ours.body);
    const res = await raw(h.sim, 'GET', '/v1.0/users', undefined, await tokenFor(other));
    expect(res.status).toBe(401);
    expect(res.body.error).toEqual({ code: 'InvalidAuthenticationToken', message: 'Access token validation failure. Invalid audience.', innerError });
  } finally {
    await other.close();
  }
});

test('responses carry request-id and echo client-request-id', async () => {
  const res = await raw(h.sim, 'GET', '/v1.0/organization');
  expect(res.headers['request-id']).toMatch(/^[0-9a-f-]{36}$/);
  expect(res.headers['content-type']).toBe('application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8');
});

test('an app without the write roles gets 403 Authorization_RequestDenied', async () => {
  const seed = JSON.parse(readFileSync(FIXTURE, 'utf8'));
  seed.tenant.roles = ['User.Read.All'];
  const sim = await startSimulator({ seed, throttling: false, dataDir: mkdtempSync(join(tmpdir(), 'graph-sim-test-')) });
  try {
    const client = graphClientFor(sim);
    expect((await client.api('/users').select('id').get()).value).toHaveLength(2);
    expect(await graphError(client.api('/users').post(newUser('adele@contoso.com')))).toEqual({
      status: 403,
      headers: expect.anything(),
      body: { error: { code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.', innerError } },
    });
  } finally {
    await sim.close();
  }
});

test('an app-only password reset needs User-PasswordProfile.ReadWrite.All or a directory role such as User Administrator', async () => {
  // The default grant holds neither: the profile may change, the password may not.
  const { id } = await h.client.api('/users').post(newUser('adele@contoso.com'));
  expect((await graphError(h.client.api(`/users/${id}`).patch({ passwordProfile: { password: 'N3w-Passw0rd!x' } }))).body.error).toEqual({
    code: 'Authorization_RequestDenied',
    message: 'Insufficient privileges to complete the operation.',
    innerError,
  });
  await h.client.api(`/users/${id}`).patch({ accountEnabled: false });
  const base = JSON.parse(readFileSync(FIXTURE, 'utf8'));
  for (const tenant of [{ directoryRoles: ['User Administrator'] }, { roles: ['User.ReadWrite.All', 'User-PasswordProfile.ReadWrite.All'] }]) {
    const sim = await startSimulator({
      seed: { ...base, tenant: { ...base.tenant, ...tenant } },
      throttling: false,
      dataDir: mkdtempSync(join(tmpdir(), 'graph-sim-test-')),
    });
    try {
      const client = graphClientFor(sim);
      const created = await client.api('/users').post(newUser('adele@contoso.com'));
      await client.api(`/users/${created.id}`).patch({ passwordProfile: { password: 'N3w-Passw0rd!x', forceChangePasswordNextSignIn: false } });
    } finally {
      await sim.close();
    }
  }
});
