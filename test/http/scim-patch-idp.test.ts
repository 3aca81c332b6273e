// PATCH bodies exactly as Entra ID, Okta and OneLogin send them (test/fixtures/scim/), replayed
// against users and groups; each asserts the whole resource afterwards.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BRIDGE, CORE_GROUP, CORE_USER, ENTERPRISE, anyTime, location, startHarness, type Harness } from './scim-harness';

let h: Harness;
beforeEach(() => (h = startHarness()));
afterEach(() => h.close());

function fixture(name: string, ids: Record<string, string> = {}): unknown {
  let text = readFileSync(path.join(__dirname, '../fixtures/scim', name), 'utf8');
  for (const [k, v] of Object.entries(ids)) text = text.split(`{{${k}}}`).join(v);
  return JSON.parse(text);
}

const user = {
  schemas: [CORE_USER, ENTERPRISE],
  userName: 'Test_User_ab6490ee@testuser.com',
  externalId: '0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef',
  name: { givenName: 'Given', familyName: 'Family' },
  active: true,
  emails: [{ primary: true, type: 'work', value: 'Test_User_fd0ea19b@testuser.com' }],
  [ENTERPRISE]: { department: 'Sales' },
};

async function createUser(body: object = user, source: 'okta' | 'entra' = 'entra'): Promise<string> {
  const res = await h.as(source).post('/scim/v2/Users').send(body);
  expect(res.status).toBe(201);
  return res.body.id;
}

async function patch(kind: 'Users' | 'Groups', id: string, body: unknown, source: 'okta' | 'entra' = 'entra') {
  return h
    .as(source)
    .patch(`/scim/v2/${kind}/${id}`)
    .send(body as object);
}

const getUser = async (id: string, source: 'okta' | 'entra' = 'entra') => (await h.as(source).get(`/scim/v2/Users/${id}`)).body;
const getGroup = async (id: string, source: 'okta' | 'entra' = 'entra') => (await h.as(source).get(`/scim/v2/Groups/${id}`)).body;

describe('Entra ID user PATCH', () => {
  test('Replace emails[type eq "work"].value and name.familyName', async () => {
    const id = await createUser();
    expect((await patch('Users', id, fixture('entra/user-update-multivalued.json'))).status).toBe(204);
    const body = await getUser(id);
    expect(body.emails).toEqual([{ value: 'updatedEmail@microsoft.com', type: 'work', primary: true }]);
    expect(body.name).toEqual({ familyName: 'updatedFamilyName', givenName: 'Given' });
  });

  test('Replace emails[type eq "work"].value creates the work email when there is none', async () => {
    const id = await createUser({ ...user, emails: [{ type: 'home', value: 'home@example.com' }] });
    await patch('Users', id, fixture('entra/user-update-multivalued.json'));
    expect((await getUser(id)).emails).toEqual([
      { value: 'home@example.com', type: 'home' },
      { value: 'updatedEmail@microsoft.com', type: 'work' },
    ]);
  });

  test('Replace userName', async () => {
    const id = await createUser();
    await patch('Users', id, fixture('entra/user-update-single-valued.json'));
    expect((await getUser(id)).userName).toBe('5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com');
  });

  test.each(['entra/user-disable.json', 'entra/user-disable-string.json'])('%s sets active to false', async (name) => {
    const id = await createUser();
    expect((await patch('Users', id, fixture(name))).status).toBe(204);
    expect((await getUser(id)).active).toBe(false);
  });

  test('Replace without a path, keyed by paths (pre-aadOptscim062020)', async () => {
    const id = await createUser();
    expect((await patch('Users', id, fixture('entra/user-replace-no-path.json'))).status).toBe(204);
    expect(await getUser(id)).toEqual({
      schemas: [CORE_USER, ENTERPRISE, BRIDGE],
      id,
      externalId: 'Eqpj',
      userName: 'Test_User_ab6490ee@testuser.com',
      name: { familyName: 'Pkqf', givenName: 'Gtfd' },
      displayName: 'Pvlo',
      active: true,
      emails: [{ value: 'TestBcwqnm@test.microsoft.com', type: 'work', primary: true }],
      [ENTERPRISE]: { employeeNumber: 'Eqpj', department: 'Sales' },
      [BRIDGE]: { source: 'entra', dirSyncEnabled: false, syncState: 'pending' },
      meta: { resourceType: 'User', created: anyTime, lastModified: anyTime, location: location(`/Users/${id}`), version: 'W/"2"' },
    });
  });

  test('Add without a path with a "True" string', async () => {
    const id = await createUser({ ...user, active: false });
    await patch('Users', id, fixture('entra/user-add-no-path.json'));
    expect(await getUser(id)).toMatchObject({ nickName: 'Babs', active: true });
  });

  test('Add manager as a bare id, then Remove it by value list', async () => {
    const managerId = await createUser({ userName: 'boss@testuser.com' });
    const id = await createUser();
    await patch('Users', id, fixture('entra/user-add-manager.json', { managerId }));
    expect((await getUser(id))[ENTERPRISE]).toEqual({ department: 'Sales', manager: { value: managerId } });
    await patch('Users', id, fixture('entra/user-remove-manager.json', { managerId }));
    expect((await getUser(id))[ENTERPRISE]).toEqual({ department: 'Sales' });
  });

  test('empty Operations: 204 and nothing changes', async () => {
    const id = await createUser();
    const res = await patch('Users', id, fixture('entra/empty-operations.json'));
    expect(res.status).toBe(204);
    expect((await getUser(id)).meta.version).toBe('W/"1"');
  });
});

