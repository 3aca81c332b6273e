// Extension schemas the bridge does not implement (src/scim/foreign-extensions.ts), replayed as Entra ID
// (custom attribute mappings) and Okta (an external namespace) send them: accepted under both content
// types, their attributes neither stored nor returned, one warning naming the URN and never a value, and
// the user provisioned exactly as if they had not been sent.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { createLogger } from '../../src/log';
import { BRIDGE, CORE_GROUP, CORE_USER, ENTERPRISE, LIST, TOKENS, anyTime, location, snapshot, startHarness, type Harness } from './scim-harness';

const ENTRA_EXT = 'urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User';
const OKTA_EXT = 'urn:ietf:params:scim:schemas:custom:Space';
/** What the fixtures put under the unknown extensions: values never stored, returned or logged; names never stored or returned. */
const IGNORED_VALUES = ['FIN-4130-X', 'FIN-5210-Y', 'SPACE-77'];
const IGNORED = [...IGNORED_VALUES, 'CustomExtensionName', 'costCode', 'badgeColour', 'custom:Space', 'custom1'];

let h: Harness;
let logLines: Record<string, unknown>[];

beforeEach(() => {
  logLines = [];
  const logger = createLogger('warn', { write: (line: string) => void logLines.push(JSON.parse(line)) });
  h = startHarness({ logger });
});
afterEach(() => h.close());

const fixture = (name: string) => readFileSync(path.join(__dirname, '../fixtures/scim', name), 'utf8');

/** Sends the fixture's bytes as the IdP does (application/scim+json unless told). */
function send(method: 'post' | 'patch', url: string, source: keyof typeof TOKENS, text: string, type = 'application/scim+json', harness = h) {
  return request(harness.app)[method](url).set('Authorization', `Bearer ${TOKENS[source]}`).set('Content-Type', type).send(text);
}

/**
 * Every row of every table, as text: the place to look for a name or value that must not be there. The
 * audit row's `ignored` list is left out: it names what was ignored (URNs, never values) on purpose.
 */
const everything = (harness = h) => {
  const tables = snapshot(harness.file) as Record<string, { detail?: string | null }[]>;
  tables.audit = tables.audit.map((r) => ({ ...r, detail: r.detail ? JSON.stringify({ ...JSON.parse(r.detail), ignored: undefined }) : r.detail }));
  return JSON.stringify(tables);
};
/** Every row of every table with nothing left out: values must never be there. */
const allRows = (harness = h) => JSON.stringify(snapshot(harness.file));
const ignoredWarnings = () => logLines.filter((l) => l.msg === 'unknown extension schemas ignored');

const entraUser = (id: string, version = 1) => ({
  schemas: [CORE_USER, ENTERPRISE, BRIDGE],
  id,
  externalId: '0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef',
  userName: 'Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1@testuser.com',
  name: { formatted: 'givenName familyName', familyName: 'familyName', givenName: 'givenName' },
  active: true,
  emails: [{ value: 'Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com', type: 'work', primary: true }],
  [ENTERPRISE]: { employeeNumber: '701984', department: 'Tour Operations' },
  [BRIDGE]: { source: 'entra', dirSyncEnabled: false, syncState: 'pending' },
  meta: { resourceType: 'User', created: anyTime, lastModified: anyTime, location: location(`/Users/${id}`), version: `W/"${version}"` },
});

/** The Entra create-user request as it would be without the custom mapping. */
function entraWithoutExtension(): string {
  const body = JSON.parse(fixture('entra/user-create-custom-extension.json'));
  delete body[ENTRA_EXT];
  body.schemas = body.schemas.filter((s: string) => s !== ENTRA_EXT);
  return JSON.stringify(body);
}

async function createEntraUser(): Promise<string> {
  const res = await send('post', '/scim/v2/Users', 'entra', fixture('entra/user-create-custom-extension.json'));
  expect(res.status).toBe(201);
  return res.body.id;
}

/** What a write leaves for sync/ and the audit trail: the stored resource, attribution, audit, the dirty mark. */
function provisioning(harness: Harness, id: string) {
  const { id: _id, meta: _meta, ...resource } = harness.store.users.getForSync(id)!.resource;
  return {
    resource,
    attribution: harness.store.attribution.list('User', id).map((a) => `${a.attribute}=${a.sourceId}`),
    audit: harness.store.audit.list({ resourceId: id }).map((a) => [a.action, a.sourceId]),
    due: harness.store.sync
      .listDue(Date.now(), 10)
      .filter((r) => r.id === id)
      .map((r) => [r.type, r.desiredVersion]),
  };
}

