// GET /Users and /Groups lists: every RFC 7644 filter operator pushed down to SQL (and the
// plans that prove indexes are used), caseExact, sorting, paging on every page, projections,
// and POST .search.
import { parseFilter } from '../../src/scim/filter';
import { resourceTypes } from '../../src/scim/schema';
import { BRIDGE, CORE_USER, ENTERPRISE, LIST, location, scimError, startHarness, type Harness } from './scim-harness';

let h: Harness;
const ids: Record<string, string> = {};

const people = [
  {
    userName: 'alice@a.example',
    externalId: 'EXT-1',
    name: { givenName: 'Alice', familyName: 'Archer' },
    title: 'Engineer',
    active: true,
    emails: [
      { value: 'alice@a.example', type: 'work', primary: true },
      { value: 'alice@home.example', type: 'home' },
    ],
    [ENTERPRISE]: { department: 'R&D', employeeNumber: '100' },
  },
  {
    userName: 'bob@b.example',
    externalId: 'ext-2',
    name: { givenName: 'Bob', familyName: 'Baker' },
    active: false,
    emails: [{ value: 'bob@b.example', type: 'work' }],
    [ENTERPRISE]: { department: 'Sales', employeeNumber: '200' },
  },
  {
    userName: 'carol@a.example',
    externalId: 'EXT-3',
    name: { givenName: 'Carol', familyName: 'Carter' },
    title: 'Manager',
    active: true,
    emails: [{ value: 'carol@home.example', type: 'home' }],
    [ENTERPRISE]: { department: 'R&D', employeeNumber: '300' },
  },
  { userName: 'dave@c.example', name: { givenName: 'Dave', familyName: 'archer' }, active: true },
  { userName: 'erin_50%@c.example', name: { givenName: 'Erin', familyName: 'Evans' }, title: 'engineer', active: true },
];

beforeAll(async () => {
  h = startHarness();
  for (const p of people) {
    const res = await h
      .as('okta')
      .post('/scim/v2/Users')
      .send({ schemas: [CORE_USER, ENTERPRISE], ...p });
    expect(res.status).toBe(201);
    ids[p.name.givenName] = res.body.id;
  }
  await h.as('entra').post('/scim/v2/Users').send({ userName: 'zed@other.example' });
});
afterAll(() => h.close());

async function names(query: string): Promise<string[]> {
  const res = await h.as('okta').get(`/scim/v2/Users?${query}`);
  expect(res.status).toBe(200);
  expect(res.body.totalResults).toBe(res.body.Resources.length);
  return res.body.Resources.map((r: { name: { givenName: string } }) => r.name.givenName);
}

const f = (filter: string) => `filter=${encodeURIComponent(filter)}`;

