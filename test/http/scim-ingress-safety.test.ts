// What a source can send (docs/security.md): identity keys and every stored string are checked at
// ingress, uniqueness is on the key Graph compares, and references (manager, members) never reach
// another source's resources. Each refused request leaves every table as it was.
import request from 'supertest';
import { CORE_GROUP, CORE_USER, ENTERPRISE, PATCH_OP, TOKENS, scimError, snapshot, startHarness, type Harness } from './scim-harness';

let h: Harness;
afterEach(() => h.close());

const JSON_SCIM = 'application/scim+json';
const GROUP_SYNC_TOKEN = 'groupsync-token-0123456789abcdef';

/** Harness sources plus `groupsync`, which contributes members to other sources' groups. */
function startWithGroupSync(): Harness {
  return startHarness({
    overrides: {
      sources: [
        { id: 'okta', token: TOKENS.okta },
        { id: 'entra', token: TOKENS.entra },
        { id: 'groupsync', token: GROUP_SYNC_TOKEN, contributes: ['members'] },
      ],
    },
  });
}

const raw = (method: 'post' | 'put' | 'patch', url: string, text: string, token = TOKENS.entra) =>
  request(h.app)[method](url).set('Authorization', `Bearer ${token}`).set('Content-Type', JSON_SCIM).send(text);