describe('Entra ID with a custom extension attribute mapping', () => {
  test.each(['application/scim+json', 'application/json'])('POST /Users (%s): 201, the whole resource without the extension', async (type) => {
    const res = await send('post', '/scim/v2/Users', 'entra', fixture('entra/user-create-custom-extension.json'), type);
    expect(res.status).toBe(201);
    expect(res.headers.location).toEqual(location(`/Users/${res.body.id}`));
    expect(res.body).toEqual(entraUser(res.body.id));
    for (const text of IGNORED) expect(res.text).not.toContain(text);
  });

  test('POST /Users stores and queues the user exactly as the same request without the extension would', async () => {
    const id = await createEntraUser();
    expect(provisioning(h, id)).toEqual({
      resource: {
        externalId: '0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef',
        userName: 'Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1@testuser.com',
        name: { formatted: 'givenName familyName', familyName: 'familyName', givenName: 'givenName' },
        active: true,
        emails: [{ value: 'Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com', type: 'work', primary: true }],
        [ENTERPRISE]: { employeeNumber: '701984', department: 'Tour Operations' },
      },
      attribution: [
        'active=entra',
        'emails=entra',
        'externalId=entra',
        'name.familyName=entra',
        'name.formatted=entra',
        'name.givenName=entra',
        `${ENTERPRISE}:department=entra`,
        `${ENTERPRISE}:employeeNumber=entra`,
        'userName=entra',
      ],
      audit: [['user.create', 'entra']],
      due: [['User', 1]],
    });
    for (const text of IGNORED) expect(everything()).not.toContain(text);

    const twin = startHarness();
    try {
      const res = await send('post', '/scim/v2/Users', 'entra', entraWithoutExtension(), 'application/scim+json', twin);
      expect(res.status).toBe(201);
      expect(provisioning(twin, res.body.id)).toEqual(provisioning(h, id));
    } finally {
      twin.close();
    }
  });

  test('POST and PATCH record the ignored URN in their audit rows, never a value', async () => {
    const id = await createEntraUser();
    await send('patch', `/scim/v2/Users/${id}`, 'entra', fixture('entra/user-patch-custom-extension.json'));
    expect(h.store.audit.list({ resourceId: id }).map((a) => [a.action, (a.detail as { ignored?: unknown } | null)?.ignored])).toEqual([
      ['user.create', { extensions: [ENTRA_EXT] }],
      ['user.patch', { extensions: [ENTRA_EXT] }],
    ]);
    for (const value of IGNORED_VALUES) expect(allRows()).not.toContain(value);
  });

  test('an unknown core attribute dropped under application/json is named in the audit row', async () => {
    const body = { schemas: [CORE_USER], userName: 'omalley@example.com', adreses: [{ country: 'Germany', type: 'work' }] };
    const res = await send('post', '/scim/v2/Users', 'entra', JSON.stringify(body), 'application/json');
    expect(res.status).toBe(201);
    expect(h.store.audit.list({ resourceId: res.body.id }).map((a) => a.detail)).toEqual([{ attributes: ['userName'], ignored: { attributes: ['adreses'] } }]);
    expect(allRows()).not.toContain('Germany');
  });

  test('POST /Users logs one warning naming the URN and where it was seen, never a value', async () => {
    await createEntraUser();
    expect(ignoredWarnings()).toEqual([
      expect.objectContaining({
        level: 'warn',
        component: 'scim',
        source: 'entra',
        method: 'POST',
        path: '/Users',
        extensions: [
          { urn: ENTRA_EXT, in: 'schemas' },
          { urn: ENTRA_EXT, in: 'attribute' },
        ],
      }),
    ]);
    for (const value of IGNORED_VALUES) expect(JSON.stringify(logLines)).not.toContain(value);
  });

  test('PATCH by path and by no-path key beside real changes: 204, the real changes applied, the extension ignored', async () => {
    const id = await createEntraUser();
    logLines.length = 0;
    const res = await send('patch', `/scim/v2/Users/${id}`, 'entra', fixture('entra/user-patch-custom-extension.json'));
    expect(res.status).toBe(204);
    expect(res.headers.etag).toBe('W/"2"');
    const get = await h.as('entra').get(`/scim/v2/Users/${id}`);
    expect(get.body).toEqual({
      ...entraUser(id, 2),
      displayName: 'givenName familyName',
      [ENTERPRISE]: { employeeNumber: '701984', department: 'Finance' },
    });
    expect(provisioning(h, id)).toMatchObject({
      audit: [
        ['user.create', 'entra'],
        ['user.patch', 'entra'],
      ],
      due: [['User', 2]],
    });
    for (const text of IGNORED) expect(everything()).not.toContain(text);
    expect(ignoredWarnings()).toEqual([
      expect.objectContaining({ source: 'entra', method: 'PATCH', path: `/Users/${id}`, extensions: [{ urn: ENTRA_EXT, in: 'path' }] }),
    ]);
    for (const value of IGNORED_VALUES) expect(JSON.stringify(logLines)).not.toContain(value);
  });

  test('PATCH that touches only the extension: 204, nothing changes, nothing to sync', async () => {
    const id = await createEntraUser();
    const before = snapshot(h.file);
    const patch = {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [
        { op: 'Add', path: `${ENTRA_EXT}:costCode`, value: 'FIN-5210-Y' },
        { op: 'Remove', path: ENTRA_EXT },
      ],
    };
    const res = await send('patch', `/scim/v2/Users/${id}`, 'entra', JSON.stringify(patch));
    expect(res.status).toBe(204);
    expect(res.headers.etag).toBe('W/"1"');
    expect(snapshot(h.file)).toEqual(before);
  });
});

