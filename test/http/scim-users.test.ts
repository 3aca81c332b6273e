// /Users: create, read, replace, delete, ETags, the bridge extension's read-only attributes,
// and what a write records for sync/ (password, tokensValidFrom, dirSyncEnabled).
import { BRIDGE, CORE_USER, ENTERPRISE, anyId, anyTime, location, scimError, snapshot, startHarness, type Harness } from './scim-harness';

let h: Harness;
afterEach(() => h.close());

const barbara = {
  schemas: [CORE_USER, ENTERPRISE],
  externalId: 'bjensen-ext',
  userName: 'bjensen@example.com',
  name: { givenName: 'Barbara', familyName: 'Jensen' },
  displayName: 'Babs Jensen',
  title: 'Tour Guide',
  active: true,
  emails: [{ value: 'bjensen@example.com', type: 'work', primary: true }],
  [ENTERPRISE]: { employeeNumber: '701984', department: 'Tour Operations' },
};

function barbaraAsStored(id: string, version = 1) {
  return {
    schemas: [CORE_USER, ENTERPRISE, BRIDGE],
    id,
    externalId: 'bjensen-ext',
    userName: 'bjensen@example.com',
    name: { familyName: 'Jensen', givenName: 'Barbara' },
    displayName: 'Babs Jensen',
    title: 'Tour Guide',
    active: true,
    emails: [{ value: 'bjensen@example.com', type: 'work', primary: true }],
    [ENTERPRISE]: { employeeNumber: '701984', department: 'Tour Operations' },
    [BRIDGE]: { source: 'okta', dirSyncEnabled: false, syncState: 'pending' },
    meta: { resourceType: 'User', created: anyTime, lastModified: anyTime, location: location(`/Users/${id}`), version: `W/"${version}"` },
  };
}

