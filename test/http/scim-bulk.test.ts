// RFC 7644 section 3.7 Bulk: operations through the same services, bulkId references in any
// order, failOnErrors, and the configured maximum.
import { BRIDGE, CORE_GROUP, CORE_USER, PATCH_OP, scimError, snapshot, startHarness, type Harness } from './scim-harness';

const BULK_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
const BULK_RESPONSE = 'urn:ietf:params:scim:api:messages:2.0:BulkResponse';

let h: Harness;
beforeEach(() => (h = startHarness({ overrides: { limits: { bodyBytes: 1_048_576, bulkOperations: 5 } } })));
afterEach(() => h.close());

test('creates a group whose member is a user created later in the same request (bulkId)', async () => {
  const res = await h
    .as('okta')
    .post('/scim/v2/Bulk')
    .send({
      schemas: [BULK_REQUEST],
      Operations: [
        {
          method: 'POST',
          path: '/Groups',
          bulkId: 'g1',
          data: { schemas: [CORE_GROUP], displayName: 'Tour Guides', members: [{ type: 'User', value: 'bulkId:u1' }] },
        },
        { method: 'POST', path: '/Users', bulkId: 'u1', data: { schemas: [CORE_USER], userName: 'bjensen@example.com' } },
        { method: 'PATCH', path: '/Users/bulkId:u1', data: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] } },
      ],
    });
  expect(res.status).toBe(200);
  const users = h.store.queries.list('User', { startIndex: 1, count: 10, ownerId: null }).resources;
  const groups = h.store.queries.list('Group', { startIndex: 1, count: 10, ownerId: null }).resources;
  const [userId, groupId] = [users[0].id, groups[0].id];
  expect(res.body).toEqual({
    schemas: [BULK_RESPONSE],
    Operations: [
      { method: 'POST', bulkId: 'g1', version: 'W/"1"', location: expect.stringMatching(new RegExp(`/scim/v2/Groups/${groupId}$`)), status: '201' },
      { method: 'POST', bulkId: 'u1', version: 'W/"1"', location: expect.stringMatching(new RegExp(`/scim/v2/Users/${userId}$`)), status: '201' },
      { method: 'PATCH', version: 'W/"2"', location: expect.stringMatching(new RegExp(`/scim/v2/Users/${userId}$`)), status: '200' },
    ],
  });
  expect(h.store.groups.members(groupId).map((m) => m.value)).toEqual([userId]);
  expect((await h.as('okta').get(`/scim/v2/Users/${userId}`)).body).toMatchObject({ active: false, [BRIDGE]: { source: 'okta' } });
});

test('failOnErrors stops after that many errors; each error carries a SCIM error response', async () => {
  await h.as('okta').post('/scim/v2/Users').send({ userName: 'taken@example.com' });
  const res = await h
    .as('okta')
    .post('/scim/v2/Bulk')
    .send({
      schemas: [BULK_REQUEST],
      failOnErrors: 1,
      Operations: [
        { method: 'POST', path: '/Users', bulkId: 'a', data: { schemas: [CORE_USER], userName: 'taken@example.com' } },
        { method: 'POST', path: '/Users', bulkId: 'b', data: { schemas: [CORE_USER], userName: 'never@example.com' } },
      ],
    });
  expect(res.body).toEqual({
    schemas: [BULK_RESPONSE],
    Operations: [{ method: 'POST', bulkId: 'a', status: '409', response: scimError(409, 'userName "taken@example.com" is already taken', 'uniqueness') }],
  });
  expect(h.store.users.getByUserName('never@example.com')).toBeNull();
});

test('a reference that never resolves is 409 for that operation', async () => {
  const res = await h
    .as('okta')
    .post('/scim/v2/Bulk')
    .send({
      schemas: [BULK_REQUEST],
      Operations: [{ method: 'POST', path: '/Groups', bulkId: 'g', data: { schemas: [CORE_GROUP], displayName: 'G', members: [{ value: 'bulkId:nobody' }] } }],
    });
  expect(res.body.Operations).toEqual([
    {
      method: 'POST',
      bulkId: 'g',
      status: '409',
      response: scimError(409, 'bulkId reference in operation 0 never resolves (unknown or circular)', 'invalidValue'),
    },
  ]);
});