describe('Entra ID group PATCH', () => {
  async function group(members: string[] = []): Promise<string> {
    const res = await h
      .as('entra')
      .post('/scim/v2/Groups')
      .send({ schemas: [CORE_GROUP], displayName: 'Group1DisplayName', members: members.map((value) => ({ value })) });
    expect(res.status).toBe(201);
    return res.body.id;
  }

  test('Replace displayName', async () => {
    const id = await group();
    await patch('Groups', id, fixture('entra/group-rename.json'));
    expect((await getGroup(id)).displayName).toBe('1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName');
  });

  test('Add members, then Remove them by value list, then by filter', async () => {
    const memberId = await createUser();
    const id = await group();
    expect((await patch('Groups', id, fixture('entra/group-add-members.json', { memberId }))).status).toBe(204);
    expect((await getGroup(id)).members).toEqual([{ value: memberId, type: 'User', $ref: location(`/Users/${memberId}`) }]);
    expect(h.store.groups.pendingMemberChanges(id, 10)).toEqual({ adds: [memberId], removes: [] });
    await patch('Groups', id, fixture('entra/group-remove-members-by-value.json', { memberId }));
    expect(await getGroup(id)).not.toHaveProperty('members');
    await patch('Groups', id, fixture('entra/group-add-members.json', { memberId }));
    h.store.groups.markMembersApplied(id, [memberId], []);
    await patch('Groups', id, fixture('entra/group-remove-member-filter.json', { memberId }));
    expect(await getGroup(id)).not.toHaveProperty('members');
    expect(h.store.groups.pendingMemberChanges(id, 10)).toEqual({ adds: [], removes: [memberId] });
  });

  test('removing a member that is not there is idempotent', async () => {
    const id = await group();
    const res = await patch('Groups', id, fixture('entra/group-remove-member-filter.json', { memberId: 'not-a-member' }));
    expect(res.status).toBe(204);
    expect((await getGroup(id)).meta.version).toBe('W/"1"');
  });
});

describe('Okta PATCH', () => {
  test('deactivate by a no-path replace', async () => {
    const id = await createUser(user, 'okta');
    const res = await patch('Users', id, fixture('okta/user-deactivate.json'), 'okta');
    expect(res.status).toBe(204);
    expect((await getUser(id, 'okta')).active).toBe(false);
  });

  test("Okta's client gets the updated user back (200) rather than 204", async () => {
    const id = await createUser(user, 'okta');
    const res = await h
      .as('okta')
      .patch(`/scim/v2/Users/${id}`)
      .set('User-Agent', 'Okta SCIM Client 1.0.0')
      .send(fixture('okta/user-deactivate.json') as object);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id, active: false, meta: { version: 'W/"2"' } });
  });

  test('password push is kept for sync/ and never stored in the resource', async () => {
    const id = await createUser(user, 'okta');
    await patch('Users', id, fixture('okta/user-password.json'), 'okta');
    expect(h.store.sync.revealPendingPassword('User', id)).toBe('Okta-pushed-Pa55!');
    expect(JSON.stringify(h.store.users.getForSync(id))).not.toContain('Okta-pushed');
  });

  test('group rename with id in the value, member add with display, member remove by filter', async () => {
    const memberId = await createUser(user, 'okta');
    const created = await h
      .as('okta')
      .post('/scim/v2/Groups')
      .send({ schemas: [CORE_GROUP], displayName: 'Okta Group' });
    const groupId = created.body.id;
    await patch('Groups', groupId, fixture('okta/group-rename.json', { groupId }), 'okta');
    await patch('Groups', groupId, fixture('okta/group-add-members.json', { memberId }), 'okta');
    expect(await getGroup(groupId, 'okta')).toEqual({
      schemas: [CORE_GROUP, 'urn:ietf:params:scim:schemas:extension:graphbridge:2.0:Group'],
      id: groupId,
      displayName: 'Test SCIMv2',
      members: [{ value: memberId, display: 'test.user@okta.local', type: 'User', $ref: location(`/Users/${memberId}`) }],
      'urn:ietf:params:scim:schemas:extension:graphbridge:2.0:Group': { source: 'okta', syncState: 'pending' },
      meta: { resourceType: 'Group', created: anyTime, lastModified: anyTime, location: location(`/Groups/${groupId}`), version: 'W/"3"' },
    });
    await patch('Groups', groupId, fixture('okta/group-remove-member.json', { memberId }), 'okta');
    expect(await getGroup(groupId, 'okta')).not.toHaveProperty('members');
  });
});

