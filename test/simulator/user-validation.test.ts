import { graphError, innerError } from './graph-client';
import { MEGAN, newUser, useSimulator } from './setup';

const h = useSimulator();
const post = (body: unknown) => graphError(h.client.api('/users').post(body));

test('a duplicate userPrincipalName is 400 Request_BadRequest with an ObjectConflict detail', async () => {
  expect(await post(newUser('Megan.Bowen@contoso.com'))).toEqual({
    status: 400,
    headers: expect.anything(),
    body: {
      error: {
        code: 'Request_BadRequest',
        message: 'Another object with the same value for property userPrincipalName already exists.',
        details: [{ code: 'ObjectConflict', target: 'userPrincipalName' }],
        innerError,
      },
    },
  });
});

test('each property required on create is refused when missing', async () => {
  for (const key of ['accountEnabled', 'displayName', 'mailNickname', 'passwordProfile', 'userPrincipalName']) {
    const body: Record<string, unknown> = newUser('adele@contoso.com');
    delete body[key];
    expect((await post(body)).body.error).toEqual({
      code: 'Request_BadRequest',
      message: 'Property value is required but is empty or missing.',
      details: [{ code: 'PropertyRequired', message: 'Property value is required but is empty or missing.', target: key }],
      innerError,
    });
  }
});

test('read-only and unknown properties are refused', async () => {
  expect((await post(newUser('adele@contoso.com', { onPremisesSyncEnabled: true }))).body.error).toEqual({
    code: 'Request_BadRequest',
    message: "Property 'onPremisesSyncEnabled' is read-only and cannot be set.",
    innerError,
  });
  expect((await post(newUser('adele@contoso.com', { signInSessionsValidFromDateTime: '2026-01-01T00:00:00Z' }))).body.error.message).toBe(
    "Property 'signInSessionsValidFromDateTime' is read-only and cannot be set.",
  );
  expect((await post(newUser('adele@contoso.com', { favouriteColour: 'blue' }))).body.error).toEqual({
    code: 'Request_BadRequest',
    message: "Invalid property 'favouriteColour'.",
    innerError,
  });
  expect((await post(newUser('adele@contoso.com', { manager: 'x' }))).body.error.message).toBe("Invalid property 'manager'.");
  expect((await post(newUser('adele@contoso.com', { passwordProfile: { password: 'xWwvJ]6NMw+bWH-d', expires: true } }))).body.error).toEqual({
    code: 'BadRequest',
    message:
      "The property 'expires' does not exist on type 'microsoft.graph.passwordProfile'. Make sure to only use property names that are defined by the type or mark the type as open type.",
    innerError,
  });
  expect((await post(newUser('adele@contoso.com', { accountEnabled: 'True' }))).body.error).toEqual({
    code: 'BadRequest',
    message: "Cannot convert the literal 'True' to the expected type 'Edm.Boolean'.",
    innerError,
  });
  // Off-contract on purpose: the contract check names each property Graph does not let an app write.
  expect(h.sim.contract.take()).toEqual(
    ['onPremisesSyncEnabled', 'signInSessionsValidFromDateTime', 'favouriteColour', 'manager'].map(
      (p) => `POST /users: property '${p}' is not writable on microsoft.graph.user`,
    ),
  );
});

test('value limits from the Graph property descriptions', async () => {
  const invalid = (name: string, code = 'InvalidValue') => ({
    code: 'Request_BadRequest',
    message: `Invalid value specified for property '${name}' of resource 'User'.`,
    details: [{ code, message: `Invalid value specified for property '${name}' of resource 'User'.`, target: name }],
    innerError,
  });
  expect((await post(newUser('adele@contoso.com', { employeeId: 'E'.repeat(17) }))).body.error).toEqual(invalid('employeeId', 'InvalidLength'));
  expect((await post(newUser('adele@contoso.com', { displayName: 'x'.repeat(257) }))).body.error).toEqual(invalid('displayName', 'InvalidLength'));
  expect((await post(newUser('adele@contoso.com', { mailNickname: 'adele vance' }))).body.error).toEqual(invalid('mailNickname'));
  expect((await post(newUser('adele@contoso.com', { usageLocation: 'usa' }))).body.error).toEqual(invalid('usageLocation'));
  expect((await post(newUser('adele@contoso.com', { businessPhones: ['1', '2'] }))).body.error).toEqual(invalid('businessPhones'));
  expect((await post(newUser('adele@contoso.com', { onPremisesImmutableId: 'a_b' }))).body.error).toEqual(invalid('onPremisesImmutableId'));
});