describe('POST /Users', () => {
  beforeEach(() => (h = startHarness()));

  test('201 with Location, ETag and the whole stored resource', async () => {
    const res = await h.as('okta').post('/scim/v2/Users').set('Content-Type', 'application/scim+json').send(JSON.stringify(barbara));
    expect(res.status).toBe(201);
    expect(res.headers['content-type']).toBe('application/scim+json; charset=utf-8');
    expect(res.headers.location).toEqual(location(`/Users/${res.body.id}`));
    expect(res.headers.etag).toBe('W/"1"');
    expect(res.body).toEqual(barbaraAsStored(res.body.id));
    expect(res.body.id).toEqual(anyId);
  });

  test('takes attribute names in any case, "True" strings, a bare manager id and nulls as unassigned', async () => {
    const boss = (await h.as('okta').post('/scim/v2/Users').send({ userName: 'boss@example.com' })).body.id;
    const res = await h
      .as('okta')
      .post('/scim/v2/Users')
      .send({
        SCHEMAS: [CORE_USER, ENTERPRISE.toLowerCase()],
        UserName: 'kim@example.com',
        Active: 'True',
        NAME: { GivenName: 'Kim', familyName: null },
        Emails: [{ Primary: 'true', Type: 'work', Value: 'kim@example.com' }, null],
        [ENTERPRISE.toUpperCase()]: { Department: 'Ops', Manager: boss },
        addresses: [],
      });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      schemas: [CORE_USER, ENTERPRISE, BRIDGE],
      id: anyId,
      userName: 'kim@example.com',
      name: { givenName: 'Kim' },
      active: true,
      emails: [{ value: 'kim@example.com', type: 'work', primary: true }],
      [ENTERPRISE]: { department: 'Ops', manager: { value: boss } },
      [BRIDGE]: { source: 'okta', dirSyncEnabled: false, syncState: 'pending' },
      meta: expect.objectContaining({ resourceType: 'User', version: 'W/"1"' }),
    });
  });

  test('ignores read-only attributes (id, meta, groups, the bridge sync state), and unknown ones sent as application/json', async () => {
    const res = await h
      .as('okta')
      .post('/scim/v2/Users')
      .send({
        ...barbara,
        schemas: [CORE_USER, ENTERPRISE, BRIDGE],
        id: 'chosen-by-client',
        meta: { created: '2001-01-01T00:00:00Z' },
        groups: [{ value: 'g1' }],
        favouriteColour: 'green',
        [BRIDGE]: { syncState: 'synced', graphId: 'forged', source: 'entra', usageLocation: 'NO' },
      });
    expect(res.status).toBe(201);
    expect(res.body.id).not.toBe('chosen-by-client');
    expect(res.body.meta.created).not.toBe('2001-01-01T00:00:00Z');
    expect(res.body).not.toHaveProperty('groups');
    expect(res.body).not.toHaveProperty('favouriteColour');
    expect(res.body[BRIDGE]).toEqual({ usageLocation: 'NO', source: 'okta', dirSyncEnabled: false, syncState: 'pending' });
  });

  test('never returns the password; keeps it for sync/ without a token revocation (creation is not a change)', async () => {
    const res = await h
      .as('okta')
      .post('/scim/v2/Users')
      .send({ ...barbara, password: 'Tr0ub4dor&3' });
    expect(res.status).toBe(201);
    expect(JSON.stringify(res.body)).not.toContain('Tr0ub4dor');
    expect(h.store.sync.get('User', res.body.id)).toMatchObject({ hasPendingPassword: true, tokensValidFrom: null, desiredVersion: 1 });
    expect(h.store.sync.revealPendingPassword('User', res.body.id)).toBe('Tr0ub4dor&3');
  });

  test('records per-attribute attribution, an audit row and the dirty mark', async () => {
    const res = await h.as('okta').post('/scim/v2/Users').send(barbara);
    expect(h.store.attribution.list('User', res.body.id).map((a) => `${a.attribute}=${a.sourceId}`)).toEqual([
      'active=okta',
      'displayName=okta',
      'emails=okta',
      'externalId=okta',
      'name.familyName=okta',
      'name.givenName=okta',
      'title=okta',
      `${ENTERPRISE}:department=okta`,
      `${ENTERPRISE}:employeeNumber=okta`,
      'userName=okta',
    ]);
    expect(h.store.audit.list({ resourceId: res.body.id }).map((a) => [a.action, a.sourceId])).toEqual([['user.create', 'okta']]);
    expect(h.store.sync.listDue(Date.now(), 10).map((r) => [r.type, r.id, r.desiredVersion])).toEqual([['User', res.body.id, 1]]);
  });

  test('a taken userName (any case) is 409 uniqueness and changes nothing', async () => {
    await h.as('okta').post('/scim/v2/Users').send(barbara);
    const before = snapshot(h.file);
    const res = await h
      .as('okta')
      .post('/scim/v2/Users')
      .send({ ...barbara, userName: 'BJensen@Example.com' });
    expect(res.status).toBe(409);
    expect(res.body).toEqual(scimError(409, 'userName "BJensen@Example.com" is already taken', 'uniqueness'));
    expect(snapshot(h.file)).toEqual(before);
  });

  test('creates sent together (one commit for those of one turn) answer as each would alone', async () => {
    const names = ['a@example.com', 'b@example.com', 'A@Example.com', 'c@example.com'];
    const res = await Promise.all(names.map((userName) => h.as('okta').post('/scim/v2/Users').send({ userName })));
    const byName = Object.fromEntries(names.map((n, i) => [n, res[i]]));
    expect([byName['b@example.com'].status, byName['c@example.com'].status]).toEqual([201, 201]);
    // The same userName in two cases: whichever came first is created, the other is refused.
    expect([byName['a@example.com'].status, byName['A@Example.com'].status].sort()).toEqual([201, 409]);
    const [refused] = names.filter((n) => byName[n].status === 409);
    expect(byName[refused].body).toEqual(scimError(409, `userName "${refused}" is already taken`, 'uniqueness'));
    const created = res.filter((r) => r.status === 201);
    for (const r of created) {
      const back = await h.as('okta').get(`/scim/v2/Users/${r.body.id}`);
      // Each test request has a server (and a port) of its own.
      const withoutLocation = (b: { meta: Record<string, unknown> }) => ({ ...b, meta: { ...b.meta, location: undefined } });
      expect(withoutLocation(back.body)).toEqual(withoutLocation(r.body));
      expect(h.store.audit.list({ resourceId: r.body.id }).map((a) => a.action)).toEqual(['user.create']);
    }
    expect(h.store.sync.listDue(Date.now(), 10)).toHaveLength(3);
  });

  test('PATCHes of one user sent together apply one after the other, none refused as stale', async () => {
    const { body } = await h.as('okta').post('/scim/v2/Users').send(barbara);
    const titles = ['One', 'Two', 'Three', 'Four', 'Five'];
    const res = await Promise.all(
      titles.map((title) =>
        h
          .as('okta')
          .patch(`/scim/v2/Users/${body.id}`)
          .send({ Operations: [{ op: 'replace', path: 'title', value: title }] }),
      ),
    );
    expect(res.map((r) => r.status)).toEqual([204, 204, 204, 204, 204]);
    expect(res.map((r) => r.headers.etag).sort()).toEqual(['W/"2"', 'W/"3"', 'W/"4"', 'W/"5"', 'W/"6"']);
    const back = await h.as('okta').get(`/scim/v2/Users/${body.id}`);
    expect(back.headers.etag).toBe('W/"6"');
    // The last to be applied is the one answered with version 6.
    expect(back.body.title).toBe(titles[res.findIndex((r) => r.headers.etag === 'W/"6"')]);
    expect(h.store.audit.list({ resourceId: body.id }).map((a) => a.action)).toEqual(['user.create', ...titles.map(() => 'user.patch')]);
  });

  test('PATCHes sent together with the same If-Match: the first applies, the others are refused as stale', async () => {
    const { body } = await h.as('okta').post('/scim/v2/Users').send(barbara);
    const res = await Promise.all(
      ['One', 'Two', 'Three'].map((title) =>
        h
          .as('okta')
          .patch(`/scim/v2/Users/${body.id}`)
          .set('If-Match', 'W/"1"')
          .send({ Operations: [{ op: 'replace', path: 'title', value: title }] }),
      ),
    );
    expect(res.map((r) => r.status).sort()).toEqual([204, 412, 412]);
    const refused = res.find((r) => r.status === 412)!;
    expect(refused.body).toEqual({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      status: '412',
      detail: 'the resource is at version W/"2", not W/"1"',
    });
    const back = await h.as('okta').get(`/scim/v2/Users/${body.id}`);
    expect(back.headers.etag).toBe('W/"2"');
    expect(back.body.title).toBe(['One', 'Two', 'Three'][res.findIndex((r) => r.status === 204)]);
    expect(h.store.audit.list({ resourceId: body.id }).map((a) => a.action)).toEqual(['user.create', 'user.patch']);
  });
});