test('more operations than bulk.maxOperations is 413 and nothing runs', async () => {
  const before = snapshot(h.file);
  const Operations = Array.from({ length: 6 }, (_, i) => ({ method: 'POST', path: '/Users', bulkId: `u${i}`, data: { userName: `u${i}@example.com` } }));
  const res = await h
    .as('okta')
    .post('/scim/v2/Bulk')
    .send({ schemas: [BULK_REQUEST], Operations });
  expect(res.status).toBe(413);
  expect(res.body).toEqual(scimError(413, 'a bulk request may hold at most 5 operations'));
  expect(snapshot(h.file)).toEqual(before);
});

test('a malformed operation makes the whole request 400 invalidSyntax', async () => {
  const res = await h
    .as('okta')
    .post('/scim/v2/Bulk')
    .send({ schemas: [BULK_REQUEST], Operations: [{ method: 'GET', path: '/Users' }] });
  expect(res.body).toEqual(scimError(400, 'Operations[0].method must be POST, PUT, PATCH or DELETE', 'invalidSyntax'));
});

test('operations on a cycle of bulkId references are 409 each; one that depends on the cycle never resolves', async () => {
  const before = snapshot(h.file);
  const res = await h
    .as('okta')
    .post('/scim/v2/Bulk')
    .send({
      schemas: [BULK_REQUEST],
      Operations: [
        { method: 'POST', path: '/Groups', bulkId: 'g1', data: { schemas: [CORE_GROUP], displayName: 'G1', members: [{ type: 'Group', value: 'bulkId:g2' }] } },
        { method: 'POST', path: '/Groups', bulkId: 'g2', data: { schemas: [CORE_GROUP], displayName: 'G2', members: [{ type: 'Group', value: 'bulkId:g1' }] } },
        { method: 'PATCH', path: '/Groups/bulkId:g1', data: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'G' }] } },
      ],
    });
  expect(res.body).toEqual({
    schemas: [BULK_RESPONSE],
    Operations: [
      { method: 'POST', bulkId: 'g1', status: '409', response: scimError(409, 'bulkId references of operation 0 form a cycle', 'invalidValue') },
      { method: 'POST', bulkId: 'g2', status: '409', response: scimError(409, 'bulkId references of operation 1 form a cycle', 'invalidValue') },
      { method: 'PATCH', status: '409', response: scimError(409, 'bulkId reference in operation 2 never resolves (unknown or circular)', 'invalidValue') },
    ],
  });
  expect(snapshot(h.file)).toEqual(before);
});

test('a chain of references sent in reverse order resolves: each operation after the POST it names', async () => {
  const big = startHarness({ overrides: { limits: { bodyBytes: 1_048_576, bulkOperations: 1000 } } });
  try {
    // u0 is created last; u(k) names u(k+1)... as its manager, so nothing can run before its successor.
    const n = 200;
    const Operations = Array.from({ length: n }, (_, k) => ({
      method: 'POST',
      path: '/Users',
      bulkId: `u${k}`,
      data: {
        schemas: [CORE_USER, 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'],
        userName: `u${k}@example.com`,
        ...(k < n - 1 ? { 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { manager: { value: `bulkId:u${k + 1}` } } } : {}),
      },
    }));
    const res = await big
      .as('okta')
      .post('/scim/v2/Bulk')
      .send({ schemas: [BULK_REQUEST], Operations });
    expect(res.status).toBe(200);
    expect(res.body.Operations.map((o: { status: string }) => o.status)).toEqual(Array(n).fill('201'));
    const first = await big.as('okta').get(`/scim/v2/Users?filter=${encodeURIComponent('userName eq "u0@example.com"')}`);
    const second = await big.as('okta').get(`/scim/v2/Users?filter=${encodeURIComponent('userName eq "u1@example.com"')}`);
    expect(first.body.Resources[0]['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User']).toEqual({ manager: { value: second.body.Resources[0].id } });
  } finally {
    big.close();
  }
});
