// createGraphClient against a local HTTPS server with a self-signed CA: the client-credentials token
// comes from authorityHost, the Authorization header reaches the custom host, $batch URLs are relative.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { generate } from 'selfsigned';
import { createLogger } from '../../../src/log';
import { BridgeError } from '../../../src/errors';
import { createGraphClient, graphScope, type GraphConfig } from '../../../src/graph/client';
import { classifyGraphError } from '../../../src/graph/errors';
import { userRequests } from '../../../src/graph/requests';
import { ACCESS_TOKEN, startTlsGraphServer, type TlsGraphServer } from './tls-graph-server';

const SECRET = 'correct-horse-battery-staple';
const TENANT = '11111111-2222-3333-4444-555555555555';

let server: TlsGraphServer;
let logLines: string[];

function logger() {
  logLines = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logLines.push(chunk.toString());
      done();
    },
  });
  return createLogger('trace', sink);
}

function config(overrides: Partial<GraphConfig> = {}): GraphConfig {
  return {
    tenantId: TENANT,
    clientId: 'bridge-app',
    clientSecret: SECRET,
    baseUrl: server.url,
    authorityHost: server.url,
    caFile: server.caFile,
    ...overrides,
  };
}

const graphCalls = () => server.requests.filter((r) => r.url.startsWith('/v1.0/'));

beforeAll(async () => {
  server = await startTlsGraphServer();
});
afterAll(() => server.close());
beforeEach(() => {
  server.requests.length = 0;
  server.handle(() => undefined);
});

test('GET /users/{id}: token from {authorityHost}/{tenantId}/oauth2/v2.0/token, Bearer header at the custom host', async () => {
  server.handle((r) => (r.url === '/v1.0/users/u1' ? { status: 200, headers: { 'request-id': 'abc' }, body: { id: 'u1', displayName: 'Ada' } } : undefined));
  const client = createGraphClient(config(), { logger: logger() });

  const res = await client.request('GET', '/users/u1');

  expect(res).toEqual({ status: 200, headers: expect.objectContaining({ 'request-id': 'abc' }), body: { id: 'u1', displayName: 'Ada' } });
  const token = server.requests.find((r) => r.url.split('?')[0] === `/${TENANT}/oauth2/v2.0/token`);
  expect(token).toBeDefined();
  const form = new URLSearchParams(token!.body);
  expect(form.get('grant_type')).toBe('client_credentials');
  expect(form.get('client_id')).toBe('bridge-app');
  // A stand-in host is Graph's stand-in: the token is for Graph's resource id.
  expect(form.get('scope')).toBe('https://graph.microsoft.com/.default');
  expect(graphCalls()).toHaveLength(1);
  expect(graphCalls()[0].headers.authorization).toBe(`Bearer ${ACCESS_TOKEN}`);
  // A non-public authority skips MSAL's instance discovery against login.microsoftonline.com.
  expect(server.requests.some((r) => r.url.includes('discovery/instance'))).toBe(false);
});

test("POST /users sends the JSON body and returns 201 with Graph's body", async () => {
  server.handle((r) => (r.method === 'POST' && r.url === '/v1.0/users' ? { status: 201, body: { id: 'new-id', ...JSON.parse(r.body) } } : undefined));
  const client = createGraphClient(config(), { logger: logger() });
  const body = {
    accountEnabled: true,
    displayName: 'Ada',
    mailNickname: 'ada',
    userPrincipalName: 'ada@contoso.com',
    passwordProfile: { password: 'Pw-1234567890!', forceChangePasswordNextSignIn: false },
  };

  const res = await client.request('POST', '/users', body);

  expect(res.status).toBe(201);
  expect(JSON.parse(graphCalls()[0].body)).toEqual(body);
  expect(graphCalls()[0].headers['content-type']).toMatch(/application\/json/);
  expect(logLines.join('')).not.toContain('Pw-1234567890!');
});