test('UPN characters and a verified domain are required', async () => {
  expect((await post(newUser('adele vance@contoso.com'))).body.error.message).toBe(
    "Invalid value specified for property 'userPrincipalName' of resource 'User'.",
  );
  expect((await post(newUser('.adele@contoso.com'))).body.error.message).toBe("Invalid value specified for property 'userPrincipalName' of resource 'User'.");
  expect((await post(newUser('adele@unverified.example'))).body.error).toEqual({
    code: 'Request_BadRequest',
    message: 'The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.',
    details: [
      {
        code: 'InvalidValue',
        message: 'The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.',
        target: 'userPrincipalName',
      },
    ],
    innerError,
  });
});

test('a federated domain needs onPremisesImmutableId on create', async () => {
  expect((await post(newUser('adele@fabrikam.com'))).body.error).toEqual({
    code: 'Request_BadRequest',
    message: 'One or more properties contains invalid values.',
    innerError,
  });
  const created = await h.client.api('/users').post(newUser('adele@fabrikam.com', { onPremisesImmutableId: 'AAECAwQFBgcICQoLDA0ODw==' }));
  expect(created.userPrincipalName).toBe('adele@fabrikam.com');
});

test('a weak password is refused with the complexity message', async () => {
  expect((await post(newUser('adele@contoso.com', { passwordProfile: { password: 'password' } }))).body.error).toEqual({
    code: 'Request_BadRequest',
    message: 'The specified password does not comply with password complexity requirements. Please provide a different password.',
    details: [{ code: 'InvalidValue', target: 'passwordProfile' }],
    innerError,
  });
});

test('writes to a user mastered on-premises are refused, usageLocation excepted', async () => {
  const message = 'Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.';
  expect((await graphError(h.client.api(`/users/${MEGAN}`).patch({ jobTitle: 'CEO' }))).body.error).toEqual({
    code: 'Request_BadRequest',
    message,
    innerError,
  });
  expect((await graphError(h.client.api(`/users/${MEGAN}`).patch({ onPremisesExtensionAttributes: { extensionAttribute1: 'x' } }))).body.error.message).toBe(
    message,
  );
  expect((await graphError(h.client.api(`/users/${MEGAN}`).delete())).body.error.message).toBe(message);
  expect((await graphError(h.client.api(`/users/${MEGAN}/manager/$ref`).put({ '@odata.id': `${h.sim.url}/v1.0/users/${MEGAN}` }))).status).toBe(400);
  await h.client.api(`/users/${MEGAN}`).patch({ usageLocation: 'GB' });
  expect((await h.client.api(`/users/${MEGAN}`).select('usageLocation,jobTitle').get()).usageLocation).toBe('GB');
});

test('PATCH applies only what it names and keeps UPN uniqueness', async () => {
  const { id } = await h.client.api('/users').post(newUser('adele@contoso.com'));
  expect((await graphError(h.client.api(`/users/${id}`).patch({ userPrincipalName: 'megan.bowen@contoso.com' }))).body.error.details).toEqual([
    { code: 'ObjectConflict', target: 'userPrincipalName' },
  ]);
  expect((await graphError(h.client.api(`/users/${id}`).patch({ displayName: null }))).body.error.message).toBe(
    "Invalid value specified for property 'displayName' of resource 'User'.",
  );
  await h.client.api(`/users/${id}`).patch({ userPrincipalName: 'adele.vance@contoso.com', mail: 'adele.vance@contoso.com' });
  const state = h.sim.state.snapshot().users.find((u) => u.id === id)!;
  expect(state).toMatchObject({
    userPrincipalName: 'adele.vance@contoso.com',
    mail: 'adele.vance@contoso.com',
    proxyAddresses: ['SMTP:adele.vance@contoso.com'],
    displayName: 'Adele Vance',
  });
});

test('a mail another user holds as a proxy address is an ObjectConflict on proxyAddresses', async () => {
  const message = 'Another object with the same value for property proxyAddresses already exists.';
  const { id } = await h.client.api('/users').post(newUser('adele@contoso.com', { mail: 'adele@contoso.com' }));
  expect((await post(newUser('adele2@contoso.com', { mailNickname: 'adele2', mail: 'ADELE@contoso.com' }))).body.error).toEqual({
    code: 'Request_BadRequest',
    message,
    details: [{ code: 'ObjectConflict', message, target: 'proxyAddresses' }],
    innerError,
  });
  const other = await h.client.api('/users').post(newUser('adele2@contoso.com', { mailNickname: 'adele2' }));
  expect((await graphError(h.client.api(`/users/${other.id}`).patch({ mail: 'adele@contoso.com' }))).body.error.details[0].target).toBe('proxyAddresses');
  await h.client.api(`/users/${id}`).patch({ mail: 'adele@contoso.com' });
  expect((await graphError(h.client.api(`/users/${id}`).patch({ mail: 'megan.bowen@contoso.com' }))).body.error.message).toBe(message);
});

