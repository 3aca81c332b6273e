import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@microsoft/microsoft-graph-client';
import { startSimulator, type RunningSimulator } from '../../src/simulator';
import { graphClientFor, graphError, innerError } from './graph-client';

let sim: RunningSimulator;
let client: Client;

beforeAll(async () => {
  sim = await startSimulator({ dataDir: mkdtempSync(join(tmpdir(), 'sim-')), seed: { domains: [{ name: 'contoso.com' }, { name: 'contoso.onmicrosoft.com', isInitial: true }] } });
  client = graphClientFor(sim);
});
afterAll(() => sim.close());
beforeEach(() => sim.reset());

const newUser = (upn: string) => ({
  accountEnabled: true,
  displayName: 'Adele Vance',
  mailNickname: 'adele',
  userPrincipalName: upn,
  passwordProfile: { forceChangePasswordNextSignIn: true, password: 'xWwvJ]6NMw+bWH-d' },
});

test('POST /users creates a user and answers 201 with the default property set', async () => {
  const created = await client.api('/users').post(newUser('adele@contoso.com'));
  expect(created).toEqual({
    '@odata.context': `${sim.url}/v1.0/$metadata#users/$entity`,
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
  const read = await client.api(`/users/${created.id}`).select('accountEnabled,mailNickname,passwordProfile').get();
  expect(read).toEqual({
    '@odata.context': `${sim.url}/v1.0/$metadata#users(accountEnabled,mailNickname,passwordProfile)/$entity`,
    accountEnabled: true,
    mailNickname: 'adele',
    passwordProfile: null,
  });
});

test('GET, PATCH and DELETE /users/{userPrincipalName} address the same user as its id', async () => {
  const { id } = await client.api('/users').post(newUser('adele@contoso.com'));
  expect((await client.api('/users/ADELE@contoso.com').get()).id).toBe(id);
  expect(await client.api('/users/adele@contoso.com').patch({ jobTitle: 'Engineer' })).toBeUndefined();
  expect((await client.api(`/users/${id}`).get()).jobTitle).toBe('Engineer');
  await client.api('/users/adele@contoso.com').delete();
  expect(await graphError(client.api(`/users/${id}`).get())).toEqual({
    status: 404,
    headers: expect.anything(),
    body: { error: { code: 'Request_ResourceNotFound', message: `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`, innerError } },
  });
});