describe('Okta with an attribute in an external namespace', () => {
  test('POST /Users: 201, the whole resource without the namespace; the password kept for sync', async () => {
    const res = await send('post', '/scim/v2/Users', 'okta', fixture('okta/user-create-custom-extension.json'));
    expect(res.status).toBe(201);
    const id = res.body.id;
    expect(res.body).toEqual({
      schemas: [CORE_USER, BRIDGE],
      id,
      externalId: '00ujl29u0le5T6Aj10h7',
      userName: 'test.user@okta.local',
      name: { familyName: 'User', givenName: 'Test' },
      displayName: 'Test User',
      locale: 'en-US',
      active: true,
      emails: [{ value: 'test.user@okta.local', type: 'work', primary: true }],
      [BRIDGE]: { source: 'okta', dirSyncEnabled: false, syncState: 'pending' },
      meta: { resourceType: 'User', created: anyTime, lastModified: anyTime, location: location(`/Users/${id}`), version: 'W/"1"' },
    });
    expect(provisioning(h, id)).toEqual({
      resource: {
        externalId: '00ujl29u0le5T6Aj10h7',
        userName: 'test.user@okta.local',
        name: { familyName: 'User', givenName: 'Test' },
        displayName: 'Test User',
        locale: 'en-US',
        active: true,
        emails: [{ value: 'test.user@okta.local', type: 'work', primary: true }],
      },
      attribution: [
        'active=okta',
        'displayName=okta',
        'emails=okta',
        'externalId=okta',
        'locale=okta',
        'name.familyName=okta',
        'name.givenName=okta',
        'password=okta',
        'userName=okta',
      ],
      audit: [['user.create', 'okta']],
      due: [['User', 1]],
    });
    expect(h.store.sync.get('User', id)).toMatchObject({ hasPendingPassword: true, desiredVersion: 1 });
    expect(h.store.sync.revealPendingPassword('User', id)).toBe('1mz050nq');
    for (const text of IGNORED) expect(everything()).not.toContain(text);
    expect(ignoredWarnings()).toEqual([
      expect.objectContaining({
        source: 'okta',
        method: 'POST',
        path: '/Users',
        extensions: [
          { urn: OKTA_EXT, in: 'schemas' },
          { urn: OKTA_EXT, in: 'attribute' },
        ],
      }),
    ]);
  });
});

