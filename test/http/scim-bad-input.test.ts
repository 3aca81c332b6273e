// SPEC section 11: every malformed request gets the RFC 7644 status, scimType and detail, and
// changes nothing (every row of every table compared before and after).
import request from 'supertest';
import { BRIDGE, CORE_GROUP, CORE_USER, ENTERPRISE, PATCH_OP, TOKENS, scimError, snapshot, startHarness, type Harness } from './scim-harness';

let h: Harness;
let userId: string;
let groupId: string;
let before: Record<string, unknown[]>;

beforeAll(async () => {
  h = startHarness({ overrides: { limits: { bodyBytes: 4096, bulkOperations: 10 } } });
  userId = (
    await h
      .as('okta')
      .post('/scim/v2/Users')
      .send({ userName: 'ann@example.com', name: { givenName: 'Ann' } })
  ).body.id;
  groupId = (
    await h
      .as('okta')
      .post('/scim/v2/Groups')
      .send({ displayName: 'Sales', members: [userId] })
  ).body.id;
  before = snapshot(h.file);
});
afterAll(() => {
  h.close();
});
afterEach(() => expect(snapshot(h.file)).toEqual(before));

const raw = (method: 'post' | 'put' | 'patch', url: string, body: string | Buffer, type = 'application/scim+json') => {
  const agent = request(h.app);
  return (
    agent[method](url)
      .set('Authorization', `Bearer ${TOKENS.okta}`)
      .set('Content-Type', type)
      // Send the bytes as they are: superagent would JSON-encode a Buffer for a JSON media type.
      .serialize((b: unknown) => b as string)
      .send(body as string)
  );
};

