// The users the SCIM benchmark seeds and posts: one shape, as an IdP sends it, shared by the
// seeding, the POST load and both servers, so the bridge and the baseline store the same data.
export const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

export const benchUserName = (i: number | string) => `bench.user${i}@example.com`;

export function benchUser(i: number | string): Record<string, unknown> {
  const userName = benchUserName(i);
  // Attributes in the order the ingress stores them (src/scim/resource-input.ts canonicalOrder),
  // so that the baseline, which stores the body as it comes, stores the same bytes.
  return {
    schemas: [CORE_USER, ENTERPRISE],
    externalId: `ext-${i}`,
    userName,
    name: { formatted: `Bench User${i}`, familyName: `User${i}`, givenName: 'Bench' },
    displayName: `Bench User${i}`,
    title: 'Engineer',
    active: true,
    emails: [{ value: userName, type: 'work', primary: true }],
    [ENTERPRISE]: { employeeNumber: String(i), department: `dept-${Number(i) % 50 || 0}` },
  };
}
