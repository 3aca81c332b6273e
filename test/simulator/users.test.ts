import { graphError, innerError } from './graph-client';
import { ALEX, MEGAN, newUser, useSimulator } from './setup';

const h = useSimulator();

test('POST /users creates a user and answers 201 with the default property set', async () => {
  const created = await h.client.api('/users').post(newUser('adele@contoso.com'));
  expect(created).toEqual({
    '@odata.context': `${h.sim.url}/v1.0/$metadata#users/$entity`,
    id: expect.stringMatching(/^[0-9a-f-]{36}$/),
    businessPhones: [],
    displayName: 'Adele Vance',
    givenName: null,
    jobTitle: null,
    mail: null,
    mobilePhone: null,
    officeLocation: null,
    preferredLanguage: null,
    surname: null,
    userPrincipalName: 'adele@contoso.com',
  });
  const read = await h.client.api(`/users/${created.id}`).select('accountEnabled,mailNickname,passwordProfile').get();
  expect(read).toEqual({
    '@odata.context': `${h.sim.url}/v1.0/$metadata#users(accountEnabled,mailNickname,passwordProfile)/$entity`,
    accountEnabled: true,
    mailNickname: 'adele',
    passwordProfile: null,
  });
});

test('GET, PATCH and DELETE /users/{userPrincipalName} address the same user as its id', async () => {
  const { id } = await h.client.api('/users').post(newUser('adele@contoso.com'));
  expect((await h.client.api('/users/ADELE@contoso.com').get()).id).toBe(id);
  expect(await h.client.api('/users/adele@contoso.com').patch({ jobTitle: 'Engineer' })).toBeUndefined();
  expect((await h.client.api(`/users/${id}`).get()).jobTitle).toBe('Engineer');
  await h.client.api('/users/adele@contoso.com').delete();
  expect(await graphError(h.client.api(`/users/${id}`).get())).toEqual({
    status: 404,
    headers: expect.anything(),
    body: {
      error: {
        code: 'Request_ResourceNotFound',
        message: `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
        innerError,
      },
    },
  });
});

test('GET /users filters with eq, startswith and in on the properties the bridge matches by', async () => {
  const byUpn = await h.client.api('/users').filter("userPrincipalName eq 'MEGAN.BOWEN@contoso.com'").select('id').get();
  expect(byUpn).toEqual({ '@odata.context': `${h.sim.url}/v1.0/$metadata#users(id)`, value: [{ id: MEGAN }] });
  const byImmutable = await h.client.api('/users').filter("onPremisesImmutableId eq 'kXlQ0o1BEEKtjHjGXrQ0Ow=='").select('id').get();
  expect(byImmutable.value).toEqual([{ id: MEGAN }]);
  const byEmployee = await h.client.api('/users').filter("employeeId in ('E1002','E9999')").select('id,employeeId').get();
  expect(byEmployee.value).toEqual([{ id: ALEX, employeeId: 'E1002' }]);
  const byMail = await h.client.api('/users').filter("startswith(mail,'megan')").select('id').get();
  expect(byMail.value).toEqual([{ id: MEGAN }]);
  const byId = await h.client.api('/users').filter(`id in ('${MEGAN.toUpperCase()}', '${ALEX}', '00000000-0000-0000-0000-000000000000')`).select('id').get();
  expect(byId.value.map((u: { id: string }) => u.id).sort()).toEqual([ALEX, MEGAN].sort());
  const byIdAndMore = await h.client.api('/users').filter(`id in ('${MEGAN}', '${ALEX}') and employeeId eq 'E1002'`).select('id').get();
  expect(byIdAndMore.value).toEqual([{ id: ALEX }]);
});

test('a UPN lookup (eq, in, and with another clause) finds each user once, case-insensitively, and still applies the whole filter', async () => {
  const inList = await h.client
    .api('/users')
    .filter("userPrincipalName in ('MEGAN.BOWEN@contoso.com','megan.bowen@contoso.com','nobody@contoso.com')")
    .select('id')
    .get();
  expect(inList.value).toEqual([{ id: MEGAN }]);
  const both = await h.client.api('/users').filter("userPrincipalName eq 'megan.bowen@contoso.com' and employeeId eq 'E9999'").select('id').get();
  expect(both.value).toEqual([]);
  const either = await h.client.api('/users').filter("userPrincipalName eq 'megan.bowen@contoso.com' or employeeId eq 'E1002'").select('id').get();
  expect(either.value.map((u: { id: string }) => u.id).sort()).toEqual([ALEX, MEGAN].sort());
});

test('GET /users rejects filters Graph does not support without advanced query headers', async () => {
  expect((await graphError(h.client.api('/users').filter("employeeId ne 'E1'").get())).body.error).toEqual({
    code: 'Request_UnsupportedQuery',
    message: "Unsupported or invalid query filter clause specified for property 'employeeId' of resource 'User'.",
    innerError,
  });
  expect((await graphError(h.client.api('/users').filter("aboutMe eq 'x'").get())).body.error.code).toBe('Request_UnsupportedQuery');
  expect((await graphError(h.client.api('/users').filter("nosuch eq 'x'").get())).body.error).toEqual({
    code: 'BadRequest',
    message: "Could not find a property named 'nosuch' on type 'microsoft.graph.user'.",
    innerError,
  });
  expect((await graphError(h.client.api('/users').select('nosuch').get())).body.error.message).toBe(
    "Could not find a property named 'nosuch' on type 'microsoft.graph.user'.",
  );
});

test('$count needs ConsistencyLevel: eventual, as on real Graph', async () => {
  expect((await graphError(h.client.api('/users').query({ $count: 'true' }).get())).body.error).toEqual({
    code: 'Request_BadRequest',
    message: '$count is not currently supported.',
    innerError,
  });
  const counted = await h.client.api('/users').header('ConsistencyLevel', 'eventual').count(true).filter("employeeId ne 'E1001'").select('id').get();
  expect(counted['@odata.count']).toBe(1);
  expect(counted.value).toEqual([{ id: ALEX }]);
});

test('$top pages with @odata.nextLink until the last page', async () => {
  for (let i = 0; i < 5; i++) await h.client.api('/users').post(newUser(`u${i}@contoso.com`, { mailNickname: `u${i}` }));
  const seen: string[] = [];
  let page = await h.client.api('/users').top(3).select('userPrincipalName').get();
  expect(page['@odata.nextLink']).toMatch(new RegExp(`^${h.sim.url}/v1.0/users\\?.*\\$skiptoken=`));
  for (;;) {
    seen.push(...page.value.map((u: { userPrincipalName: string }) => u.userPrincipalName));
    if (!page['@odata.nextLink']) break;
    page = await h.client.api(page['@odata.nextLink']).get();
  }
  expect(seen).toHaveLength(7);
  expect(new Set(seen).size).toBe(7);
  expect((await graphError(h.client.api('/users').top(1000).get())).body.error.message).toBe(
    "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive.",
  );
});