describe('OneLogin PATCH', () => {
  test('member add and remove by value list; deactivate', async () => {
    const memberId = await createUser(user, 'okta');
    const created = await h.as('okta').post('/scim/v2/Groups').send({ displayName: 'OneLogin Role' });
    const groupId = created.body.id;
    await patch('Groups', groupId, fixture('onelogin/group-add-members.json', { memberId }), 'okta');
    expect((await getGroup(groupId, 'okta')).members.map((m: { value: string }) => m.value)).toEqual([memberId]);
    await patch('Groups', groupId, fixture('onelogin/group-remove-members.json', { memberId }), 'okta');
    expect(await getGroup(groupId, 'okta')).not.toHaveProperty('members');
    await patch('Users', memberId, fixture('onelogin/user-deactivate.json'), 'okta');
    expect((await getUser(memberId, 'okta')).active).toBe(false);
  });
});

describe('Entra ID lookups, group create and unqualified extension paths', () => {
  test('GET /Users?filter=emails[type eq "work"].value eq "…" finds the user by work email only', async () => {
    const id = await createUser();
    await createUser({ ...user, userName: 'other@testuser.com', externalId: 'x', emails: [{ type: 'home', value: 'Test_User_fd0ea19b@testuser.com' }] });
    const { filter } = fixture('entra/user-lookup-work-email.json', { email: 'Test_User_fd0ea19b@testuser.com' }) as { filter: string };
    const res = await h.as('entra').get(`/scim/v2/Users?filter=${encodeURIComponent(filter)}`);
    expect(res.status).toBe(200);
    expect(res.body.totalResults).toBe(1);
    expect(res.body.Resources.map((r: { id: string }) => r.id)).toEqual([id]);
    const none = fixture('entra/user-lookup-work-email.json', { email: 'nobody@testuser.com' }) as { filter: string };
    expect((await h.as('entra').get(`/scim/v2/Users?filter=${encodeURIComponent(none.filter)}`)).body.totalResults).toBe(0);
  });

  test('POST /Groups listing the classic ADSCIM Group schema beside the core one: 201, the marker ignored', async () => {
    const res = await h
      .as('entra')
      .post('/scim/v2/Groups')
      .set('Content-Type', 'application/scim+json')
      .send(JSON.stringify(fixture('entra/group-create-classic-schema.json')));
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      schemas: [CORE_GROUP, 'urn:ietf:params:scim:schemas:extension:graphbridge:2.0:Group'],
      id: expect.any(String),
      externalId: '8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159',
      displayName: 'displayName',
      'urn:ietf:params:scim:schemas:extension:graphbridge:2.0:Group': { source: 'entra', syncState: 'pending' },
      meta: { resourceType: 'Group', created: anyTime, lastModified: anyTime, location: location(`/Groups/${res.body.id}`), version: 'W/"1"' },
    });
  });

  test('PATCH "path": "manager" with a one-element list sets the enterprise manager', async () => {
    const managerId = await createUser({ ...user, userName: 'boss@testuser.com', externalId: 'boss' });
    const id = await createUser();
    expect((await patch('Users', id, fixture('entra/user-add-manager-unqualified.json', { managerId }))).status).toBe(204);
    expect((await getUser(id))[ENTERPRISE]).toEqual({ department: 'Sales', manager: { value: managerId, $ref: `http://.../scim/Users/${managerId}` } });
  });

  test('PATCH paths naming other enterprise attributes without the URN', async () => {
    const id = await createUser();
    expect((await patch('Users', id, fixture('entra/user-replace-unqualified-extension.json'))).status).toBe(204);
    expect((await getUser(id))[ENTERPRISE]).toEqual({ employeeNumber: '701984', department: 'Tour Operations' });
  });
});
