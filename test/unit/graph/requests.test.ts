// Request builders: relative URLs ready for $batch, Graph's documented bodies.
import { groupRequests, organizationRequests, userRequests } from '../../../src/graph/requests';

const BASE = 'https://graph.microsoft.com';

test('assignLicense body: addLicenses [{disabledPlans, skuId}] and removeLicenses [skuId]', () => {
  expect(userRequests.assignLicense('u1', { addLicenses: [{ disabledPlans: [], skuId: 'a' }], removeLicenses: ['b'] })).toEqual({
    method: 'POST',
    url: '/users/u1/assignLicense',
    body: { addLicenses: [{ disabledPlans: [], skuId: 'a' }], removeLicenses: ['b'] },
  });
});

test('manager $ref and revokeSignInSessions', () => {
  expect(userRequests.setManager(BASE, 'u1', 'm1')).toEqual({
    method: 'PUT',
    url: '/users/u1/manager/$ref',
    body: { '@odata.id': 'https://graph.microsoft.com/v1.0/directoryObjects/m1' },
  });
  expect(userRequests.removeManager('u1')).toEqual({ method: 'DELETE', url: '/users/u1/manager/$ref' });
  expect(userRequests.revokeSignInSessions('u1')).toEqual({ method: 'POST', url: '/users/u1/revokeSignInSessions' });
});

test('group members: one $ref, up to 20 by members@odata.bind, removal by $ref', () => {
  expect(groupRequests.addMember('https://sim.local:8443/', 'g1', 'u1')).toEqual({
    method: 'POST',
    url: '/groups/g1/members/$ref',
    body: { '@odata.id': 'https://sim.local:8443/v1.0/directoryObjects/u1' },
  });
  expect(groupRequests.addMembers(BASE, 'g1', ['u1', 'u2']).body).toEqual({
    'members@odata.bind': ['https://graph.microsoft.com/v1.0/directoryObjects/u1', 'https://graph.microsoft.com/v1.0/directoryObjects/u2'],
  });
  expect(() =>
    groupRequests.addMembers(
      BASE,
      'g1',
      Array.from({ length: 21 }, (_, i) => `u${i}`),
    ),
  ).toThrow(/at most 20/);
  expect(groupRequests.removeMember('g1', 'u1')).toEqual({ method: 'DELETE', url: '/groups/g1/members/u1/$ref' });
});

test('tenant switch (SPEC section 5)', () => {
  expect(organizationRequests.enableDirSync('org-1')).toEqual({ method: 'PATCH', url: '/organization/org-1', body: { onPremisesSyncEnabled: true } });
});

test('lookups quote OData strings', () => {
  const r = userRequests.findByImmutableId("a'b", ['id']);
  expect(decodeURIComponent(r.url)).toBe("/users?$filter=onPremisesImmutableId eq 'a''b'&$select=id");
});