describe('bodies', () => {
  test('broken JSON: 400 invalidSyntax', async () => {
    const res = await raw('post', '/scim/v2/Users', '{"userName": "x",');
    expect(res.status).toBe(400);
    expect(res.body).toEqual(scimError(400, /^the request body is not valid JSON: /, 'invalidSyntax'));
  });

  test('an empty body: 400 invalidSyntax', async () => {
    expect((await raw('put', `/scim/v2/Users/${userId}`, '')).body).toEqual(scimError(400, 'the request body is empty', 'invalidSyntax'));
  });

  test('JSON that is not an object: 400 invalidSyntax', async () => {
    expect((await raw('post', '/scim/v2/Users', '[{"userName":"x"}]')).body).toEqual(scimError(400, 'the request body must be a User object', 'invalidSyntax'));
    expect((await raw('patch', `/scim/v2/Users/${userId}`, '"replace"')).body).toEqual(
      scimError(400, 'the request body must be a PatchOp object', 'invalidSyntax'),
    );
  });

  test('nesting deeper than 32 levels: 400 invalidSyntax before anything walks it', async () => {
    const deep = `{"userName":"x","name":${'['.repeat(40)}${']'.repeat(40)}}`;
    expect((await raw('post', '/scim/v2/Users', deep)).body).toEqual(scimError(400, 'the request body nests deeper than 32 levels', 'invalidSyntax'));
  });

  test('invalid UTF-8: 400 invalidSyntax', async () => {
    const bytes = Buffer.concat([Buffer.from('{"userName":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    expect((await raw('post', '/scim/v2/Users', bytes)).body).toEqual(scimError(400, 'the request body is not valid UTF-8', 'invalidSyntax'));
  });

  test('a body over limits.bodyBytes: 413', async () => {
    const res = await raw('post', '/scim/v2/Users', JSON.stringify({ userName: 'x', title: 'y'.repeat(5000) }));
    expect(res.status).toBe(413);
    expect(res.body).toEqual(scimError(413, 'request body is larger than the configured limit'));
  });

  test.each(['text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1'])('Content-Type %s: 415', async (type) => {
    const res = await raw('post', '/scim/v2/Users', '{"userName":"x@example.com"}', type);
    expect(res.status).toBe(415);
    expect(res.body).toEqual(scimError(415, `Content-Type "${type}" is not supported: send application/scim+json or application/json in UTF-8`));
  });
});

describe('resources', () => {
  test.each([
    [{ name: { givenName: 'x' } }, 'userName is required'],
    [{ userName: '   ' }, 'userName is required'],
    [{ userName: { first: 'x' } }, 'userName must be a string'],
    [{ userName: 'x@example.com', active: 'maybe' }, 'active must be a boolean'],
    [{ userName: 'x@example.com', name: 'Ann' }, 'name must be an object'],
    [{ userName: 'x@example.com', emails: [{ value: 'a@b', primary: 'often' }] }, 'emails.primary must be a boolean'],
    [{ userName: 'x@example.com', [BRIDGE]: { employeeHireDate: 'last spring' } }, `${BRIDGE}:employeeHireDate must be an xsd:dateTime string`],
    [{ userName: 'x@example.com', [BRIDGE]: 'corp' }, `${BRIDGE} must be an object`],
    [{ userName: 'x@example.com', schemas: 'urn:ietf:params:scim:schemas:core:2.0:User' }, 'schemas must be an array of URI strings'],
  ])('POST /Users %j: 400', async (body, detail) => {
    const res = await h.as('okta').post('/scim/v2/Users').send(body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual(scimError(400, detail, detail.startsWith('schemas') ? 'invalidSyntax' : 'invalidValue'));
  });

  test('a group member that is not an object or id: 400 invalidValue', async () => {
    const res = await h
      .as('okta')
      .post('/scim/v2/Groups')
      .send({ displayName: 'X', members: [{ display: 'no value' }] });
    expect(res.body).toEqual(scimError(400, 'members[].value must be a string', 'invalidValue'));
  });
});

describe('PATCH', () => {
  const patch = (ops: unknown, kind = 'Users', id = userId) =>
    h
      .as('okta')
      .patch(`/scim/v2/${kind}/${id}`)
      .send({ schemas: [PATCH_OP], Operations: ops });

  test.each([
    [undefined, 'Operations must be an array', 'invalidSyntax'],
    [[{ op: 'move', path: 'title' }], 'Operations[0].op must be add, remove or replace', 'invalidSyntax'],
    [['replace'], 'Operations[0] must be an object', 'invalidSyntax'],
    [[{ op: 'replace', path: 'shoeSize', value: 9 }], '"shoeSize" names no attribute of User', 'invalidPath'],
    [[{ op: 'replace', path: 'emails[type eq "work"', value: 'x' }], '"emails[type eq "work"" has an unclosed "["', 'invalidPath'],
    [
      [{ op: 'replace', path: 'name[givenName eq "Ann"]', value: 'x' }],
      '"name[givenName eq "Ann"]": a filter applies only to a multi-valued complex attribute',
      'invalidPath',
    ],
    [[{ op: 'replace', path: 'emails[type eq "work"].colour', value: 'x' }], '"emails[type eq "work"].colour" names no sub-attribute "colour"', 'invalidPath'],
    [[{ op: 'replace', path: 'emails[type xx "work"]', value: {} }], 'unknown operator "xx" at position 5', 'invalidFilter'],
    [[{ op: 'replace', path: 'id', value: 'mine' }], 'id is read-only', 'mutability'],
    [[{ op: 'add', path: 'groups', value: [{ value: 'g' }] }], 'groups is read-only', 'mutability'],
    [[{ op: 'replace', path: 'meta.created', value: '2020-01-01T00:00:00Z' }], 'meta.created is read-only', 'mutability'],
    [[{ op: 'replace', path: `${BRIDGE}:syncState`, value: 'synced' }], `${BRIDGE}:syncState is read-only`, 'mutability'],
    [[{ op: 'remove' }], 'remove needs a path', 'noTarget'],
    [[{ op: 'replace', path: 'emails[type eq "work" or type eq "home"].value', value: 'x' }], 'no value of emails matches the filter', 'noTarget'],
    [[{ op: 'remove', path: 'userName' }], 'userName is required', 'invalidValue'],
    [[{ op: 'replace', path: 'active', value: 'sometimes' }], 'active must be a boolean', 'invalidValue'],
    [[{ op: 'replace', value: 'not an object' }], 'replace without a path needs an object value', 'invalidValue'],
    [
      [
        { op: 'replace', path: 'title', value: 'ok' },
        { op: 'replace', path: 'nope', value: 1 },
      ],
      '"nope" names no attribute of User',
      'invalidPath',
    ],
  ])('%j: 400', async (ops, detail, scimType) => {
    const res = await patch(ops);
    expect(res.status).toBe(400);
    expect(res.body).toEqual(scimError(400, detail, scimType));
  });

  test('a members filter other than remove: 400 invalidPath', async () => {
    const res = await patch([{ op: 'replace', path: `members[value eq "${userId}"].display`, value: 'x' }], 'Groups', groupId);
    expect(res.body).toEqual(scimError(400, 'a members filter is only supported to remove members', 'invalidPath'));
  });

  test('a stale If-Match: 412', async () => {
    const res = await h
      .as('okta')
      .patch(`/scim/v2/Users/${userId}`)
      .set('If-Match', 'W/"9"')
      .send({ Operations: [{ op: 'replace', path: 'title', value: 'x' }] });
    expect(res.body).toEqual(scimError(412, 'the resource is at version W/"1", not W/"9"'));
  });
});

describe('queries', () => {
  test.each([
    ['sortBy=shoeSize', '"shoeSize" names no attribute of User', 'invalidPath'],
    ['sortOrder=sideways', 'sortOrder must be ascending or descending', 'invalidValue'],
    ['startIndex=1.5', 'startIndex must be an integer', 'invalidValue'],
    ['excludedAttributes=name.nickname', '"name.nickname" names no attribute of User', 'invalidPath'],
    ['filter=%28%28%28', 'filter ends where an expression was expected', 'invalidFilter'],
    [`filter=${encodeURIComponent(`${ENTERPRISE}:shoeSize eq "44"`)}`, `unknown attribute "${ENTERPRISE}:shoeSize"`, 'invalidFilter'],
  ])('GET /Users?%s: 400', async (query, detail, scimType) => {
    const res = await h.as('okta').get(`/scim/v2/Users?${query}`);
    expect(res.status).toBe(400);
    expect(res.body).toEqual(scimError(400, detail.replace('"shoeSize" names no attribute of User', 'sortBy "shoeSize" names no attribute of User'), scimType));
  });

  test('a .search body of the wrong shape: 400', async () => {
    const res = await h.as('okta').post('/scim/v2/Users/.search').send({ filter: 7 });
    expect(res.body).toEqual(scimError(400, 'filter must be a string', 'invalidValue'));
  });

  test('a malformed percent-encoding in the path is a SCIM 400, not a 500', async () => {
    const res = await h.as('okta').get('/scim/v2/Users/%E0%A4%A');
    expect(res.status).toBe(400);
    expect(res.body).toEqual(scimError(400, "Failed to decode param '%E0%A4%A'", 'invalidSyntax'));
  });
});

describe('schemas, unknown attributes and types (application/scim+json)', () => {
  const post = (body: object) => raw('post', '/scim/v2/Users', JSON.stringify(body));
  const user = { schemas: [CORE_USER], userName: 'new@example.com' };

  test.each([
    [{ userName: 'new@example.com' }, 'schemas must be an array of URI strings'],
    [{ ...user, schemas: [CORE_GROUP] }, `schemas must include ${CORE_USER}`],
    // An unknown extension URN is accepted and ignored (scim-unknown-extensions.test.ts); what is not an extension is not.
    [{ ...user, schemas: [CORE_USER, CORE_GROUP] }, `schema "${CORE_GROUP}" is not one of User's`],
    [{ ...user, schemas: [CORE_USER, PATCH_OP] }, `schema "${PATCH_OP}" is not one of User's`],
    [{ ...user, schemas: [CORE_USER, 'enterprise'] }, 'schema "enterprise" is not one of User\'s'],
    [{ ...user, schemas: [CORE_USER, `urn:example:${'x'.repeat(600)}`] }, `schema "urn:example:${'x'.repeat(188)}..." is not one of User's`],
    [{ ...user, [ENTERPRISE]: { department: 'x' } }, `${ENTERPRISE} is used but not listed in schemas`],
    [{ ...user, favouriteColour: 'blue' }, 'unknown attribute "favouriteColour"'],
    [{ ...user, name: { givenName: 'a', middleInitial: 'b' } }, 'unknown attribute "name.middleInitial"'],
    [{ ...user, emails: [{ value: 'a@example.com', colour: 'red' }] }, 'unknown attribute "emails.colour"'],
    [{ ...user, schemas: [CORE_USER, ENTERPRISE], [ENTERPRISE]: { shoeSize: 44 } }, `unknown attribute "${ENTERPRISE}:shoeSize"`],
  ])('POST %j: 400 invalidSyntax', async (body, detail) => {
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual(scimError(400, detail, 'invalidSyntax'));
  });

  test.each([
    [{ ...user, title: 42 }, 'title must be a string'],
    [{ ...user, externalId: true }, 'externalId must be a string'],
    [{ ...user, emails: 'a@example.com' }, 'emails must be an object'],
    [{ ...user, schemas: [CORE_USER, ENTERPRISE], [ENTERPRISE]: { manager: 42 } }, `${ENTERPRISE}:manager must be an object`],
    [{ ...user, schemas: [CORE_USER, ENTERPRISE], [ENTERPRISE]: { manager: { value: 42 } } }, `${ENTERPRISE}:manager.value must be a string`],
    [
      { ...user, schemas: [CORE_USER, BRIDGE], [BRIDGE]: { pwdLastSet: 'not a date' } },
      `${BRIDGE}:pwdLastSet must be an AD FILETIME integer or an ISO 8601 date`,
    ],
  ])('POST %j: 400 invalidValue', async (body, detail) => {
    const res = await post(body);
    expect(res.body).toEqual(scimError(400, detail, 'invalidValue'));
  });

  test('an unknown attribute with nothing in it (null, [], {}) is unassigned, not refused', async () => {
    const res = await raw(
      'put',
      `/scim/v2/Users/${userId}`,
      JSON.stringify({ schemas: [CORE_USER], userName: 'ann@example.com', name: { givenName: 'Ann' }, adreses: [], nickname2: null }),
    );
    expect(res.status).toBe(200);
  });

  test.each([
    [{ Operations: [{ op: 'replace', path: 'title', value: 'x' }] }, `schemas must be ["${PATCH_OP}"]`, 'invalidSyntax'],
    [{ schemas: [PATCH_OP, 'urn:example:bad'], Operations: [] }, `schemas must be ["${PATCH_OP}"]`, 'invalidSyntax'],
    [{ schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'title' }] }, 'Operations[0]: add needs a value', 'invalidValue'],
    [{ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title' }] }, 'Operations[0]: replace needs a value', 'invalidValue'],
    [
      { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { displayName: 'ok', shoeSize: 44 } }] },
      '"shoeSize" names no attribute of User',
      'invalidPath',
    ],
    [
      { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: `${ENTERPRISE}:shoeSize`, value: 44 }] },
      `"${ENTERPRISE}:shoeSize" names no attribute of User`,
      'invalidPath',
    ],
    [
      { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: `${CORE_GROUP}:displayName`, value: 'x' }] },
      `"${CORE_GROUP}:displayName" names no attribute of User`,
      'invalidPath',
    ],
  ])('PATCH %j: 400', async (body, detail, scimType) => {
    const res = await raw('patch', `/scim/v2/Users/${userId}`, JSON.stringify(body));
    expect(res.body).toEqual(scimError(400, detail, scimType));
  });

  test('PUT with If-None-Match naming the current version (or *): 412', async () => {
    for (const value of ['*', 'W/"1"']) {
      const res = await raw('put', `/scim/v2/Users/${userId}`, JSON.stringify({ schemas: [CORE_USER], userName: 'ann@example.com' })).set(
        'If-None-Match',
        value,
      );
      expect(res.body).toEqual(scimError(412, 'If-None-Match names the current version W/"1"'));
    }
  });

  test('a SearchRequest without its schema: 400 invalidSyntax', async () => {
    const res = await raw('post', '/scim/v2/.search', JSON.stringify({ filter: 'userName pr' }));
    expect(res.body).toEqual(scimError(400, 'schemas must be ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]', 'invalidSyntax'));
  });
});