describe('filters', () => {
  test.each([
    ['userName eq "ALICE@a.example"', ['Alice']],
    ['externalId eq "ext-1"', []],
    ['externalId eq "EXT-1"', ['Alice']],
    ['userName ne "alice@a.example"', ['Bob', 'Carol', 'Dave', 'Erin']],
    ['userName co "@A.EX"', ['Alice', 'Carol']],
    ['userName co "_50%"', ['Erin']],
    ['userName sw "c"', ['Carol']],
    ['userName ew ".EXAMPLE"', ['Alice', 'Bob', 'Carol', 'Dave', 'Erin']],
    ['name.familyName gt "b"', ['Bob', 'Carol', 'Erin']],
    ['name.familyName ge "Baker"', ['Bob', 'Carol', 'Erin']],
    ['name.familyName lt "BAKER"', ['Alice', 'Dave']],
    ['name.familyName le "baker"', ['Alice', 'Bob', 'Dave']],
    ['title pr', ['Alice', 'Carol', 'Erin']],
    ['title eq "engineer"', ['Alice', 'Erin']],
    ['active eq false', ['Bob']],
    ['active eq "True"', ['Alice', 'Carol', 'Dave', 'Erin']],
    ['emails.value eq "carol@home.example"', ['Carol']],
    ['emails.type eq "home"', ['Alice', 'Carol']],
    ['emails[type eq "work" and value sw "alice"]', ['Alice']],
    ['emails[type eq "home" or primary eq true]', ['Alice', 'Carol']],
    ['emails pr', ['Alice', 'Bob', 'Carol']],
    ['not (emails pr)', ['Dave', 'Erin']],
    [`${ENTERPRISE}:department eq "r&d"`, ['Alice', 'Carol']],
    [`${ENTERPRISE}:employeeNumber ge "200"`, ['Bob', 'Carol']],
    ['title eq "Engineer" or (active eq false and name.familyName sw "ba")', ['Alice', 'Bob', 'Erin']],
    ['not (title pr) and not (active eq false)', ['Dave']],
    ['meta.created gt "2000-01-01T00:00:00Z" and meta.lastModified le "2999-01-01T00:00:00.000Z"', ['Alice', 'Bob', 'Carol', 'Dave', 'Erin']],
    ['meta.resourceType eq "User" and userName sw "b"', ['Bob']],
    [`${BRIDGE}:syncState eq "pending" and ${BRIDGE}:source eq "okta" and userName eq "dave@c.example"`, ['Dave']],
    ['DisplayName eq "nobody" or NAME.GIVENNAME eq "Carol"', ['Carol']],
    ['name.familyName eq Archer', ['Alice', 'Dave']],
  ])('%s', async (filter, expected) => {
    expect((await names(f(filter))).sort()).toEqual(expected);
  });

  test('a source sees only what it owns', async () => {
    const res = await h.as('entra').get('/scim/v2/Users');
    expect(res.body.Resources.map((r: { userName: string }) => r.userName)).toEqual(['zed@other.example']);
  });

  test('groups.value on users and members[value eq] on groups', async () => {
    const g = await h
      .as('okta')
      .post('/scim/v2/Groups')
      .send({ displayName: 'Engineers', members: [{ value: ids.Alice }, { value: ids.Erin }] });
    expect(g.status).toBe(201);
    expect((await names(f(`groups.value eq "${g.body.id}"`))).sort()).toEqual(['Alice', 'Erin']);
    const res = await h.as('okta').get(`/scim/v2/Groups?${f(`members[value eq "${ids.Erin}"]`)}&excludedAttributes=members`);
    expect(res.body.Resources.map((r: { displayName: string }) => r.displayName)).toEqual(['Engineers']);
    expect(res.body.Resources[0]).not.toHaveProperty('members');
  });

  test.each([
    ['userName eq', 'expected a comparison value'],
    ['userName xx "a"', 'unknown operator "xx" at position 9'],
    ['nickname2 eq "a"', 'unknown attribute "nickname2"'],
    ['(userName eq "a"', 'expected ")" at the end'],
    ['userName eq "a" and', 'filter ends where an expression was expected'],
    ['name eq "x"', '"name" is complex: compare one of its sub-attributes'],
    ['active gt true', 'operator gt does not apply to a boolean'],
    ['meta.created gt "yesterday"', '"yesterday" is not a dateTime'],
    ['userName eq "unterminated', 'unterminated string starting at position 12'],
  ])('400 invalidFilter for %s', async (filter, detail) => {
    const res = await h.as('okta').get(`/scim/v2/Users?${f(filter)}`);
    expect(res.status).toBe(400);
    expect(res.body).toEqual(scimError(400, detail, 'invalidFilter'));
  });

  test('a filter bomb is refused at once: depth, term count and length are bounded', async () => {
    const deep = `${'('.repeat(5000)}userName eq "a"${')'.repeat(5000)}`;
    const wide = Array.from({ length: 101 }, (_, i) => `userName eq "u${i}"`).join(' or ');
    const dnf = Array.from({ length: 40 }, (_, i) => `(userName eq "a${i}" or userName eq "b${i}")`).join(' and ');
    const started = Date.now();
    const [a, b, c] = await Promise.all([deep, wide, dnf].map((x) => h.as('okta').post('/scim/v2/Users/.search').send({ filter: x })));
    expect(a.body).toEqual(scimError(400, 'filter is longer than 4096 characters', 'invalidFilter'));
    expect(b.body).toEqual(scimError(400, 'filter has more than 100 comparisons', 'invalidFilter'));
    // 2^40 terms once expanded to DNF; parsed as a tree it is 80 comparisons and runs in SQL.
    expect(c.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(2000);
    const nested = `${'('.repeat(20)}userName eq "a"${')'.repeat(20)}`;
    expect((await h.as('okta').get(`/scim/v2/Users?${f(nested)}`)).body).toEqual(scimError(400, 'filter nests deeper than 16 levels', 'invalidFilter'));
  });
});

describe('filters use indexes', () => {
  const plan = (filter: string) =>
    h.store.queries.explain('User', { filter: parseFilter(resourceTypes.User, filter), startIndex: 1, count: 10, ownerId: 'okta' }).join(' / ');

  test.each([
    ['userName eq "a"', 'USING INDEX users_user_name_key'],
    ['userName sw "a"', 'USING INDEX users_user_name'],
    ['externalId eq "a"', 'USING INDEX users_external_id'],
    ['name.familyName eq "a"', 'USING INDEX users_family_name'],
    [`${ENTERPRISE}:employeeNumber eq "1"`, 'USING INDEX users_employee_number'],
    ['emails.value eq "a@b"', 'SEARCH v USING PRIMARY KEY (attr=? AND value=?)'],
    ['emails[type eq "work" and value eq "a@b"]', 'SEARCH v USING PRIMARY KEY (attr=? AND value=?)'],
    [`${BRIDGE}:syncState eq "error"`, 'USING COVERING INDEX sync_state_state (type=? AND state=?)'],
  ])('%s', (filter, expected) => {
    expect(plan(filter)).toContain(expected);
    expect(plan(filter)).not.toMatch(/SCAN u\b/);
  });
});

describe('sorting and paging', () => {
  test('sortBy with sortOrder, case-insensitive for caseExact=false attributes', async () => {
    expect(await names('sortBy=name.familyName')).toEqual(['Alice', 'Dave', 'Bob', 'Carol', 'Erin']);
    expect(await names('sortBy=userName&sortOrder=descending')).toEqual(['Erin', 'Dave', 'Carol', 'Bob', 'Alice']);
    expect(await names('sortBy=emails.value&filter=emails%20pr')).toEqual(['Alice', 'Bob', 'Carol']);
  });

  test('every page of every size is right: no item dropped or repeated', async () => {
    for (const count of [1, 2, 3, 4]) {
      const seen: string[] = [];
      for (let start = 1; start <= 6; start += count) {
        const res = await h.as('okta').get(`/scim/v2/Users?sortBy=userName&startIndex=${start}&count=${count}`);
        expect(res.body).toMatchObject({ schemas: [LIST], totalResults: 5, startIndex: start, itemsPerPage: Math.max(0, Math.min(count, 6 - start)) });
        seen.push(...res.body.Resources.map((r: { userName: string }) => r.userName));
      }
      expect(seen).toEqual(['alice@a.example', 'bob@b.example', 'carol@a.example', 'dave@c.example', 'erin_50%@c.example']);
    }
  });

  test('filtered: every page of every size has the filtered total, beyond the end too, and count=0 gives it alone', async () => {
    const filter = `filter=${encodeURIComponent('emails pr')}&sortBy=userName`;
    for (const count of [1, 2, 3, 4]) {
      const seen: string[] = [];
      for (let start = 1; start <= 5; start += count) {
        const res = await h.as('okta').get(`/scim/v2/Users?${filter}&startIndex=${start}&count=${count}`);
        expect(res.body).toMatchObject({ schemas: [LIST], totalResults: 3, startIndex: start, itemsPerPage: Math.max(0, Math.min(count, 4 - start)) });
        seen.push(...res.body.Resources.map((r: { userName: string }) => r.userName));
      }
      expect(seen).toEqual(['alice@a.example', 'bob@b.example', 'carol@a.example']);
    }
    expect((await h.as('okta').get(`/scim/v2/Users?${filter}&count=0`)).body).toEqual({
      schemas: [LIST],
      totalResults: 3,
      itemsPerPage: 0,
      startIndex: 1,
      Resources: [],
    });
    expect((await h.as('okta').get(`/scim/v2/Users?${filter}&startIndex=99`)).body).toEqual({
      schemas: [LIST],
      totalResults: 3,
      itemsPerPage: 0,
      startIndex: 99,
      Resources: [],
    });
  });

  test('count=0 gives the total only; startIndex below 1 counts as 1; beyond the end is empty', async () => {
    expect((await h.as('okta').get('/scim/v2/Users?count=0')).body).toEqual({
      schemas: [LIST],
      totalResults: 5,
      itemsPerPage: 0,
      startIndex: 1,
      Resources: [],
    });
    expect((await h.as('okta').get('/scim/v2/Users?startIndex=-4&count=1')).body).toMatchObject({ startIndex: 1, itemsPerPage: 1 });
    expect((await h.as('okta').get('/scim/v2/Users?startIndex=99')).body).toEqual({
      schemas: [LIST],
      totalResults: 5,
      itemsPerPage: 0,
      startIndex: 99,
      Resources: [],
    });
  });

  test('startIndex and count that are not integers are 400 invalidValue', async () => {
    const res = await h.as('okta').get('/scim/v2/Users?count=ten');
    expect(res.body).toEqual(scimError(400, 'count must be an integer', 'invalidValue'));
  });
});

describe('attributes and excludedAttributes', () => {
  test('attributes keeps id and schemas plus what was asked, sub-attributes and extension attributes included', async () => {
    const res = await h
      .as('okta')
      .get(`/scim/v2/Users?${f('userName eq "alice@a.example"')}&attributes=userName,name.givenName,emails.value,${ENTERPRISE}:department`);
    expect(res.body.Resources).toEqual([
      {
        schemas: [CORE_USER, ENTERPRISE, BRIDGE],
        id: ids.Alice,
        userName: 'alice@a.example',
        name: { givenName: 'Alice' },
        emails: [{ value: 'alice@a.example' }, { value: 'alice@home.example' }],
        [ENTERPRISE]: { department: 'R&D' },
      },
    ]);
  });

  test('excludedAttributes removes what was named, never id', async () => {
    const res = await h.as('okta').get(`/scim/v2/Users/${ids.Bob}?excludedAttributes=emails,meta,id,${BRIDGE},name.givenName`);
    expect(res.body).toEqual({
      schemas: [CORE_USER, ENTERPRISE, BRIDGE],
      id: ids.Bob,
      externalId: 'ext-2',
      userName: 'bob@b.example',
      name: { familyName: 'Baker' },
      active: false,
      [ENTERPRISE]: { employeeNumber: '200', department: 'Sales' },
    });
  });

  test('an attribute with a value filter (as Entra sends it) selects the attribute', async () => {
    const res = await h.as('okta').get(`/scim/v2/Users?attributes=${encodeURIComponent('emails[type eq "work"]')}&count=1`);
    expect(res.body.Resources).toEqual([{ schemas: [CORE_USER, ENTERPRISE, BRIDGE], id: ids.Alice, emails: people[0].emails }]);
  });

  test('an unknown attribute is 400 invalidPath', async () => {
    const res = await h.as('okta').get('/scim/v2/Users?attributes=userName,shoeSize');
    expect(res.body).toEqual(scimError(400, '"shoeSize" names no attribute of User', 'invalidPath'));
  });
});

describe('POST .search', () => {
  test('/Users/.search takes the query in a SearchRequest body', async () => {
    const res = await h
      .as('okta')
      .post('/scim/v2/Users/.search')
      .send({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'],
        filter: 'title pr',
        sortBy: 'userName',
        sortOrder: 'descending',
        attributes: ['userName'],
        startIndex: 2,
        count: 1,
      });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      schemas: [LIST],
      totalResults: 3,
      itemsPerPage: 1,
      startIndex: 2,
      Resources: [{ schemas: [CORE_USER, ENTERPRISE, BRIDGE], id: ids.Carol, userName: 'carol@a.example' }],
    });
  });

  test('/.search pages over Users then Groups', async () => {
    const res = await h.as('okta').post('/scim/v2/.search').send({ filter: 'meta.created pr', startIndex: 5, count: 2, attributes: 'id' });
    expect(res.body.totalResults).toBe(6);
    expect(res.body.Resources.map((r: { meta?: unknown; schemas: string[] }) => r.schemas[0])).toEqual([
      CORE_USER,
      'urn:ietf:params:scim:schemas:core:2.0:Group',
    ]);
  });

  test("userName eq, one live user at most: paged past it, counted, after a delete and a re-create, and only within the reader's source", async () => {
    const page = async (who: 'okta' | 'entra', query: string) => (await h.as(who).get(`/scim/v2/Users?${query}`)).body;
    const filter = f('userName eq "Dave@C.example"');
    expect(await page('okta', `${filter}&startIndex=2`)).toEqual({ schemas: [LIST], totalResults: 1, itemsPerPage: 0, startIndex: 2, Resources: [] });
    expect(await page('okta', `${filter}&count=0`)).toEqual({ schemas: [LIST], totalResults: 1, itemsPerPage: 0, startIndex: 1, Resources: [] });
    expect(await page('entra', filter)).toEqual({ schemas: [LIST], totalResults: 0, itemsPerPage: 0, startIndex: 1, Resources: [] });
    const before = await h.as('okta').post('/scim/v2/Users').send({ userName: 'frank@c.example' });
    expect((await h.as('okta').delete(`/scim/v2/Users/${before.body.id}`)).status).toBe(204);
    const again = await h.as('okta').post('/scim/v2/Users').send({ userName: 'Frank@c.example' });
    const found = await page('okta', f('userName eq "frank@c.example"'));
    expect(found).toMatchObject({ totalResults: 1, itemsPerPage: 1, startIndex: 1 });
    expect(found.Resources.map((r: { id: string; userName: string }) => [r.id, r.userName])).toEqual([[again.body.id, 'Frank@c.example']]);
    expect((await h.as('okta').delete(`/scim/v2/Users/${again.body.id}`)).status).toBe(204);
    expect(await page('okta', f('userName eq "frank@c.example"'))).toEqual({ schemas: [LIST], totalResults: 0, itemsPerPage: 0, startIndex: 1, Resources: [] });
  });

  test('a Location in each listed resource points at the resource', async () => {
    const res = await h.as('okta').get(`/scim/v2/Users?${f('userName eq "bob@b.example"')}`);
    expect(res.body.Resources[0].meta.location).toEqual(location(`/Users/${ids.Bob}`));
  });
});