describe('filters, groups and Bulk', () => {
  const list = (Resources: unknown[]) => ({ schemas: [LIST], totalResults: Resources.length, itemsPerPage: Resources.length, startIndex: 1, Resources });
  const filtered = (filter: string) => h.as('entra').get(`/scim/v2/Users?filter=${encodeURIComponent(filter)}`);

  test('a filter on an unknown extension attribute treats it as unassigned: eq and pr match nothing, ne matches', async () => {
    const id = await createEntraUser();
    logLines.length = 0;
    expect((await filtered(`${ENTRA_EXT}:costCode eq "FIN-4130-X"`)).body).toEqual(list([]));
    expect((await filtered(`${ENTRA_EXT}:costCode pr`)).body).toEqual(list([]));
    expect((await filtered(`${ENTRA_EXT}:costCode ne "FIN-4130-X"`)).body).toEqual(list([entraUser(id)]));
    // Entra's matching lookup beside it still finds the user.
    expect((await filtered(`userName eq "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1@testuser.com" or ${ENTRA_EXT}:costCode eq "x"`)).body).toEqual(
      list([entraUser(id)]),
    );
    expect(ignoredWarnings().map((l) => l.extensions)).toEqual([1, 2, 3, 4].map(() => [{ urn: ENTRA_EXT, in: 'filter' }]));
  });

  test('POST /.search across Users and Groups with such a filter: 200, nothing matches, one warning', async () => {
    await createEntraUser();
    logLines.length = 0;
    const search = { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter: `${ENTRA_EXT}:costCode eq "FIN-4130-X"` };
    const res = await send('post', '/scim/v2/.search', 'entra', JSON.stringify(search));
    expect(res.status).toBe(200);
    expect(res.body).toEqual(list([]));
    expect(ignoredWarnings()).toEqual([expect.objectContaining({ method: 'POST', path: '/.search', extensions: [{ urn: ENTRA_EXT, in: 'filter' }] })]);
  });

  test('POST /Groups listing an unknown extension: 201 without it', async () => {
    const body = { schemas: [CORE_GROUP, ENTRA_EXT], displayName: 'Tour Operations', [ENTRA_EXT]: { costCode: 'FIN-4130-X' } };
    const res = await send('post', '/scim/v2/Groups', 'entra', JSON.stringify(body));
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      schemas: [CORE_GROUP, 'urn:ietf:params:scim:schemas:extension:graphbridge:2.0:Group'],
      id: res.body.id,
      displayName: 'Tour Operations',
      'urn:ietf:params:scim:schemas:extension:graphbridge:2.0:Group': { source: 'entra', syncState: 'pending' },
      meta: { resourceType: 'Group', created: anyTime, lastModified: anyTime, location: location(`/Groups/${res.body.id}`), version: 'W/"1"' },
    });
    for (const text of IGNORED) expect(everything()).not.toContain(text);
  });

  test('POST /Bulk creating an Entra user with the extension: the operation succeeds and the warning names it', async () => {
    const data = JSON.parse(fixture('entra/user-create-custom-extension.json'));
    const bulk = { schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'], Operations: [{ method: 'POST', path: '/Users', bulkId: 'u1', data }] };
    const res = await send('post', '/scim/v2/Bulk', 'entra', JSON.stringify(bulk));
    expect(res.status).toBe(200);
    expect(res.body.Operations).toEqual([
      { method: 'POST', bulkId: 'u1', version: 'W/"1"', location: expect.stringMatching(/\/Users\/[0-9a-f-]{36}$/), status: '201' },
    ]);
    const id = res.body.Operations[0].location.split('/').pop();
    expect((await h.as('entra').get(`/scim/v2/Users/${id}`)).body).toEqual(entraUser(id));
    expect(ignoredWarnings()).toEqual([
      expect.objectContaining({
        source: 'entra',
        method: 'POST',
        path: '/Bulk',
        extensions: [
          { urn: ENTRA_EXT, in: 'schemas' },
          { urn: ENTRA_EXT, in: 'attribute' },
        ],
      }),
    ]);
  });

  test("POST /Bulk: each operation's audit row names only what that operation ignored", async () => {
    const withExt = JSON.parse(fixture('entra/user-create-custom-extension.json'));
    const plain = { schemas: [CORE_USER], userName: 'plain@example.com' };
    const bulk = {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: [
        { method: 'POST', path: '/Users', bulkId: 'a', data: withExt },
        { method: 'POST', path: '/Users', bulkId: 'b', data: plain },
      ],
    };
    const res = await send('post', '/scim/v2/Bulk', 'entra', JSON.stringify(bulk));
    expect(res.body.Operations.map((o: { status: string }) => o.status)).toEqual(['201', '201']);
    const [a, b] = res.body.Operations.map((o: { location: string }) => o.location.split('/').pop());
    const ignoredOf = (id: string) => h.store.audit.list({ resourceId: id }).map((e) => (e.detail as { ignored?: unknown } | null)?.ignored);
    expect(ignoredOf(a)).toEqual([{ extensions: [ENTRA_EXT] }]);
    expect(ignoredOf(b)).toEqual([undefined]);
  });
});