async function createUser(userName: string, source: 'okta' | 'entra' = 'okta', extra: object = {}): Promise<string> {
  const res = await h
    .as(source)
    .post('/scim/v2/Users')
    .send({ userName, ...extra });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function createGroup(displayName: string, source: 'okta' | 'entra' = 'entra', members: object[] = []): Promise<string> {
  const res = await h.as(source).post('/scim/v2/Groups').send({ displayName, members });
  expect(res.status).toBe(201);
  return res.body.id;
}

describe('identity keys', () => {
  beforeEach(() => (h = startHarness()));

  test.each([
    ['a leading space', ' alice@contoso.com', 'userName has leading or trailing whitespace'],
    ['a trailing tab', 'alice@contoso.com\\t', 'userName contains the invisible or control character U+0009 at offset 17'],
    ['a trailing no-break space', 'alice@contoso.com\\u00a0', 'userName has leading or trailing whitespace'],
    ['a lone surrogate', '\\ud800x@contoso.com', 'userName is not well-formed Unicode: lone surrogate U+D800 at offset 0'],
    ['a lone low surrogate', 'x\\udc00@contoso.com', 'userName is not well-formed Unicode: lone surrogate U+DC00 at offset 1'],
    ['NUL', 'alice\\u0000@contoso.com', 'userName contains the control character U+0000 at offset 5'],
    ['U+0001', 'alice\\u0001@contoso.com', 'userName contains the control character U+0001 at offset 5'],
    ['a C1 control', 'alice\\u0085@contoso.com', 'userName contains the control character U+0085 at offset 5'],
    ['a bidi override', '\\u202eacilA@contoso.com', 'userName contains the invisible or control character U+202E at offset 0'],
    ['a zero-width space', 'ali\\u200bce@contoso.com', 'userName contains the invisible or control character U+200B at offset 3'],
  ])('POST /Users with %s in userName: 400 invalidValue, nothing stored', async (_what, userName, detail) => {
    const before = snapshot(h.file);
    const res = await raw('post', '/scim/v2/Users', `{"schemas":["${CORE_USER}"],"userName":"${userName}"}`);
    expect(res.status).toBe(400);
    expect(res.body).toEqual(scimError(400, detail, 'invalidValue'));
    expect(snapshot(h.file)).toEqual(before);
  });

  test('a group displayName with trailing whitespace or a lone surrogate: 400, nothing stored', async () => {
    const before = snapshot(h.file);
    for (const [name, detail] of [
      ['Sales ', 'displayName has leading or trailing whitespace'],
      ['Sales\\udfff', 'displayName is not well-formed Unicode: lone surrogate U+DFFF at offset 5'],
    ]) {
      const res = await raw('post', '/scim/v2/Groups', `{"schemas":["${CORE_GROUP}"],"displayName":"${name}"}`);
      expect(res.body).toEqual(scimError(400, detail, 'invalidValue'));
    }
    expect(snapshot(h.file)).toEqual(before);
  });

  test('userName is unique on its case-folded NFC key, across sources: the UPN Graph compares', async () => {
    await createUser('alice@contoso.com', 'okta');
    await createUser('Ren\u00e9@contoso.com', 'okta');
    await createUser('kim@contoso.com', 'okta');
    const before = snapshot(h.file);
    for (const [userName, shown] of [
      ['ALICE@contoso.com', 'ALICE@contoso.com'],
      ['Rene\\u0301@contoso.com', 'Ren\u00e9@contoso.com'], // NFD spelling of the same name
      ['REN\\u00c9@contoso.com', 'REN\u00c9@contoso.com'], // beyond ASCII case
      ['\\u212aim@contoso.com', 'Kim@contoso.com'], // KELVIN SIGN is K in NFC
    ]) {
      const res = await raw('post', '/scim/v2/Users', `{"schemas":["${CORE_USER}"],"userName":"${userName}"}`, TOKENS.entra);
      expect(res.status).toBe(409);
      expect(res.body).toEqual(scimError(409, `userName "${shown}" is already taken`, 'uniqueness'));
    }
    expect(snapshot(h.file)).toEqual(before);
  });

  test('strings are stored in NFC; a filter in another normal form finds them', async () => {
    const res = await raw('post', '/scim/v2/Users', `{"schemas":["${CORE_USER}"],"userName":"jose@contoso.com","displayName":"Jose\\u0301"}`);
    expect(res.status).toBe(201);
    expect(res.body.displayName).toBe('Jos\u00e9');
    const found = await h.as('entra').get(`/scim/v2/Users?filter=${encodeURIComponent('displayName eq "Jose\u0301"')}`);
    expect(found.body.totalResults).toBe(1);
  });

  test('a userName or displayName eq filter finds the name on its key: the lookup an IdP makes before a create', async () => {
    const id = await createUser('\u00e9lise@contoso.com', 'entra');
    const group = await createGroup('\u00c9quipe');
    for (const spelling of ['\u00c9LISE@contoso.com', 'E\u0301lise@contoso.com', '\u00e9lise@contoso.com']) {
      const res = await h.as('entra').get(`/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${spelling}"`)}`);
      expect(res.body.Resources.map((r: { id: string }) => r.id)).toEqual([id]);
    }
    const g = await h.as('entra').get(`/scim/v2/Groups?filter=${encodeURIComponent('displayName eq "\u00e9QUIPE"')}`);
    expect(g.body.Resources.map((r: { id: string }) => r.id)).toEqual([group]);
  });

  test('a group displayName is unique without regard to case beyond ASCII', async () => {
    await createGroup('\u00c9quipe');
    const res = await h.as('okta').post('/scim/v2/Groups').send({ displayName: '\u00e9QUIPE' });
    expect(res.body).toEqual(scimError(409, 'displayName "\u00e9QUIPE" is already taken', 'uniqueness'));
  });
});

describe('every stored string', () => {
  beforeEach(() => (h = startHarness()));

  test('free text keeps tab and line breaks (a formatted address) and bidi controls, and refuses NUL and lone surrogates', async () => {
    const ok = await raw(
      'post',
      '/scim/v2/Users',
      `{"schemas":["${CORE_USER}"],"userName":"amal@contoso.com","displayName":"\\u202bأمل\\u202c","addresses":[{"type":"work","formatted":"1 Main St\\nSpringfield\\tIL"}]}`,
    );
    expect(ok.status).toBe(201);
    expect(ok.body.addresses).toEqual([{ type: 'work', formatted: '1 Main St\nSpringfield\tIL' }]);
    const before = snapshot(h.file);
    for (const [body, detail] of [
      [`"title":"Boss\\u0000"`, 'title contains the control character U+0000 at offset 4'],
      [`"name":{"givenName":"\\ud83d"}`, 'name.givenName is not well-formed Unicode: lone surrogate U+D83D at offset 0'],
      [`"emails":[{"value":"x\\u0007@contoso.com","type":"work"}]`, 'emails.value contains the control character U+0007 at offset 1'],
      [`"${ENTERPRISE}":{"department":"\\u001b[31m"}`, `${ENTERPRISE}:department contains the control character U+001B at offset 0`],
    ]) {
      const schemas = body.includes(ENTERPRISE) ? `["${CORE_USER}","${ENTERPRISE}"]` : `["${CORE_USER}"]`;
      const res = await raw('post', '/scim/v2/Users', `{"schemas":${schemas},"userName":"other@contoso.com",${body}}`);
      expect(res.body).toEqual(scimError(400, detail, 'invalidValue'));
    }
    expect(snapshot(h.file)).toEqual(before);
  });

  test('a password with a lone surrogate is refused without echoing it', async () => {
    const res = await raw('post', '/scim/v2/Users', `{"schemas":["${CORE_USER}"],"userName":"pw@contoso.com","password":"Secr3t\\ud800"}`);
    expect(res.body).toEqual(scimError(400, 'password is not well-formed Unicode: lone surrogate U+D800 at offset 6', 'invalidValue'));
  });

  test('PATCH: a value path, a no-path value and a filtered element are checked like a POST', async () => {
    const id = await createUser('pat@contoso.com', 'entra');
    const before = snapshot(h.file);
    for (const [op, detail] of [
      [`{"op":"replace","path":"userName","value":" pat@contoso.com"}`, 'userName has leading or trailing whitespace'],
      [`{"op":"replace","value":{"userName":"pat\\u0000@contoso.com"}}`, 'userName contains the control character U+0000 at offset 3'],
      [
        `{"op":"add","path":"emails[type eq \\"work\\"].value","value":"\\udc00"}`,
        'emails.value is not well-formed Unicode: lone surrogate U+DC00 at offset 0',
      ],
      [`{"op":"add","path":"title","value":"\\u0001"}`, 'title contains the control character U+0001 at offset 0'],
    ]) {
      const res = await raw('patch', `/scim/v2/Users/${id}`, `{"schemas":["${PATCH_OP}"],"Operations":[${op}]}`);
      expect(res.body).toEqual(scimError(400, detail, 'invalidValue'));
    }
    expect(snapshot(h.file)).toEqual(before);
  });

  test('Bulk: the operation with a lone surrogate fails alone, the others are stored', async () => {
    const res = await raw(
      'post',
      '/scim/v2/Bulk',
      JSON.stringify({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
        Operations: [
          { method: 'POST', path: '/Users', bulkId: 'bad', data: { schemas: [CORE_USER], userName: 'PLACEHOLDER' } },
          { method: 'POST', path: '/Users', bulkId: 'good', data: { schemas: [CORE_USER], userName: 'good@contoso.com' } },
        ],
      }).replace('PLACEHOLDER', '\\ud800@contoso.com'),
    );
    expect(res.status).toBe(200);
    expect(res.body.Operations[0]).toEqual({
      method: 'POST',
      bulkId: 'bad',
      status: '400',
      response: scimError(400, 'userName is not well-formed Unicode: lone surrogate U+D800 at offset 0', 'invalidValue'),
    });
    expect(res.body.Operations[1]).toMatchObject({ bulkId: 'good', status: '201' });
    const list = await h.as('entra').get('/scim/v2/Users');
    expect(list.body.Resources.map((u: { userName: string }) => u.userName)).toEqual(['good@contoso.com']);
  });
});

describe('references', () => {
  test('a manager owned by another source: 400 invalidValue, the same answer as an id that never existed', async () => {
    h = startHarness();
    const alice = await createUser('alice@contoso.com', 'okta');
    const bob = await createUser('bob@contoso.com', 'entra');
    const before = snapshot(h.file);
    for (const value of [alice, '00000000-0000-4000-8000-000000000000']) {
      const res = await h
        .as('entra')
        .patch(`/scim/v2/Users/${bob}`)
        .send({ Operations: [{ op: 'add', path: `${ENTERPRISE}:manager`, value }] });
      expect(res.body).toEqual(scimError(400, `${ENTERPRISE}:manager.value "${value}" names no User this source can see`, 'invalidValue'));
      const post = await h
        .as('entra')
        .post('/scim/v2/Users')
        .send({ userName: 'carol@contoso.com', [ENTERPRISE]: { manager: { value } } });
      expect(post.status).toBe(400);
    }
    expect(snapshot(h.file)).toEqual(before);
  });

  test('a manager value that cannot be a bridge id is dropped and named in the audit row (Microsoft\'s reference collection sends "SuzzyQ")', async () => {
    h = startHarness();
    const res = await h
      .as('entra')
      .post('/scim/v2/Users')
      .send({ userName: 'lennay@contoso.com', [ENTERPRISE]: { department: 'bob', manager: { value: 'SuzzyQ' } } });
    expect(res.status).toBe(201);
    expect(res.body[ENTERPRISE]).toEqual({ department: 'bob' });
    expect(h.store.audit.list({ resourceType: 'User', resourceId: res.body.id })[0].detail).toMatchObject({ droppedManager: 'SuzzyQ' });
  });

  test('a member owned by another source: 400 invalidValue on POST, PUT and PATCH; nothing changes', async () => {
    h = startHarness();
    const alice = await createUser('alice@contoso.com', 'okta');
    const group = await createGroup('Entra Group');
    const before = snapshot(h.file);
    const detail = `members[].value "${alice}" names no User or Group this source can see`;
    const post = await h
      .as('entra')
      .post('/scim/v2/Groups')
      .send({ displayName: 'Other', members: [{ value: alice }] });
    expect(post.body).toEqual(scimError(400, detail, 'invalidValue'));
    const put = await h
      .as('entra')
      .put(`/scim/v2/Groups/${group}`)
      .send({ displayName: 'Entra Group', members: [{ value: alice }] });
    expect(put.body).toEqual(scimError(400, detail, 'invalidValue'));
    const patch = await h
      .as('entra')
      .patch(`/scim/v2/Groups/${group}`)
      .send({ Operations: [{ op: 'add', path: 'members', value: [{ value: alice }] }] });
    expect(patch.body).toEqual(scimError(400, detail, 'invalidValue'));
    expect(snapshot(h.file)).toEqual(before);
  });

  test('contributes: ["members"] cannot put one source\'s user into another source\'s group', async () => {
    h = startWithGroupSync();
    const alice = await createUser('alice@contoso.com', 'okta');
    const bob = await createUser('bob@contoso.com', 'entra');
    const group = await createGroup('Entra Group');
    const before = snapshot(h.file);
    const asGroupSync = (body: object) =>
      request(h.app)
        .patch(`/scim/v2/Groups/${group}`)
        .set('Authorization', `Bearer ${GROUP_SYNC_TOKEN}`)
        .send({ schemas: [PATCH_OP], ...body });
    const refused = await asGroupSync({ Operations: [{ op: 'add', path: 'members', value: [{ value: alice }] }] });
    expect(refused.body).toEqual(scimError(400, `members[].value "${alice}" names no User or Group this source can see`, 'invalidValue'));
    expect(snapshot(h.file)).toEqual(before);
    const allowed = await asGroupSync({ Operations: [{ op: 'add', path: 'members', value: [{ value: bob }] }] });
    expect(allowed.status).toBe(204);
    expect((await h.as('entra').get(`/scim/v2/Groups/${group}`)).body.members).toEqual([
      { value: bob, type: 'User', $ref: expect.stringMatching(new RegExp(`/Users/${bob}$`)) },
    ]);
  });

  test('a member deleted meanwhile and a value that is no bridge id are dropped (the write succeeds); the audit row names them', async () => {
    h = startHarness();
    const gone = await createUser('gone@contoso.com', 'entra');
    const kept = await createUser('kept@contoso.com', 'entra');
    const group = await createGroup('Entra Group');
    expect((await h.as('entra').delete(`/scim/v2/Users/${gone}`)).status).toBe(204);
    const res = await h
      .as('entra')
      .patch(`/scim/v2/Groups/${group}`)
      .send({
        Operations: [{ op: 'add', path: 'members', value: [{ value: gone }, { value: 'string id 1' }, { value: kept }] }],
      });
    expect(res.status).toBe(204);
    expect((await h.as('entra').get(`/scim/v2/Groups/${group}`)).body.members.map((m: { value: string }) => m.value)).toEqual([kept]);
    const audit = h.store.audit.list({ resourceType: 'Group', resourceId: group });
    expect(audit.find((a) => a.action === 'group.patch')?.detail).toMatchObject({ droppedMembers: [gone, 'string id 1'] });
  });

  test('a group read shows only the members the reader can see: GET, list, attributes=members and a members filter', async () => {
    h = startHarness();
    const alice = await createUser('alice@contoso.com', 'okta');
    const bob = await createUser('bob@contoso.com', 'entra');
    const group = await createGroup('Entra Group', 'entra', [{ value: bob }]);
    // A membership stored before references were checked (or by the store directly): okta's user in entra's group.
    h.store.groups.update(group, null, { sourceId: 'script', members: { add: [{ value: alice, type: 'User' }] } });
    const onlyBob = [{ value: bob, type: 'User', $ref: expect.stringMatching(new RegExp(`/Users/${bob}$`)) }];
    expect((await h.as('entra').get(`/scim/v2/Groups/${group}`)).body.members).toEqual(onlyBob);
    expect((await h.as('entra').get('/scim/v2/Groups?attributes=members')).body.Resources[0].members).toEqual(onlyBob);
    const byAlice = await h.as('entra').get(`/scim/v2/Groups?filter=${encodeURIComponent(`members[value eq "${alice}"]`)}`);
    expect(byAlice.body.totalResults).toBe(0);
    const byAliceFlat = await h.as('entra').get(`/scim/v2/Groups?filter=${encodeURIComponent(`members.value eq "${alice}"`)}`);
    expect(byAliceFlat.body.totalResults).toBe(0);
    const byGroup = await h.as('okta').get(`/scim/v2/Users?filter=${encodeURIComponent(`groups.value eq "${group}"`)}`);
    expect(byGroup.body.totalResults).toBe(0);
    // A source that sees all sees both.
    expect((await h.as('script').get(`/scim/v2/Groups/${group}`)).body.members).toHaveLength(2);
  });
});

describe('values Graph constrains further than SCIM', () => {
  beforeEach(() => (h = startHarness()));

  test('preferredLanguage as an Accept-Language list is stored as the one culture Graph takes; PATCH too', async () => {
    const res = await h.as('entra').post('/scim/v2/Users').send({ userName: 'lang@contoso.com', preferredLanguage: 'en-US,en;q=0.9' });
    expect(res.status).toBe(201);
    expect(res.body.preferredLanguage).toBe('en-US');
    await h
      .as('entra')
      .patch(`/scim/v2/Users/${res.body.id}`)
      .send({ Operations: [{ op: 'replace', path: 'preferredLanguage', value: 'fr_ca' }] });
    expect((await h.as('entra').get(`/scim/v2/Users/${res.body.id}`)).body.preferredLanguage).toBe('fr-CA');
  });

  test('preferredLanguage naming no culture, and an immutableId with "_": 400 with the rule, nothing stored', async () => {
    const before = snapshot(h.file);
    const lang = await h.as('entra').post('/scim/v2/Users').send({ userName: 'lang@contoso.com', preferredLanguage: '*' });
    expect(lang.body).toEqual(
      scimError(
        400,
        'preferredLanguage "*" does not name one culture: send one culture as Graph stores it, an ISO 639-1 language and an ISO 3166 country or region such as "en-US" (or the language alone, "en")',
        'invalidValue',
      ),
    );
    const BRIDGE = 'urn:ietf:params:scim:schemas:extension:graphbridge:2.0:User';
    const id = await h
      .as('entra')
      .post('/scim/v2/Users')
      .send({ userName: 'imm@contoso.com', [BRIDGE]: { immutableId: 'a_b' } });
    expect(id.body).toEqual(scimError(400, `${BRIDGE}:immutableId may not contain "$" or "_": Graph refuses them in onPremisesImmutableId`, 'invalidValue'));
    expect(snapshot(h.file)).toEqual(before);
  });
});

describe('bounded work', () => {
  beforeEach(() => (h = startHarness()));
  const emails = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ value: `e${from + i}@contoso.com`, type: 'other' }));

  test('a multi-valued attribute holds at most 100 values: POST and PATCH past it are 400, nothing stored', async () => {
    const before = snapshot(h.file);
    const post = await h
      .as('entra')
      .post('/scim/v2/Users')
      .send({ userName: 'many@contoso.com', emails: emails(101) });
    expect(post.body).toEqual(scimError(400, 'emails may hold at most 100 values', 'invalidValue'));
    expect(snapshot(h.file)).toEqual(before);
    const id = (
      await h
        .as('entra')
        .post('/scim/v2/Users')
        .send({ userName: 'many@contoso.com', emails: emails(100) })
    ).body.id;
    const again = snapshot(h.file);
    const Operations = [{ op: 'add', path: 'emails', value: [{ value: 'one.more@contoso.com', type: 'work' }] }];
    const patch = await h.as('entra').patch(`/scim/v2/Users/${id}`).send({ Operations });
    expect(patch.body).toEqual(scimError(400, 'emails may hold at most 100 values', 'invalidValue'));
    expect(snapshot(h.file)).toEqual(again);
  });

  test('PATCH with many add operations: duplicates skipped, a new primary demotes the old one', async () => {
    const id = (
      await h
        .as('entra')
        .post('/scim/v2/Users')
        .send({ userName: 'p@contoso.com', emails: [{ value: 'a@contoso.com', type: 'work', primary: true }] })
    ).body.id;
    const Operations = [
      ...emails(50).map((e) => ({ op: 'add', path: 'emails', value: [e] })),
      ...emails(50).map((e) => ({ op: 'add', path: 'emails', value: [e] })),
      {
        op: 'add',
        path: 'emails',
        value: [
          { value: 'b@contoso.com', type: 'work', primary: true },
          { value: 'c@contoso.com', type: 'work', primary: true },
        ],
      },
    ];
    expect((await h.as('entra').patch(`/scim/v2/Users/${id}`).send({ Operations })).status).toBe(204);
    const body = (await h.as('entra').get(`/scim/v2/Users/${id}`)).body;
    expect(body.emails).toEqual([
      { value: 'a@contoso.com', type: 'work', primary: false },
      ...emails(50),
      { value: 'b@contoso.com', type: 'work', primary: true },
      { value: 'c@contoso.com', type: 'work', primary: false },
    ]);
  });

  test('PATCH member operations fold into one change: add, remove and re-add in one request', async () => {
    const [a, b, c] = [await createUser('a@contoso.com', 'entra'), await createUser('b@contoso.com', 'entra'), await createUser('c@contoso.com', 'entra')];
    const group = await createGroup('Fold', 'entra', [{ value: a }]);
    const Operations = [
      { op: 'add', path: 'members', value: [{ value: b }] },
      { op: 'remove', path: 'members', value: [{ value: b }] },
      { op: 'remove', path: 'members', value: [{ value: a }] },
      { op: 'add', path: 'members', value: [{ value: a }, { value: c }] },
      { op: 'remove', path: `members[value eq "${c}"]` },
    ];
    expect((await h.as('entra').patch(`/scim/v2/Groups/${group}`).send({ Operations })).status).toBe(204);
    expect((await h.as('entra').get(`/scim/v2/Groups/${group}`)).body.members.map((m: { value: string }) => m.value)).toEqual([a]);
    const replaced = [
      { op: 'replace', path: 'members', value: [{ value: b }] },
      { op: 'add', path: 'members', value: [{ value: c }] },
    ];
    await h.as('entra').patch(`/scim/v2/Groups/${group}`).send({ Operations: replaced });
    expect((await h.as('entra').get(`/scim/v2/Groups/${group}`)).body.members.map((m: { value: string }) => m.value).sort()).toEqual([b, c].sort());
  });
});

describe('member filters that scan the group', () => {
  beforeEach(() => (h = startHarness()));

  test('at most 10 operations of one PATCH select members by a filter other than value eq; nothing changes past that', async () => {
    const a = await createUser('a@contoso.com', 'entra');
    const group = await createGroup('Scan', 'entra', [{ value: a }]);
    const before = snapshot(h.file);
    const op = { op: 'remove', path: 'members[type eq "Group"]' };
    const res = await h
      .as('entra')
      .patch(`/scim/v2/Groups/${group}`)
      .send({ Operations: Array(11).fill(op) });
    expect(res.body).toEqual(scimError(400, 'at most 10 operations of one PATCH may select members by a filter other than value eq', 'invalidValue'));
    expect(snapshot(h.file)).toEqual(before);
    expect(
      (
        await h
          .as('entra')
          .patch(`/scim/v2/Groups/${group}`)
          .send({ Operations: Array(10).fill(op) })
      ).status,
    ).toBe(204);
  });
});
