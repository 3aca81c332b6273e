import { readFileSync } from 'node:fs';
import { graphError, innerError } from './graph-client';
import { FIXTURE, useSimulator } from './setup';

// GET /organization/{id} is granted to User.Read.All (not to Organization.*) by Microsoft's permission table.
const seed = JSON.parse(readFileSync(FIXTURE, 'utf8'));
const h = useSimulator({
  seed: { ...seed, tenant: { ...seed.tenant, roles: ['User.Read.All', 'Organization.ReadWrite.All', 'Device.Read.All', 'LicenseAssignment.Read.All'] } },
});

test('GET /organization shows the seeded dirsync state and verified domains', async () => {
  const org = await h.client.api('/organization').get();
  expect(org['@odata.context']).toBe(`${h.sim.url}/v1.0/$metadata#organization`);
  expect(org.value).toHaveLength(1);
  expect(org.value[0]).toMatchObject({
    id: h.sim.tenantId,
    displayName: 'Contoso',
    onPremisesSyncEnabled: true,
    onPremisesLastSyncDateTime: '2026-11-26T10:00:00Z',
    verifiedDomains: [
      { capabilities: 'Email, OfficeCommunicationsOnline', isDefault: false, isInitial: true, name: 'contoso.onmicrosoft.com', type: 'Managed' },
      { capabilities: 'Email, OfficeCommunicationsOnline', isDefault: true, isInitial: false, name: 'contoso.com', type: 'Managed' },
      { capabilities: 'Email, OfficeCommunicationsOnline', isDefault: false, isInitial: false, name: 'fabrikam.com', type: 'Federated' },
    ],
  });
});

test('PATCH /organization/{id} sets onPremisesSyncEnabled and refuses what the API does not update', async () => {
  await h.client.api(`/organization/${h.sim.tenantId}`).patch({ onPremisesSyncEnabled: false });
  expect((await h.client.api(`/organization/${h.sim.tenantId}`).get()).onPremisesSyncEnabled).toBe(false);
  expect((await graphError(h.client.api(`/organization/${h.sim.tenantId}`).patch({ onPremisesLastSyncDateTime: '2026-01-01T00:00:00Z' }))).body.error).toEqual({
    code: 'Request_BadRequest',
    message: "Property 'onPremisesLastSyncDateTime' is read-only and cannot be set.",
    innerError,
  });
  expect((await graphError(h.client.api('/organization/00000000-0000-4000-8000-000000000000').get())).status).toBe(404);
  expect(h.sim.contract.take()).toEqual([
    `PATCH /organization/${h.sim.tenantId}: property 'onPremisesLastSyncDateTime' is not writable on microsoft.graph.organization`,
  ]);
});

test("GET /devices?$filter=trustType eq 'ServerAd' finds hybrid-joined devices", async () => {
  const res = await h.client.api('/devices').filter("trustType eq 'ServerAd'").select('id,displayName,trustType').get();
  expect(res).toEqual({
    '@odata.context': `${h.sim.url}/v1.0/$metadata#devices`,
    value: [{ id: '1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9', displayName: 'WS-0042', trustType: 'ServerAd' }],
  });
});

test('GET /subscribedSkus lists seats bought and consumed', async () => {
  const res = await h.client.api('/subscribedSkus').get();
  expect(res.value).toEqual([
    {
      accountName: 'Contoso',
      accountId: h.sim.tenantId,
      appliesTo: 'User',
      capabilityStatus: 'Enabled',
      consumedUnits: 1,
      id: `${h.sim.tenantId}_6fd2c87f-b296-42f0-b197-1e91e994b900`,
      skuId: '6fd2c87f-b296-42f0-b197-1e91e994b900',
      skuPartNumber: 'ENTERPRISEPACK',
      subscriptionIds: [],
      prepaidUnits: { enabled: 2, suspended: 0, warning: 0, lockedOut: 0 },
      servicePlans: [
        { servicePlanId: 'efb87545-963c-4e0d-99df-69c6916d9eb0', servicePlanName: 'EXCHANGE_S_ENTERPRISE', provisioningStatus: 'Success', appliesTo: 'User' },
      ],
    },
    expect.objectContaining({ skuPartNumber: 'EXCHANGESTANDARD', consumedUnits: 0, prepaidUnits: { enabled: 5, suspended: 0, warning: 0, lockedOut: 0 } }),
  ]);
});

test('an unknown first segment is "Resource not found for the segment"', async () => {
  expect((await graphError(h.client.api('/nosuch').get())).body.error).toEqual({
    code: 'BadRequest',
    message: "Resource not found for the segment 'nosuch'.",
    innerError,
  });
  expect(h.sim.contract.take()).toEqual(['GET /nosuch: no such path in Graph v1.0 for an Application permission']);
});
