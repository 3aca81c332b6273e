// /Groups: members kept in SQL (large groups change one row per member), member display as the
// client sent it, unknown members dropped, PUT replacing members, and generic PATCH semantics.
import { BRIDGE_GROUP, CORE_GROUP, PATCH_OP, anyId, anyTime, location, scimError, snapshot, startHarness, type Harness } from './scim-harness';

let h: Harness;
beforeEach(() => (h = startHarness()));
afterEach(() => h.close());

async function user(userName: string, displayName?: string): Promise<string> {
  const res = await h.as('okta').post('/scim/v2/Users').send({ userName, displayName });
  expect(res.status).toBe(201);
  return res.body.id;
}

test("POST /Groups: 201 with members; display as sent, else the member's displayName; unknown ids dropped", async () => {
  const ann = await user('ann@example.com', 'Ann');
  const ben = await user('ben@example.com');
  const res = await h
    .as('okta')
    .post('/scim/v2/Groups')
    .send({
      schemas: [CORE_GROUP],
      displayName: 'Sales',
      externalId: 'sales-1',
      members: [{ value: ann }, { value: ben, display: 'Benjamin' }, { value: 'string id 1' }],
    });
  expect(res.status).toBe(201);
  expect(res.headers.location).toEqual(location(`/Groups/${res.body.id}`));
  expect(res.headers.etag).toBe('W/"1"');
  const members = [
    { value: ann, display: 'Ann', type: 'User', $ref: location(`/Users/${ann}`) },
    { value: ben, display: 'Benjamin', type: 'User', $ref: location(`/Users/${ben}`) },
  ].sort((a, b) => a.value.localeCompare(b.value));
  expect(res.body).toEqual({
    schemas: [CORE_GROUP, BRIDGE_GROUP],
    id: anyId,
    externalId: 'sales-1',
    displayName: 'Sales',
    members,
    [BRIDGE_GROUP]: { source: 'okta', syncState: 'pending' },
    meta: { resourceType: 'Group', created: anyTime, lastModified: anyTime, location: location(`/Groups/${res.body.id}`), version: 'W/"1"' },
  });
  expect(h.store.sync.get('Group', res.body.id)).toMatchObject({ desiredVersion: 1, state: 'pending' });
  expect(h.store.groups.pendingMemberChanges(res.body.id, 10).adds.sort()).toEqual([ann, ben].sort());
});

test('a displayName taken by any source is 409 uniqueness and changes nothing', async () => {
  await h.as('okta').post('/scim/v2/Groups').send({ displayName: 'Sales' });
  const before = snapshot(h.file);
  const res = await h.as('entra').post('/scim/v2/Groups').send({ displayName: 'SALES' });
  expect(res.body).toEqual(scimError(409, 'displayName "SALES" is already taken', 'uniqueness'));
  expect(snapshot(h.file)).toEqual(before);
});

test('excludedAttributes=members does not return (or read) members', async () => {
  const ann = await user('ann@example.com');
  const { body } = await h
    .as('okta')
    .post('/scim/v2/Groups')
    .send({ displayName: 'Sales', members: [ann] });
  const res = await h.as('okta').get(`/scim/v2/Groups/${body.id}?excludedAttributes=members`);
  expect(res.body).toEqual({
    schemas: [CORE_GROUP, BRIDGE_GROUP],
    id: body.id,
    displayName: 'Sales',
    [BRIDGE_GROUP]: { source: 'okta', syncState: 'pending' },
    meta: { ...body.meta, location: location(`/Groups/${body.id}`) },
  });
});

test('PUT replaces the members; a PUT without members empties the group', async () => {
  const [ann, ben, cid] = [await user('ann@example.com'), await user('ben@example.com'), await user('cid@example.com')];
  const { body } = await h
    .as('okta')
    .post('/scim/v2/Groups')
    .send({ displayName: 'Sales', members: [ann, ben] });
  h.store.groups.markMembersApplied(body.id, [ann, ben], []);
  const put = await h
    .as('okta')
    .put(`/scim/v2/Groups/${body.id}`)
    .send({ displayName: 'Sales', members: [{ value: ben }, { value: cid }] });
  expect(put.status).toBe(200);
  expect(put.body.members.map((m: { value: string }) => m.value).sort()).toEqual([ben, cid].sort());
  expect(h.store.groups.pendingMemberChanges(body.id, 10)).toEqual({ adds: [cid], removes: [ann] });
  const empty = await h.as('okta').put(`/scim/v2/Groups/${body.id}`).send({ displayName: 'Sales' });
  expect(empty.body).not.toHaveProperty('members');
  expect(h.store.groups.pendingMemberChanges(body.id, 10)).toEqual({ adds: [], removes: [ann, ben].sort() });
});

