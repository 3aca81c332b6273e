// Group-based licensing in the simulator: POST /groups/{id}/assignLicense answers 202 and members'
// licences are worked out later (asynchronously, in the order they were queued), with
// licenseAssignmentStates per user: Active, or Error with CountViolation when no seat is left.
import { ALEX, E3, newUser, useSimulator } from './setup';

const h = useSimulator({ licenseProcessingMs: 0 });

const states = async (id: string) => (await h.client.api(`/users/${id}`).select('assignedLicenses,licenseAssignmentStates').get()) as Record<string, unknown>;
const consumed = () => h.sim.state.snapshot().subscribedSkus.find((s) => s.skuId === E3)!.consumed;

test('a group licence reaches members asynchronously; the member past the seats bought gets CountViolation until reprocessed', async () => {
  await h.client.api(`/users/${ALEX}`).patch({ usageLocation: 'US' });
  const { id: adele } = await h.client.api('/users').post(newUser('adele@contoso.com', { usageLocation: 'US' }));
  const group = await h.client.api('/groups').post({ displayName: 'Licensed', mailNickname: 'licensed', mailEnabled: false, securityEnabled: true });
  await h.client.api(`/groups/${group.id}`).patch({ 'members@odata.bind': [ALEX, adele].map((m) => `https://graph.microsoft.com/v1.0/directoryObjects/${m}`) });
  // One of the two E3 seats is taken already (seeded): Alex, queued first, gets the other.
  expect(consumed()).toBe(1);
  const res = await h.client
    .api(`/groups/${group.id}/assignLicense`)
    .responseType('raw' as never)
    .post({ addLicenses: [{ skuId: E3, disabledPlans: [] }], removeLicenses: [] });
  expect((res as unknown as Response).status).toBe(202);
  const active = { skuId: E3, disabledPlans: [], assignedByGroup: group.id, state: 'Active', error: 'None', lastUpdatedDateTime: expect.any(String) };
  expect(await states(ALEX)).toMatchObject({ assignedLicenses: [{ disabledPlans: [], skuId: E3 }], licenseAssignmentStates: [active] });
  expect(await states(adele)).toMatchObject({ assignedLicenses: [], licenseAssignmentStates: [{ ...active, state: 'Error', error: 'CountViolation' }] });
  expect(consumed()).toBe(2);

  // Alex leaves: the licence and its seat go; Adele's error stays until she is reprocessed.
  await h.client.api(`/groups/${group.id}/members/${ALEX}/$ref`).delete();
  expect(await states(ALEX)).toMatchObject({ assignedLicenses: [], licenseAssignmentStates: [] });
  expect(consumed()).toBe(1);
  expect(await states(adele)).toMatchObject({ licenseAssignmentStates: [{ ...active, state: 'Error', error: 'CountViolation' }] });
  await h.client.api(`/users/${adele}/reprocessLicenseAssignment`).post({});
  expect(await states(adele)).toMatchObject({ assignedLicenses: [{ disabledPlans: [], skuId: E3 }], licenseAssignmentStates: [active] });
  expect(consumed()).toBe(2);
});

test('a user holding a licence directly and through a group takes one seat; only a security group takes a licence', async () => {
  await h.client.api(`/users/${ALEX}`).patch({ usageLocation: 'US' });
  await h.client.api(`/users/${ALEX}/assignLicense`).post({ addLicenses: [{ skuId: E3, disabledPlans: [] }], removeLicenses: [] });
  const group = await h.client.api('/groups').post({ displayName: 'Licensed', mailNickname: 'licensed', mailEnabled: false, securityEnabled: true });
  await h.client.api(`/groups/${group.id}/members/$ref`).post({ '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${ALEX}` });
  await h.client.api(`/groups/${group.id}/assignLicense`).post({ addLicenses: [{ skuId: E3, disabledPlans: [] }], removeLicenses: [] });
  expect(
    ((await states(ALEX)).licenseAssignmentStates as { assignedByGroup: string | null; state: string }[]).map((s) => [s.assignedByGroup, s.state]),
  ).toEqual([
    [null, 'Active'],
    [group.id, 'Active'],
  ]);
  expect(consumed()).toBe(2);
  await h.client.api(`/users/${ALEX}/assignLicense`).post({ addLicenses: [], removeLicenses: [E3] });
  expect((await states(ALEX)).assignedLicenses).toEqual([{ disabledPlans: [], skuId: E3 }]);
  expect(consumed()).toBe(2);
  const m365 = await h.client
    .api('/groups')
    .post({ displayName: 'Team', mailNickname: 'team', mailEnabled: true, securityEnabled: false, groupTypes: ['Unified'] });
  const refused = await h.client
    .api(`/groups/${m365.id}/assignLicense`)
    .post({ addLicenses: [{ skuId: E3, disabledPlans: [] }], removeLicenses: [] })
    .catch((e: { statusCode: number; message: string }) => e);
  expect(refused).toMatchObject({ statusCode: 400, message: 'Licenses can only be assigned to security enabled groups.' });
});