describe('GET /Users/:id', () => {
  beforeEach(() => (h = startHarness()));

  test('200 with ETag; If-None-Match with the current version is 304', async () => {
    const { body } = await h.as('okta').post('/scim/v2/Users').send(barbara);
    const res = await h.as('okta').get(`/scim/v2/Users/${body.id}`);
    expect(res.status).toBe(200);
    expect(res.headers.etag).toBe('W/"1"');
    expect(res.body).toEqual(barbaraAsStored(body.id));
    const cached = await h.as('okta').get(`/scim/v2/Users/${body.id}`).set('If-None-Match', 'W/"1"');
    expect(cached.status).toBe(304);
    expect(cached.text).toBe('');
  });

  test('404 with a SCIM error for an unknown id', async () => {
    const res = await h.as('okta').get('/scim/v2/Users/no-such-id');
    expect(res.status).toBe(404);
    expect(res.body).toEqual(scimError(404, 'User no-such-id not found'));
  });

  test('reports syncState, graphId, lastSyncError and tokensValidFrom from store.sync as they change', async () => {
    const { body } = await h.as('okta').post('/scim/v2/Users').send(barbara);
    const ext = async () => (await h.as('okta').get(`/scim/v2/Users/${body.id}`)).body[BRIDGE];
    h.store.sync.setGraphId('User', body.id, 'graph-object-1');
    h.store.sync.markApplied('User', body.id, 1, { appliedSnapshot: {} });
    expect(await ext()).toEqual({ source: 'okta', dirSyncEnabled: false, graphId: 'graph-object-1', syncState: 'synced' });
    await h
      .as('okta')
      .patch(`/scim/v2/Users/${body.id}`)
      .send({ Operations: [{ op: 'replace', path: 'title', value: 'Guide' }] });
    h.store.sync.markFailed('User', body.id, 2, 'Property netId is invalid.');
    expect(await ext()).toEqual({
      source: 'okta',
      dirSyncEnabled: false,
      graphId: 'graph-object-1',
      syncState: 'error',
      lastSyncError: 'Property netId is invalid.',
    });
    h.store.sync.markBlocked('Entra Connect already synchronises this tenant');
    expect(await ext()).toMatchObject({ syncState: 'blocked', lastSyncError: 'Entra Connect already synchronises this tenant' });
  });
});