test('a former mail stays held as a secondary proxy address; a deleted user frees its addresses, a restored one holds them again', async () => {
  const { id } = await h.client.api('/users').post(newUser('adele@contoso.com', { mail: 'adele@contoso.com' }));
  await h.client.api(`/users/${id}`).patch({ mail: 'adele.vance@contoso.com' });
  expect((await post(newUser('adele2@contoso.com', { mailNickname: 'adele2', mail: 'adele@contoso.com' }))).body.error.details[0].target).toBe(
    'proxyAddresses',
  );
  await h.client.api(`/users/${id}`).delete();
  const other = await h.client.api('/users').post(newUser('adele2@contoso.com', { mailNickname: 'adele2', mail: 'adele@contoso.com' }));
  await h.client.api(`/users/${other.id}`).delete();
  await h.client.api(`/directory/deletedItems/${id}/restore`).post({});
  expect((await post(newUser('adele3@contoso.com', { mailNickname: 'adele3', mail: 'Adele.Vance@contoso.com' }))).body.error.details[0].target).toBe(
    'proxyAddresses',
  );
});

test('onPremisesImmutableId is unique among users: on create, on update, and free again once its holder is deleted or changes it', async () => {
  const conflict = {
    status: 400,
    headers: expect.anything(),
    body: {
      error: {
        code: 'Request_BadRequest',
        message: 'Another object with the same value for property onPremisesImmutableId already exists.',
        details: [{ code: 'ObjectConflict', target: 'onPremisesImmutableId' }],
        innerError,
      },
    },
  };
  const first = await h.client.api('/users').post(newUser('adele@contoso.com', { onPremisesImmutableId: 'AAECAwQFBgcICQoLDA0ODw==' }));
  const other = await h.client.api('/users').post(newUser('dora@contoso.com'));
  expect(await post(newUser('bianca@contoso.com', { onPremisesImmutableId: 'AAECAwQFBgcICQoLDA0ODw==' }))).toEqual(conflict);
  expect(await graphError(h.client.api(`/users/${other.id}`).patch({ onPremisesImmutableId: 'AAECAwQFBgcICQoLDA0ODw==' }))).toEqual(conflict);
  // Its holder may keep it in an update, and it is compared as written (another case is another value).
  await h.client.api(`/users/${first.id}`).patch({ onPremisesImmutableId: 'AAECAwQFBgcICQoLDA0ODw==' });
  await h.client.api(`/users/${other.id}`).patch({ onPremisesImmutableId: 'aaecawqfbgcicqolda0odw==' });
  // Changed by its holder: the old value is free, the new one taken, and a filter finds the holder by the new one.
  await h.client.api(`/users/${first.id}`).patch({ onPremisesImmutableId: 'EBESExQVFhcYGRobHB0eHw==' });
  const bianca = await h.client.api('/users').post(newUser('bianca@contoso.com', { onPremisesImmutableId: 'AAECAwQFBgcICQoLDA0ODw==' }));
  expect(await post(newUser('carla@contoso.com', { onPremisesImmutableId: 'EBESExQVFhcYGRobHB0eHw==' }))).toEqual(conflict);
  const found = await h.client.api('/users').filter("onPremisesImmutableId in ('EBESExQVFhcYGRobHB0eHw==', 'aaecawqfbgcicqolda0odw==')").select('id').get();
  // A filter compares without regard to case: 'aaec...' finds both the lower-case holder and bianca.
  expect(found.value.map((u: { id: string }) => u.id).sort()).toEqual([first.id, other.id, bianca.id].sort());
  // Deleted: the value is free again.
  await h.client.api(`/users/${first.id}`).delete();
  expect((await h.client.api('/users').filter("onPremisesImmutableId eq 'EBESExQVFhcYGRobHB0eHw=='").select('id').get()).value).toEqual([]);
  await h.client.api('/users').post(newUser('carla@contoso.com', { onPremisesImmutableId: 'EBESExQVFhcYGRobHB0eHw==' }));
});
