// The SCIM endpoint's own routing (src/scim/http.ts): what clients relied on when express routed it
// still holds. Paths match without regard to case and with a trailing slash, HEAD is GET without a
// body, an absolute-form request target is served, and the scheme of a Location comes from
// X-Forwarded-Proto only when the peer is a trusted proxy.
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Harness, startHarness, TOKENS, CORE_USER, LIST } from './scim-harness';

let h: Harness;
afterEach(() => h?.close());

/**
 * One request over a raw socket to the app listening on a free port, as okta: for what supertest cannot
 * send or read (HEAD's empty body, an absolute-form target). `path` gets the port it listens on.
 */
async function raw(method: string, path: (port: number) => string): Promise<{ port: number; status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const server = h.app.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      const req = httpRequest({ host: '127.0.0.1', port, method, path: path(port), headers: { Authorization: `Bearer ${TOKENS.okta}` } }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => server.close(() => resolve({ port, status: res.statusCode!, headers: res.headers, body })));
      });
      req.on('error', reject);
      req.end();
    });
  });
}

async function createUser(userName = 'ada@example.com'): Promise<string> {
  const res = await h.as('okta').post('/scim/v2/Users').send({ userName });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

test('paths match without regard to case and with or without a trailing slash', async () => {
  h = startHarness();
  const id = await createUser();

  const list = await h.as('okta').get('/SCIM/V2/users/');
  expect(list.status).toBe(200);
  expect(list.body).toMatchObject({ schemas: [LIST], totalResults: 1, Resources: [{ id, userName: 'ada@example.com' }] });

  const one = await h.as('okta').get(`/scim/v2/USERS/${id}/`);
  expect(one.status).toBe(200);
  expect(one.body).toMatchObject({ schemas: expect.arrayContaining([CORE_USER]), id });
});

test('HEAD is answered as GET, with its headers and no body', async () => {
  h = startHarness();
  const id = await createUser();
  const get = await h.as('okta').get(`/scim/v2/Users/${id}`);

  const head = await raw('HEAD', () => `/scim/v2/Users/${id}`);

  expect(head.status).toBe(200);
  expect(head.body).toBe('');
  expect(head.headers).toMatchObject({
    etag: get.headers.etag,
    location: `http://127.0.0.1:${head.port}/scim/v2/Users/${id}`,
    'content-type': 'application/scim+json; charset=utf-8',
  });
});

test('an absolute-form request target (RFC 9112 section 3.2.2) is served by the SCIM routes', async () => {
  h = startHarness();
  const id = await createUser();

  const answer = await raw('GET', (port) => `http://127.0.0.1:${port}/scim/v2/Users?filter=${encodeURIComponent('userName eq "ada@example.com"')}`);

  expect(answer.status).toBe(200);
  expect(JSON.parse(answer.body)).toMatchObject({ schemas: [LIST], totalResults: 1, Resources: [{ id }] });
});

test('X-Forwarded-Proto sets the scheme of a Location only when the peer is a trusted proxy', async () => {
  h = startHarness();
  const untrusted = await h.as('okta').post('/scim/v2/Users').set('X-Forwarded-Proto', 'https').send({ userName: 'ada@example.com' });
  expect(untrusted.headers.location).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/scim\/v2\/Users\/[0-9a-f-]{36}$/);
  expect(untrusted.body.meta.location).toBe(untrusted.headers.location);
  h.close();

  h = startHarness({ overrides: { trustProxy: 'loopback' } });
  const trusted = await h.as('okta').post('/scim/v2/Users').set('X-Forwarded-Proto', 'https, http').send({ userName: 'ada@example.com' });
  expect(trusted.headers.location).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/scim\/v2\/Users\/[0-9a-f-]{36}$/);
  expect(trusted.body.meta.location).toBe(trusted.headers.location);
});

test('a failure before the route (the source lookup of auth) is a SCIM 500, not a crash', async () => {
  h = startHarness();
  jest.spyOn(h.store.sources, 'get').mockImplementation(() => {
    throw new Error('disk I/O error');
  });
  const res = await h.as('okta').get('/scim/v2/Users');
  expect(res.status).toBe(500);
  expect(res.headers['content-type']).toBe('application/scim+json; charset=utf-8');
  expect(res.body).toEqual({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '500', detail: 'internal error' });
});