describe('PUT /Users/:id', () => {
  beforeEach(() => (h = startHarness()));

  test('replaces every attribute and bumps the version', async () => {
    const { body } = await h.as('okta').post('/scim/v2/Users').send(barbara);
    const res = await h.as('okta').put(`/scim/v2/Users/${body.id}`).send({ userName: 'bjensen@example.com', displayName: 'Barbara J.' });
    expect(res.status).toBe(200);
    expect(res.headers.etag).toBe('W/"2"');
    expect(res.body).toEqual({
      schemas: [CORE_USER, BRIDGE],
      id: body.id,
      userName: 'bjensen@example.com',
      displayName: 'Barbara J.',
      [BRIDGE]: { source: 'okta', dirSyncEnabled: false, syncState: 'pending' },
      meta: { resourceType: 'User', created: body.meta.created, lastModified: anyTime, location: location(`/Users/${body.id}`), version: 'W/"2"' },
    });
    expect(h.store.sync.get('User', body.id)?.desiredVersion).toBe(2);
  });

  test('the same body again changes nothing: same version, nothing marked dirty', async () => {
    const { body } = await h.as('okta').post('/scim/v2/Users').send(barbara);
    const before = snapshot(h.file);
    const res = await h.as('okta').put(`/scim/v2/Users/${body.id}`).send(barbara);
    expect(res.status).toBe(200);
    expect(res.headers.etag).toBe('W/"1"');
    expect(snapshot(h.file)).toEqual(before);
  });

  test('If-Match with a stale version is 412 and changes nothing; the current one succeeds', async () => {
    const { body } = await h.as('okta').post('/scim/v2/Users').send(barbara);
    await h
      .as('okta')
      .put(`/scim/v2/Users/${body.id}`)
      .send({ ...barbara, title: 'Lead' });
    const before = snapshot(h.file);
    const stale = await h
      .as('okta')
      .put(`/scim/v2/Users/${body.id}`)
      .set('If-Match', 'W/"1"')
      .send({ ...barbara, title: 'Chief' });
    expect(stale.status).toBe(412);
    expect(stale.body).toEqual(scimError(412, 'the resource is at version W/"2", not W/"1"'));
    expect(snapshot(h.file)).toEqual(before);
    const fresh = await h
      .as('okta')
      .put(`/scim/v2/Users/${body.id}`)
      .set('If-Match', 'W/"2"')
      .send({ ...barbara, title: 'Chief' });
    expect(fresh.status).toBe(200);
    expect(fresh.body.title).toBe('Chief');
  });
});

describe('DELETE /Users/:id', () => {
  beforeEach(() => (h = startHarness()));

  test('204; the user is gone from SCIM but kept for sync/ to deprovision', async () => {
    const { body } = await h.as('okta').post('/scim/v2/Users').send(barbara);
    const res = await h.as('okta').delete(`/scim/v2/Users/${body.id}`);
    expect(res.status).toBe(204);
    expect((await h.as('okta').get(`/scim/v2/Users/${body.id}`)).status).toBe(404);
    expect(h.store.users.getForSync(body.id)).toMatchObject({ deleted: true, resource: { userName: 'bjensen@example.com' } });
    expect(h.store.sync.get('User', body.id)).toMatchObject({ deleted: true, desiredVersion: 2, state: 'pending' });
  });

  test('If-Match with a stale version is 412', async () => {
    const { body } = await h.as('okta').post('/scim/v2/Users').send(barbara);
    const res = await h.as('okta').delete(`/scim/v2/Users/${body.id}`).set('If-Match', 'W/"7"');
    expect(res.status).toBe(412);
    expect((await h.as('okta').get(`/scim/v2/Users/${body.id}`)).status).toBe(200);
  });
});

