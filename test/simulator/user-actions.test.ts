import { graphError, innerError } from './graph-client';
import { ALEX, E3, EXCHANGE, MEGAN, newUser, useSimulator } from './setup';

const h = useSimulator();

test('PUT and DELETE manager/$ref link and unlink a manager', async () => {
  const { id } = await h.client.api('/users').post(newUser('adele@contoso.com'));
  await h.client.api(`/users/${id}/manager/$ref`).put({ '@odata.id': `https://graph.microsoft.com/v1.0/users/${ALEX}` });
  expect(await h.client.api(`/users/${id}/manager`).select('id').get()).toMatchObject({
    '@odata.type': '#microsoft.graph.user',
    id: ALEX,
    userPrincipalName: 'alex.wilber@contoso.com',
  });
  expect(h.sim.state.snapshot().users.find((u) => u.id === id)!.manager).toBe(ALEX);
  await h.client.api(`/users/${id}/manager/$ref`).delete();
  expect((await graphError(h.client.api(`/users/${id}/manager`).get())).body.error).toEqual({
    code: 'Request_ResourceNotFound',
    message: "Resource 'manager' does not exist or one of its queried reference-property objects are not present.",
    innerError,
  });
  expect((await graphError(h.client.api(`/users/${id}/manager/$ref`).delete())).status).toBe(404);
  const missing = '00000000-0000-4000-8000-000000000000';
  expect(
    (await graphError(h.client.api(`/users/${id}/manager/$ref`).put({ '@odata.id': `${h.sim.url}/v1.0/directoryObjects/${missing}` }))).body.error.message,
  ).toBe(`Resource '${missing}' does not exist or one of its queried reference-property objects are not present.`);
});

test("assignLicense without a usageLocation is refused with Graph's message", async () => {
  expect(
    await graphError(h.client.api(`/users/${ALEX}/assignLicense`).post({ addLicenses: [{ skuId: EXCHANGE, disabledPlans: [] }], removeLicenses: [] })),
  ).toEqual({
    status: 400,
    headers: expect.anything(),
    body: { error: { code: 'Request_BadRequest', message: 'License assignment cannot be done for user with invalid usage location.', innerError } },
  });
});

test('assignLicense adds and removes seats and answers 200 with the user', async () => {
  await h.client.api(`/users/${ALEX}`).patch({ usageLocation: 'US' });
  const res = await h.client.api(`/users/${ALEX}/assignLicense`).post({ addLicenses: [{ skuId: E3, disabledPlans: [] }], removeLicenses: [] });
  expect(res).toMatchObject({ '@odata.context': `${h.sim.url}/v1.0/$metadata#users/$entity`, id: ALEX });
  const skus = await h.client.api('/subscribedSkus').get();
  expect(skus.value.find((s: { skuId: string }) => s.skuId === E3)).toMatchObject({
    consumedUnits: 2,
    prepaidUnits: { enabled: 2, suspended: 0, warning: 0, lockedOut: 0 },
    skuPartNumber: 'ENTERPRISEPACK',
  });
  await h.client.api(`/users/${ALEX}/assignLicense`).post({ addLicenses: [], removeLicenses: [E3] });
  expect((await h.client.api(`/users/${ALEX}`).select('assignedLicenses').get()).assignedLicenses).toEqual([]);
  expect(h.sim.state.snapshot().subscribedSkus.find((s) => s.skuId === E3)!.consumed).toBe(1);
});

test('assignLicense past the seats bought is a CountViolation', async () => {
  const { id } = await h.client.api('/users').post(newUser('adele@contoso.com', { usageLocation: 'US' }));
  await h.client.api(`/users/${ALEX}`).patch({ usageLocation: 'US' });
  await h.client.api(`/users/${ALEX}/assignLicense`).post({ addLicenses: [{ skuId: E3 }], removeLicenses: [] });
  const message = `Subscription with SKU ${E3} does not have any available licenses.`;
  expect((await graphError(h.client.api(`/users/${id}/assignLicense`).post({ addLicenses: [{ skuId: E3 }], removeLicenses: [] }))).body.error).toEqual({
    code: 'Request_BadRequest',
    message,
    details: [{ code: 'CountViolation', message, target: E3 }],
    innerError,
  });
  expect(h.sim.state.snapshot().users.find((u) => u.id === id)!.assignedLicenses).toEqual([]);
});