test('PATCH remove path "members" removes them all; nested groups are typed Group', async () => {
  const ann = await user('ann@example.com');
  const inner = await h.as('okta').post('/scim/v2/Groups').send({ displayName: 'Inner' });
  const { body } = await h
    .as('okta')
    .post('/scim/v2/Groups')
    .send({ displayName: 'Outer', members: [ann, inner.body.id] });
  expect(body.members.map((m: { type: string }) => m.type).sort()).toEqual(['Group', 'User']);
  const res = await h
    .as('okta')
    .patch(`/scim/v2/Groups/${body.id}`)
    .send({ schemas: [PATCH_OP], Operations: [{ op: 'remove', path: 'members' }] });
  expect(res.status).toBe(204);
  expect((await h.as('okta').get(`/scim/v2/Groups/${body.id}`)).body).not.toHaveProperty('members');
});

test('PATCH ops apply in order: add then remove the same member leaves it out', async () => {
  const ann = await user('ann@example.com');
  const { body } = await h.as('okta').post('/scim/v2/Groups').send({ displayName: 'Sales' });
  await h
    .as('okta')
    .patch(`/scim/v2/Groups/${body.id}`)
    .send({
      Operations: [
        { op: 'add', path: 'members', value: [{ value: ann }] },
        { op: 'remove', path: `members[value eq "${ann}"]` },
        { op: 'replace', path: 'externalId', value: 'x-1' },
      ],
    });
  const got = (await h.as('okta').get(`/scim/v2/Groups/${body.id}`)).body;
  expect(got).toMatchObject({ externalId: 'x-1', meta: { version: 'W/"2"' } });
  expect(got).not.toHaveProperty('members');
});

test('adding one member to a 5,000-member group is one small SQL change and an empty 204', async () => {
  const memberIds = h.store.transaction(() =>
    Array.from({ length: 5000 }, (_, i) => h.store.users.create({ userName: `m${i}@example.com` }, { sourceId: 'okta' }).id),
  );
  const group = h.store.groups.create({ displayName: 'Everyone' }, { sourceId: 'okta', members: memberIds.map((value) => ({ value, type: 'User' as const })) });
  h.store.groups.markMembersApplied(group.id, memberIds, []);
  const newcomer = await user('new@example.com');
  const started = process.hrtime.bigint();
  const add = await h
    .as('okta')
    .patch(`/scim/v2/Groups/${group.id}`)
    .send({ schemas: [PATCH_OP], Operations: [{ op: 'Add', path: 'members', value: [{ value: newcomer }] }] });
  const remove = await h
    .as('okta')
    .patch(`/scim/v2/Groups/${group.id}`)
    .send({ schemas: [PATCH_OP], Operations: [{ op: 'Remove', path: `members[value eq "${memberIds[42]}"]` }] });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  expect([add.status, remove.status]).toEqual([204, 204]);
  expect(add.text + remove.text).toBe('');
  expect(ms).toBeLessThan(250);
  expect(h.store.groups.pendingMemberChanges(group.id, 10)).toEqual({ adds: [newcomer], removes: [memberIds[42]] });
});

test('DELETE /Groups/:id is 204 and the group is kept for sync/ until deprovisioned', async () => {
  const { body } = await h.as('okta').post('/scim/v2/Groups').send({ displayName: 'Sales' });
  expect((await h.as('okta').delete(`/scim/v2/Groups/${body.id}`)).status).toBe(204);
  expect((await h.as('okta').get(`/scim/v2/Groups/${body.id}`)).body).toEqual(scimError(404, `Group ${body.id} not found`));
  expect(h.store.groups.getForSync(body.id)).toMatchObject({ deleted: true, resource: { displayName: 'Sales' } });
});

test('deleting a user removes it from its groups', async () => {
  const ann = await user('ann@example.com');
  const { body } = await h
    .as('okta')
    .post('/scim/v2/Groups')
    .send({ displayName: 'Sales', members: [ann] });
  await h.as('okta').delete(`/scim/v2/Users/${ann}`);
  const got = (await h.as('okta').get(`/scim/v2/Groups/${body.id}`)).body;
  expect(got).not.toHaveProperty('members');
  expect(got.meta.version).toBe('W/"2"');
});