test('lookup by UPN keeps the $filter intact', async () => {
  server.handle(() => ({ status: 200, body: { value: [] } }));
  const client = createGraphClient(config(), { logger: logger() });
  const spec = userRequests.findByUpn("o'brien@contoso.com", ['id', 'userPrincipalName']);

  await client.request(spec.method, spec.url);

  const url = new URL(graphCalls()[0].url, server.url);
  expect(url.pathname).toBe('/v1.0/users');
  expect(url.searchParams.get('$filter')).toBe("userPrincipalName eq 'o''brien@contoso.com'");
  expect(url.searchParams.get('$select')).toBe('id,userPrincipalName');
});

test('$batch posts relative URLs (no /v1.0) with dependsOn, and returns items in request order', async () => {
  server.handle((r) => {
    if (r.url !== '/v1.0/$batch') return undefined;
    const { requests } = JSON.parse(r.body) as { requests: { id: string }[] };
    return {
      status: 200,
      body: {
        responses: [
          { id: requests[1].id, status: 429, headers: { 'Retry-After': '7' }, body: { error: { code: 'TooManyRequests', message: 'Too many requests' } } },
          { id: requests[0].id, status: 201, headers: { 'Content-Type': 'application/json' }, body: { id: 'g1' } },
        ],
      },
    };
  });
  const client = createGraphClient(config(), { logger: logger() });

  const results = await client.batch([
    { id: '1', method: 'POST', url: '/users', body: { displayName: 'Ada' } },
    { id: '2', method: 'POST', url: '/v1.0/users/u1/assignLicense', body: { addLicenses: [], removeLicenses: [] }, dependsOn: ['1'] },
  ]);

  expect(graphCalls()).toHaveLength(1);
  expect(graphCalls()[0].headers.authorization).toBe(`Bearer ${ACCESS_TOKEN}`);
  expect(JSON.parse(graphCalls()[0].body)).toEqual({
    requests: [
      { id: '1', method: 'POST', url: '/users', body: { displayName: 'Ada' }, headers: { 'Content-Type': 'application/json' } },
      {
        id: '2',
        method: 'POST',
        url: '/users/u1/assignLicense',
        body: { addLicenses: [], removeLicenses: [] },
        headers: { 'Content-Type': 'application/json' },
        dependsOn: ['1'],
      },
    ],
  });
  expect(results).toEqual([
    { id: '1', status: 201, headers: { 'content-type': 'application/json' }, body: { id: 'g1' } },
    { id: '2', status: 429, headers: { 'retry-after': '7' }, body: { error: { code: 'TooManyRequests', message: 'Too many requests' } } },
  ]);
});

test('$batch refuses more than 20 requests and duplicate ids before sending', async () => {
  const client = createGraphClient(config(), { logger: logger() });
  const many = Array.from({ length: 21 }, (_, i) => ({ id: String(i), method: 'GET' as const, url: `/users/${i}` }));
  await expect(client.batch(many)).rejects.toThrow(/at most 20/);
  await expect(client.batch([many[0], many[0]])).rejects.toThrow(/unique/);
  expect(graphCalls()).toHaveLength(0);
});

test('an HTTP error comes back as a response; classifyGraphError turns it into a classified BridgeError', async () => {
  server.handle(() => ({
    status: 429,
    headers: { 'Retry-After': '3' },
    body: { error: { code: 'TooManyRequests', message: 'Application is over its MailboxConcurrency limit.' } },
  }));
  const client = createGraphClient(config(), { logger: logger() });

  const res = await client.request('PATCH', '/users/u1', { jobTitle: 'x' });

  expect(res.status).toBe(429);
  const classified = classifyGraphError(res);
  expect(classified).toBeInstanceOf(BridgeError);
  expect(classified).toMatchObject({
    status: 429,
    code: 'TooManyRequests',
    retryable: true,
    retryAfterMs: 3000,
    message: 'Application is over its MailboxConcurrency limit.',
  });
});

