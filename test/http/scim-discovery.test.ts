// RFC 7644 section 4 discovery, and /Me (a bearer token names a source, not a User).
import { BRIDGE, BRIDGE_GROUP, CORE_GROUP, CORE_USER, ENTERPRISE, LIST, location, scimError, startHarness, type Harness } from './scim-harness';

let h: Harness;
beforeAll(() => (h = startHarness({ overrides: { limits: { bodyBytes: 65536, bulkOperations: 50 } } })));
afterAll(() => h.close());

test("GET /ServiceProviderConfig (also at /serviceConfiguration, as Entra's collection asks)", async () => {
  const expected = {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
    documentationUri: 'https://www.rfc-editor.org/rfc/rfc7644',
    patch: { supported: true },
    bulk: { supported: true, maxOperations: 50, maxPayloadSize: 65536 },
    filter: { supported: true, maxResults: 1000 },
    changePassword: { supported: true },
    sort: { supported: true },
    etag: { supported: true },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'OAuth Bearer Token',
        description: 'Authentication with a per-source bearer token (RFC 6750); the token identifies the source.',
        specUri: 'https://www.rfc-editor.org/rfc/rfc6750',
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: location('/ServiceProviderConfig') },
  };
  expect((await h.as('okta').get('/scim/v2/ServiceProviderConfig')).body).toEqual(expected);
  expect((await h.as('okta').get('/scim/v2/serviceConfiguration')).body).toEqual(expected);
});

test('GET /ResourceTypes lists User (first) and Group with their extensions', async () => {
  const res = await h.as('okta').get('/scim/v2/ResourceTypes');
  expect(res.body).toEqual({
    schemas: [LIST],
    totalResults: 2,
    itemsPerPage: 2,
    startIndex: 1,
    Resources: [
      {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
        id: 'User',
        name: 'User',
        endpoint: '/Users',
        description: 'User Account',
        schema: CORE_USER,
        schemaExtensions: [
          { schema: ENTERPRISE, required: false },
          { schema: BRIDGE, required: false },
        ],
        meta: { resourceType: 'ResourceType', location: location('/ResourceTypes/User') },
      },
      {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
        id: 'Group',
        name: 'Group',
        endpoint: '/Groups',
        description: 'Group',
        schema: CORE_GROUP,
        schemaExtensions: [{ schema: BRIDGE_GROUP, required: false }],
        meta: { resourceType: 'ResourceType', location: location('/ResourceTypes/Group') },
      },
    ],
  });
  expect((await h.as('okta').get('/scim/v2/ResourceTypes/group')).body.id).toBe('Group');
});

test('GET /Schemas lists the five schemas; the bridge extension marks its sync state read-only', async () => {
  const res = await h.as('okta').get('/scim/v2/Schemas');
  expect(res.body.Resources.map((s: { id: string }) => s.id)).toEqual([CORE_USER, CORE_GROUP, ENTERPRISE, BRIDGE, BRIDGE_GROUP]);
  const bridge = (await h.as('okta').get(`/scim/v2/Schemas/${BRIDGE}`)).body;
  const mutability = Object.fromEntries(bridge.attributes.map((a: { name: string; mutability: string }) => [a.name, a.mutability]));
  expect(mutability).toMatchObject({
    sourceDirectory: 'readWrite',
    objectGUID: 'readWrite',
    pwdLastSet: 'readWrite',
    immutableId: 'readWrite',
    usageLocation: 'readWrite',
    mailNickname: 'readWrite',
    officeLocation: 'readWrite',
    extensionAttribute1: 'readWrite',
    extensionAttribute15: 'readWrite',
    source: 'readOnly',
    dirSyncEnabled: 'readOnly',
    tokensValidFrom: 'readOnly',
    graphId: 'readOnly',
    syncState: 'readOnly',
    lastSyncError: 'readOnly',
  });
  expect(bridge.meta).toEqual({ resourceType: 'Schema', location: location(`/Schemas/${BRIDGE}`) });
  expect(res.text).toContain('User Account');
});

test('an unknown schema or resource type is 404', async () => {
  expect((await h.as('okta').get('/scim/v2/Schemas/urn:nope')).body).toEqual(scimError(404, 'schema urn:nope not found'));
  expect((await h.as('okta').get('/scim/v2/ResourceTypes/Device')).body).toEqual(scimError(404, 'resource type Device not found'));
});

test('/Me is 501: the authenticated subject is a provisioning source', async () => {
  const res = await h.as('okta').get('/scim/v2/Me');
  expect(res.status).toBe(501);
  expect(res.body).toEqual(scimError(501, '/Me is not supported: a bearer token identifies a provisioning source, not a User'));
});

test('an unknown endpoint is 404 and a wrong method 405, both as SCIM errors', async () => {
  expect((await h.as('okta').get('/scim/v2/Devices')).body).toEqual(scimError(404, 'no SCIM endpoint at /Devices'));
  const res = await h.as('okta').delete('/scim/v2/Users');
  expect(res.status).toBe(405);
  expect(res.headers.allow).toBe('GET, POST');
  expect(res.body).toEqual(scimError(405, 'method not allowed; use GET, POST'));
});
