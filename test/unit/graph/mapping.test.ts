// The mapping table against Graph's published schema (schemas/graph-schemas.json): every target
// exists, none is read-only, maxLength matches the documented one, and each mode's sets are SPEC's.
import schemas from '../../../schemas/graph-schemas.json';
import { attributeSetsFor, managedGraphProperties, rowsFor, sanitizeMailNickname, userMapping } from '../../../src/graph/mapping';

type Property = { description?: string; $ref?: string; 'x-readOnlyPerDescription'?: boolean };
type Schema = { properties: Record<string, Property>; 'x-readOnlyPerDescription': string[] };
const all = (schemas as unknown as { schemas: Record<string, Schema> }).schemas;
const user = all['microsoft.graph.user'];

function target(path: string): Property | undefined {
  const [head, member] = path.split('.');
  const prop = user.properties[head];
  if (!member) return prop;
  const ref = prop?.$ref?.replace('#/schemas/', '');
  return ref ? all[ref]?.properties[member] : undefined;
}

function documentedMaxLength(prop: Property | undefined): number | undefined {
  const m = prop?.description?.match(/maximum length is ([\d,]+)|up to ([\d,]+) characters/i);
  const raw = m?.[1] ?? m?.[2];
  return raw ? Number(raw.replace(/,/g, '')) : undefined;
}

describe('mapping table vs microsoft.graph.user', () => {
  test.each(userMapping.map((r) => [r.graph, r]))("%s exists, is writable, and keeps Graph's maxLength", (_name, row) => {
    const prop = target(row.graph);
    expect(prop).toBeDefined();
    expect(user['x-readOnlyPerDescription']).not.toContain(row.graph.split('.')[0]);
    expect(prop?.['x-readOnlyPerDescription']).toBeFalsy();
    const documented = documentedMaxLength(prop) ?? (row.graph.startsWith('onPremisesExtensionAttributes.') ? 1024 : undefined);
    expect(row.maxLength).toBe(documented);
  });

  test('no Graph property is the target of two rows', () => {
    const targets = userMapping.map((r) => r.graph);
    expect(new Set(targets).size).toBe(targets.length);
  });

  test('onPremisesImmutableId, passwordProfile and the tenant switch stay outside the table (own rules)', () => {
    expect(userMapping.map((r) => r.graph)).not.toEqual(expect.arrayContaining(['onPremisesImmutableId']));
    expect(userMapping.map((r) => r.graph)).not.toEqual(expect.arrayContaining(['passwordProfile']));
  });
});

describe('attribute sets per mode (SPEC section 2)', () => {
  test('license-only none; profile-sync basic; user-sync basic+extended; universal-sync all', () => {
    expect(attributeSetsFor('license-only')).toEqual([]);
    expect(attributeSetsFor('profile-sync')).toEqual(['basic']);
    expect(attributeSetsFor('user-sync')).toEqual(['basic', 'extended']);
    expect(attributeSetsFor('universal-sync')).toEqual(['basic', 'extended', 'allExtended']);
  });

  test('basic is exactly the SPEC list', () => {
    expect(userMapping.filter((r) => r.set === 'basic').map((r) => `${r.scim}->${r.graph}`)).toEqual([
      'userName->userPrincipalName',
      'displayName->displayName',
      'name.givenName->givenName',
      'name.familyName->surname',
      'active->accountEnabled',
      'urn:ietf:params:scim:schemas:extension:graphbridge:2.0:User:mailNickname->mailNickname',
      'urn:ietf:params:scim:schemas:extension:graphbridge:2.0:User:usageLocation->usageLocation',
      'urn:ietf:params:scim:schemas:extension:graphbridge:2.0:User:employeeHireDate->employeeHireDate',
    ]);
  });

  test('extended is exactly the SPEC list', () => {
    expect(userMapping.filter((r) => r.set === 'extended').map((r) => r.graph)).toEqual([
      'jobTitle',
      'mail',
      'otherMails',
      'businessPhones',
      'mobilePhone',
      'faxNumber',
      'streetAddress',
      'city',
      'state',
      'postalCode',
      'country',
      'preferredLanguage',
      'employeeType',
      'employeeId',
      'department',
      'companyName',
      'employeeOrgData.costCenter',
      'employeeOrgData.division',
      'officeLocation',
    ]);
  });

  test('all extended is extensionAttribute1..15 -> onPremisesExtensionAttributes', () => {
    expect(userMapping.filter((r) => r.set === 'allExtended').map((r) => r.graph)).toEqual(
      Array.from({ length: 15 }, (_, i) => `onPremisesExtensionAttributes.extensionAttribute${i + 1}`),
    );
  });

  test('managed top-level properties grow with the mode, for $select and delta', () => {
    expect(managedGraphProperties('license-only')).toEqual([]);
    expect(managedGraphProperties('profile-sync')).toHaveLength(8);
    expect(managedGraphProperties('user-sync')).toContain('employeeOrgData');
    expect(managedGraphProperties('user-sync')).not.toContain('onPremisesExtensionAttributes');
    expect(managedGraphProperties('universal-sync')).toContain('onPremisesExtensionAttributes');
    expect(rowsFor('universal-sync')).toHaveLength(userMapping.length);
  });
});

describe('sanitizeMailNickname', () => {
  test.each([
    ['jane.doe', 'jane.doe'],
    ['Jöhn Smïth', 'JohnSmith'],
    ['a(b)c[d]e;f:g<h>i,j@k"l\\m/n\'o p', 'abcdefghijklmnop'],
    ['..lead..ing..', 'lead.ing'],
    ['x'.repeat(70), 'x'.repeat(64)],
    ['#ops+team_1~', '#ops+team_1~'],
    ['日本', ''],
  ])('%p -> %p', (input, expected) => {
    expect(sanitizeMailNickname(input)).toBe(expected);
  });
});