test('a refused client secret is a BridgeError that names neither the secret nor a token', async () => {
  const client = createGraphClient(config({ clientSecret: 'wrong-secret-value-123' }), { logger: logger() });
  const err = await client.request('GET', '/users/u1').catch((e: unknown) => e);
  expect(err).toBeInstanceOf(BridgeError);
  expect((err as BridgeError).code).toBe('AuthenticationFailed');
  expect((err as BridgeError).message).not.toContain('wrong-secret-value-123');
  expect(logLines.join('')).not.toContain('wrong-secret-value-123');
  expect(graphCalls()).toHaveLength(0);
});

test('without caFile the self-signed server is not trusted: a retryable failure, nothing sent', async () => {
  const client = createGraphClient(config({ caFile: undefined }), { logger: logger() });
  const err = await client.request('GET', '/users/u1').catch((e: unknown) => e);
  expect(err).toBeInstanceOf(BridgeError);
  expect((err as BridgeError).retryable).toBe(true);
  expect(graphCalls()).toHaveLength(0);
});

test('a network failure is a retryable NetworkError', async () => {
  const client = createGraphClient(config(), {
    logger: logger(),
    credential: { getToken: async () => ({ token: 'tok', expiresOnTimestamp: Date.now() + 3600_000 }) },
    fetchImpl: async () => {
      throw Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }) });
    },
  });
  const err = await client.request('GET', '/users/u1').catch((e: unknown) => e);
  expect(err).toMatchObject({ code: 'NetworkError', status: 503, retryable: true });
  expect((err as Error).message).toContain('ECONNREFUSED');
});

test('the Graph leg itself trusts caFile (undici dispatcher), not only the token leg', async () => {
  server.handle(() => ({ status: 200, body: { value: [] } }));
  const credential = { getToken: async () => ({ token: 'tok', expiresOnTimestamp: Date.now() + 3600_000 }) };
  const untrusting = createGraphClient(config({ caFile: undefined }), { logger: logger(), credential });
  const trusting = createGraphClient(config(), { logger: logger(), credential });

  await expect(untrusting.request('GET', '/users')).rejects.toMatchObject({ code: 'NetworkError', retryable: true });
  await expect(trusting.request('GET', '/users')).resolves.toMatchObject({ status: 200 });
  expect(graphCalls()).toHaveLength(1);
  expect(graphCalls()[0].headers.authorization).toBe('Bearer tok');
});

test('certificatePath: ClientCertificateCredential signs a client assertion instead of sending a secret', async () => {
  const pems = await generate([{ name: 'commonName', value: 'bridge-app' }], { keySize: 2048, algorithm: 'sha256' });
  const certificatePath = join(mkdtempSync(join(tmpdir(), 'graph-cert-')), 'app.pem');
  writeFileSync(certificatePath, `${pems.private}\n${pems.cert}`);
  server.handle(() => ({ status: 200, body: { id: 'u1' } }));
  const client = createGraphClient(config({ clientSecret: undefined, certificatePath }), { logger: logger() });

  await expect(client.request('GET', '/users/u1')).resolves.toMatchObject({ status: 200 });

  const token = server.requests.find((r) => r.url.startsWith(`/${TENANT}/oauth2/v2.0/token`));
  const form = new URLSearchParams(token!.body);
  expect(form.get('client_secret')).toBeNull();
  expect(form.get('client_assertion_type')).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
  expect(graphCalls()[0].headers.authorization).toBe(`Bearer ${ACCESS_TOKEN}`);
});

test('graphScope: Graph hosts (national clouds too) are their own resource; other hosts stand in for Graph', async () => {
  expect(graphScope('https://graph.microsoft.com')).toBe('https://graph.microsoft.com/.default');
  expect(graphScope('https://graph.microsoft.us/')).toBe('https://graph.microsoft.us/.default');
  expect(graphScope('https://microsoftgraph.chinacloudapi.cn')).toBe('https://microsoftgraph.chinacloudapi.cn/.default');
  expect(graphScope('https://127.0.0.1:8443')).toBe('https://graph.microsoft.com/.default');
});

test('accessToken() returns the token the Graph calls carry (for preflight roles)', async () => {
  const client = createGraphClient(config(), { logger: logger() });
  await expect(client.accessToken!()).resolves.toBe(ACCESS_TOKEN);
});