test('assignLicense refuses unknown SKUs, missing parameters and licenses the user lacks', async () => {
  await h.client.api(`/users/${ALEX}`).patch({ usageLocation: 'US' });
  const unknown = '11111111-2222-4333-8444-555555555555';
  expect(
    (await graphError(h.client.api(`/users/${ALEX}/assignLicense`).post({ addLicenses: [{ skuId: unknown }], removeLicenses: [] }))).body.error.message,
  ).toBe(`License ${unknown} does not correspond to a valid company License.`);
  expect((await graphError(h.client.api(`/users/${ALEX}/assignLicense`).post({ addLicenses: [{ skuId: E3 }] }))).body.error.details).toEqual([
    { code: 'PropertyRequired', message: 'Property value is required but is empty or missing.', target: 'removeLicenses' },
  ]);
  expect((await graphError(h.client.api(`/users/${ALEX}/assignLicense`).post({ addLicenses: [], removeLicenses: [EXCHANGE] }))).body.error.message).toBe(
    `User does not have a corresponding license for ${EXCHANGE}.`,
  );
});

test('licenses of a user mastered on-premises can still be assigned', async () => {
  await h.client.api(`/users/${MEGAN}/assignLicense`).post({ addLicenses: [{ skuId: EXCHANGE }], removeLicenses: [E3] });
  expect(h.sim.state.snapshot().users.find((u) => u.id === MEGAN)!.assignedLicenses).toEqual([{ skuId: EXCHANGE, disabledPlans: [] }]);
});

test('revokeSignInSessions answers 200 {"value":true} and moves signInSessionsValidFromDateTime to now', async () => {
  const before = Date.now() - 1000;
  const res = await h.client.api(`/users/${ALEX}/revokeSignInSessions`).post({});
  expect(res).toEqual({ '@odata.context': `${h.sim.url}/v1.0/$metadata#Edm.Boolean`, value: true });
  const { signInSessionsValidFromDateTime } = await h.client.api(`/users/${ALEX}`).select('signInSessionsValidFromDateTime').get();
  expect(signInSessionsValidFromDateTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  expect(Date.parse(signInSessionsValidFromDateTime)).toBeGreaterThanOrEqual(before);
});

test('DELETE is a soft delete that directory/deletedItems can restore', async () => {
  const { id } = await h.client.api('/users').post(newUser('adele@contoso.com', { usageLocation: 'US' }));
  await h.client.api(`/users/${id}/assignLicense`).post({ addLicenses: [{ skuId: EXCHANGE }], removeLicenses: [] });
  await h.client.api(`/users/${id}`).delete();
  expect(h.sim.state.snapshot().subscribedSkus.find((s) => s.skuId === EXCHANGE)!.consumed).toBe(0);
  const deleted = await h.client.api('/directory/deletedItems/microsoft.graph.user').get();
  expect(deleted.value).toEqual([
    expect.objectContaining({ '@odata.type': '#microsoft.graph.user', id, userPrincipalName: 'adele@contoso.com', deletedDateTime: expect.any(String) }),
  ]);
  const restored = await h.client.api(`/directory/deletedItems/${id}/restore`).post({});
  expect(restored).toMatchObject({ '@odata.context': `${h.sim.url}/v1.0/$metadata#directoryObjects/$entity`, id, deletedDateTime: null });
  expect((await h.client.api(`/users/${id}`).get()).userPrincipalName).toBe('adele@contoso.com');
  expect(h.sim.state.snapshot().subscribedSkus.find((s) => s.skuId === EXCHANGE)!.consumed).toBe(1);
});

test('restoring a user whose UPN was taken meanwhile is refused', async () => {
  const { id } = await h.client.api('/users').post(newUser('adele@contoso.com'));
  await h.client.api(`/users/${id}`).delete();
  await h.client.api('/users').post(newUser('adele@contoso.com'));
  expect((await graphError(h.client.api(`/directory/deletedItems/${id}/restore`).post({}))).body.error).toEqual({
    code: 'Request_BadRequest',
    message: 'A conflicting object with one or more of the specified property values is present in the directory.',
    details: [
      { code: 'ObjectConflict', message: 'Another object with the same value for property userPrincipalName already exists.', target: 'userPrincipalName' },
    ],
    innerError,
  });
});