describe('password changes and token validity (SPEC sections 4 and 5)', () => {
  const filetime = (iso: string) => String(BigInt(Date.parse(iso)) * 10_000n + 116_444_736_000_000_000n);

  test('profile-sync: a new password gives tokensValidFrom = the time it was accepted', async () => {
    h = startHarness({ mode: 'profile-sync' });
    const { body } = await h.as('okta').post('/scim/v2/Users').send(barbara);
    const before = Date.now();
    await h
      .as('okta')
      .patch(`/scim/v2/Users/${body.id}`)
      .send({ Operations: [{ op: 'replace', value: { password: 'N3w-secret!' } }] });
    const row = h.store.sync.get('User', body.id)!;
    expect(h.store.sync.revealPendingPassword('User', row.id)).toBe('N3w-secret!');
    expect(Date.parse(row.tokensValidFrom!)).toBeGreaterThanOrEqual(before - 1);
    expect(Date.parse(row.tokensValidFrom!)).toBeLessThanOrEqual(Date.now());
    expect((await h.as('okta').get(`/scim/v2/Users/${body.id}`)).body[BRIDGE]).toEqual({
      source: 'okta',
      dirSyncEnabled: false,
      tokensValidFrom: row.tokensValidFrom,
      syncState: 'pending',
    });
  });

  test('user-sync: an AD-linked user takes pwdLastSet; a replayed older value revokes nothing', async () => {
    h = startHarness({ mode: 'user-sync' });
    const adUser = {
      ...barbara,
      schemas: [CORE_USER, ENTERPRISE, BRIDGE],
      [BRIDGE]: { sourceDirectory: 'corp.example.com', pwdLastSet: filetime('2026-01-01T08:00:00Z') },
    };
    const { body } = await h.as('okta').post('/scim/v2/Users').send(adUser);
    expect(body[BRIDGE]).toEqual({
      sourceDirectory: 'corp.example.com',
      pwdLastSet: filetime('2026-01-01T08:00:00Z'),
      source: 'okta',
      dirSyncEnabled: true,
      syncState: 'pending',
    });
    const advance = { Operations: [{ op: 'replace', path: `${BRIDGE}:pwdLastSet`, value: filetime('2026-03-05T10:30:00Z') }] };
    expect((await h.as('okta').patch(`/scim/v2/Users/${body.id}`).send(advance)).status).toBe(204);
    expect(h.store.sync.get('User', body.id)).toMatchObject({ tokensValidFrom: '2026-03-05T10:30:00.000Z', hasPendingPassword: false, dirSyncEnabled: true });
    const older = { Operations: [{ op: 'replace', path: `${BRIDGE}:pwdLastSet`, value: '2026-02-01T00:00:00Z' }] };
    await h.as('okta').patch(`/scim/v2/Users/${body.id}`).send(older);
    expect(h.store.sync.get('User', body.id)?.tokensValidFrom).toBe('2026-03-05T10:30:00.000Z');
  });

  test('user-sync: a user that is not AD-linked takes the time of acceptance', async () => {
    h = startHarness({ mode: 'user-sync' });
    const withBridge = { ...barbara, schemas: [CORE_USER, ENTERPRISE, BRIDGE], [BRIDGE]: { pwdLastSet: filetime('2020-01-01T00:00:00Z') } };
    const { body } = await h.as('entra').post('/scim/v2/Users').send(withBridge);
    const before = Date.now();
    await h
      .as('entra')
      .put(`/scim/v2/Users/${body.id}`)
      .send({ ...withBridge, password: 'An0ther!' });
    expect(Date.parse(h.store.sync.get('User', body.id)!.tokensValidFrom!)).toBeGreaterThanOrEqual(before - 1);
  });
});

describe('the answer to a write is what a GET reads right after', () => {
  beforeEach(() => (h = startHarness()));

  test('while sync is blocked, and for a user already in Graph: the bridge extension carries the sync state the write left', async () => {
    h.store.sync.markBlocked('preflight: the app lacks User.ReadWrite.All');
    const created = await h.as('okta').post('/scim/v2/Users').send({ userName: 'lee@example.com' });
    expect(created.status).toBe(201);
    expect(created.body[BRIDGE]).toEqual({
      source: 'okta',
      dirSyncEnabled: false,
      syncState: 'blocked',
      lastSyncError: 'preflight: the app lacks User.ReadWrite.All',
    });
    // Each supertest request has a port of its own: meta.location is compared by its path.
    const asRead = (body: Record<string, unknown>) => ({ ...body, meta: { ...(body.meta as object), location: location(`/Users/${created.body.id}`) } });
    expect((await h.as('okta').get(`/scim/v2/Users/${created.body.id}`)).body).toEqual(asRead(created.body));

    h.store.sync.unblockAll();
    h.store.sync.setGraphId('User', created.body.id, 'a1b2c3d4-0000-4000-8000-000000000001');
    h.store.sync.markApplied('User', created.body.id, 1, { appliedSnapshot: {} });
    const replaced = await h.as('okta').put(`/scim/v2/Users/${created.body.id}`).send({ userName: 'lee@example.com', title: 'Engineer' });
    expect(replaced.status).toBe(200);
    expect(replaced.body[BRIDGE]).toEqual({
      source: 'okta',
      dirSyncEnabled: false,
      graphId: 'a1b2c3d4-0000-4000-8000-000000000001',
      syncState: 'pending',
    });
    expect((await h.as('okta').get(`/scim/v2/Users/${created.body.id}`)).body).toEqual(asRead(replaced.body));
  });
});
