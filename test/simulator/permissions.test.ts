// Authorisation from Microsoft's permission table, directory roles, and where a user is mastered.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimulator, type RunningSimulator, type SeedObject } from '../../src/simulator';
import { graphClientFor, graphError, innerError } from './graph-client';
import { newUser } from './setup';

const DENIED = { code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.', innerError };
const ADMIN = '11111111-1111-4111-8111-111111111111';
const FORMER = '22222222-2222-4222-8222-222222222222';
const FED = '33333333-3333-4333-8333-333333333333';

const seed: SeedObject = {
  domains: [
    { name: 'contoso.com', isDefault: true },
    { name: 'fabrikam.com', type: 'Federated' },
  ],
  users: [
    {
      id: ADMIN,
      userPrincipalName: 'root@contoso.com',
      displayName: 'Root',
      accountEnabled: true,
      mailNickname: 'root',
      directoryRoles: ['Global Administrator'],
    },
    { id: FORMER, userPrincipalName: 'former@contoso.com', displayName: 'Former', accountEnabled: true, mailNickname: 'former', onPremisesSyncEnabled: false },
    { id: FED, userPrincipalName: 'fed@fabrikam.com', displayName: 'Fed', accountEnabled: true, mailNickname: 'fed', onPremisesImmutableId: 'ZmVk' },
  ],
};

const sims: RunningSimulator[] = [];
async function simWith(tenant: SeedObject['tenant'] = {}) {
  const sim = await startSimulator({ seed: { ...seed, tenant }, throttling: false, dataDir: mkdtempSync(join(tmpdir(), 'graph-sim-test-')) });
  sims.push(sim);
  return graphClientFor(sim);
}
afterAll(() => Promise.all(sims.map((s) => s.close())));

test('a route answers 403 unless a held permission grants its path and method', async () => {
  const client = await simWith({ roles: ['User.Read.All'] });
  expect((await client.api('/users').get()).value).toHaveLength(3);
  expect((await graphError(client.api('/users').post(newUser('adele@contoso.com')))).body.error).toEqual(DENIED);
  expect((await graphError(client.api('/groups').get())).body.error).toEqual(DENIED);
  // Directory.ReadWrite.All does not grant the tenant switch; Organization.ReadWrite.All does.
  const dir = await simWith({ roles: ['Directory.ReadWrite.All'] });
  const org = (await dir.api('/organization').get()).value[0];
  expect((await graphError(dir.api(`/organization/${org.id}`).patch({ onPremisesSyncEnabled: true }))).body.error).toEqual(DENIED);
});

test('property-scoped permissions write only their properties', async () => {
  const client = await simWith({ roles: ['User.Read.All', 'User-Phone.ReadWrite.All'] });
  await client.api(`/users/${FORMER}`).patch({ mobilePhone: '+1 555 0100' });
  expect((await graphError(client.api(`/users/${FORMER}`).patch({ mobilePhone: '+1 555 0101', jobTitle: 'Ops' }))).body.error).toEqual(DENIED);
});

test('sensitive actions on an administrator need Global or Privileged Authentication Administrator', async () => {
  const plain = await simWith({ roles: ['User.ReadWrite.All', 'User-PasswordProfile.ReadWrite.All'], directoryRoles: ['User Administrator'] });
  for (const body of [{ accountEnabled: false }, { otherMails: ['x@contoso.com'] }, { passwordProfile: { password: 'N3w-Passw0rd!x' } }])
    expect((await graphError(plain.api(`/users/${ADMIN}`).patch(body))).body.error).toEqual(DENIED);
  expect((await graphError(plain.api(`/users/${ADMIN}/revokeSignInSessions`).post({}))).body.error).toEqual(DENIED);
  await plain.api(`/users/${ADMIN}`).patch({ jobTitle: 'CTO' });
  const privileged = await simWith({ roles: ['User.ReadWrite.All'], directoryRoles: ['Privileged Authentication Administrator'] });
  await privileged.api(`/users/${ADMIN}`).patch({ accountEnabled: false });
});

test('role assignments are listed by principal', async () => {
  const client = await simWith({ roles: ['RoleManagement.Read.Directory'] });
  const res = await client.api('/roleManagement/directory/roleAssignments').filter(`principalId eq '${ADMIN}'`).get();
  expect(res.value).toEqual([
    {
      id: `62e90394-69f5-4237-9190-012177145e10_${ADMIN}`,
      principalId: ADMIN,
      roleDefinitionId: '62e90394-69f5-4237-9190-012177145e10',
      directoryScopeId: '/',
    },
  ]);
  expect((await client.api('/roleManagement/directory/roleAssignments').filter(`principalId eq '${FORMER}'`).get()).value).toEqual([]);
});

test('a formerly synced user keeps its Exchange custom attributes read-only; a federated user has no password to set', async () => {
  const client = await simWith({ roles: ['User.ReadWrite.All', 'User-PasswordProfile.ReadWrite.All'] });
  expect((await graphError(client.api(`/users/${FORMER}`).patch({ onPremisesExtensionAttributes: { extensionAttribute1: 'x' } }))).body.error).toEqual({
    code: 'Request_BadRequest',
    message: 'Unable to update the specified properties for objects that have originated within an external service.',
    innerError,
  });
  await client.api(`/users/${FORMER}`).patch({ displayName: 'Former Synced' });
  expect((await graphError(client.api(`/users/${FED}`).patch({ passwordProfile: { password: 'N3w-Passw0rd!x' } }))).status).toBe(400);
  await client.api(`/users/${FED}`).patch({ displayName: 'Fed User' });
});
