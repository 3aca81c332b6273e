// The inbound writer's BulkRequest: a user's desired Graph state as the SCIM operation Microsoft's
// bulkUpload takes (synchronization-bulkupload: schemas, Operations with method POST, path /Users,
// bulkId, data with the core and enterprise schemas and externalId).
import { inboundBulkRequest, inboundKey, inboundOperation, inboundRequests } from '../../../src/graph/inbound';
import { translateUser } from '../../../src/graph/translate-user';
import { ctx, ENT, EXT, fullUser, GUID_IMMUTABLE_ID } from './fixtures';

const CORE = 'urn:ietf:params:scim:schemas:core:2.0:User';

test('universal-sync: every managed attribute, the manager by its externalId, the bridge extension for what the default mappings lack', () => {
  const desired = translateUser('universal-sync', fullUser(), ctx());
  expect(inboundOperation({ externalId: 'u-ada', bulkId: 'u-ada.3', properties: desired.properties, managerExternalId: 'u-babbage' })).toEqual({
    method: 'POST',
    bulkId: 'u-ada.3',
    path: '/Users',
    data: {
      schemas: [CORE, ENT, EXT],
      externalId: 'u-ada',
      userName: 'ada.lovelace@contoso.com',
      displayName: 'Ada Lovelace',
      name: { givenName: 'Ada', familyName: 'Lovelace' },
      active: true,
      title: 'Analyst',
      userType: 'Employee',
      preferredLanguage: 'en-GB',
      emails: [
        { value: 'ada@contoso.com', type: 'work', primary: true },
        { value: 'ada.home@example.org', type: 'other' },
      ],
      phoneNumbers: [
        { value: '+44 20 7946 0000', type: 'work' },
        { value: '+44 7700 900000', type: 'mobile' },
        { value: '+44 20 7946 0001', type: 'fax' },
      ],
      addresses: [{ type: 'work', streetAddress: '12 St James Sq', locality: 'London', region: 'Greater London', postalCode: 'SW1Y 4LB', country: 'GB' }],
      [ENT]: {
        employeeNumber: 'E1815',
        department: 'Engines',
        organization: 'Analytical Co',
        costCenter: 'CC-42',
        division: 'R&D',
        manager: { value: 'u-babbage' },
      },
      [EXT]: {
        mailNickname: 'ada',
        usageLocation: 'GB',
        officeLocation: 'Room 101',
        employeeHireDate: '2024-01-15T00:00:00Z',
        immutableId: GUID_IMMUTABLE_ID,
        extensionAttribute1: 'alpha',
        extensionAttribute15: 'omega',
      },
    },
  });
});

test('profile-sync sends the basic set only; a deactivation is active: false', () => {
  const user = { ...fullUser(), active: false };
  const desired = translateUser('profile-sync', user, ctx());
  expect(inboundOperation({ externalId: 'u-ada', bulkId: 'b1', properties: desired.properties })).toEqual({
    method: 'POST',
    bulkId: 'b1',
    path: '/Users',
    data: {
      schemas: [CORE, ENT, EXT],
      externalId: 'u-ada',
      userName: 'ada.lovelace@contoso.com',
      displayName: 'Ada Lovelace',
      name: { givenName: 'Ada', familyName: 'Lovelace' },
      active: false,
      [EXT]: { mailNickname: 'ada', usageLocation: 'GB', employeeHireDate: '2024-01-15T00:00:00Z', immutableId: GUID_IMMUTABLE_ID },
    },
  });
});

test('without extension values the data carries the core and enterprise schemas only, as Microsoft requires', () => {
  expect(
    inboundOperation({ externalId: 'x1', bulkId: 'b', properties: { userPrincipalName: 'x@contoso.com', accountEnabled: true, givenName: null } }),
  ).toEqual({
    method: 'POST',
    bulkId: 'b',
    path: '/Users',
    data: { schemas: [CORE, ENT], externalId: 'x1', userName: 'x@contoso.com', active: true },
  });
});

test('a BulkRequest carries 1 to 50 operations, and goes to the job with application/scim+json', () => {
  const ops = Array.from({ length: 50 }, (_, i) => inboundOperation({ externalId: `e${i}`, bulkId: `b${i}`, properties: { accountEnabled: true } }));
  const body = inboundBulkRequest(ops);
  expect(body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:BulkRequest']);
  expect(body.Operations).toHaveLength(50);
  expect(body.failOnErrors).toBeNull();
  expect(() => inboundBulkRequest([...ops, ops[0]])).toThrow('a bulkUpload request carries 1 to 50 operations, got 51');
  expect(() => inboundBulkRequest([])).toThrow(RangeError);
  expect(inboundRequests.bulkUpload('sp-1', 'API2AAD.a.b', body)).toEqual({
    method: 'POST',
    url: '/servicePrincipals/sp-1/synchronization/jobs/API2AAD.a.b/bulkUpload',
    body,
    headers: { 'Content-Type': 'application/scim+json' },
  });
  expect(inboundRequests.provisioningLogs("API2AAD.a'b", '2026-12-02T04:00:00.000Z', 100).url).toBe(
    `/auditLogs/provisioning?$filter=${encodeURIComponent("jobId eq 'API2AAD.a''b' and activityDateTime ge 2026-12-02T04:00:00.000Z")}&$orderby=activityDateTime%20asc&$top=100`,
  );
});

test("a resource's externalId is 16 characters, the same every time, and differs between resources", () => {
  expect(inboundKey('2f1c6a52-7d3e-4b8a-9c11-0a5e2b7d9f00')).toMatch(/^[A-Za-z0-9_-]{16}$/);
  expect(inboundKey('2f1c6a52-7d3e-4b8a-9c11-0a5e2b7d9f00')).toBe(inboundKey('2f1c6a52-7d3e-4b8a-9c11-0a5e2b7d9f00'));
  expect(inboundKey('a')).not.toBe(inboundKey('b'));
});
