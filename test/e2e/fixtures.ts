// SCIM users the mode tests push: a manager, a cloud user carrying every attribute of the three
// attribute sets, and an AD-linked user (objectGUID, pwdLastSet). A manager.value is the test's
// name for the manager ('u-boss'); the ingress helper sends it as the server's id.
import { BRIDGE_USER_SCHEMA } from '../../src/rules/identity';
import { CORE_USER, ENTERPRISE } from './ingress';

export const AD_GUID = '8d1f6b2e-3c4a-4f5b-9a7c-0e1d2c3b4a59';

export const boss = {
  schemas: [CORE_USER],
  userName: 'boss@example.com',
  displayName: 'Grace Boss',
  name: { givenName: 'Grace', familyName: 'Boss' },
  active: true,
  password: 'Boss-Passw0rd!x',
};

export const ada = {
  schemas: [CORE_USER, ENTERPRISE, BRIDGE_USER_SCHEMA],
  userName: 'ada@example.com',
  displayName: 'Ada Lovelace',
  name: { givenName: 'Ada', familyName: 'Lovelace' },
  active: true,
  password: 'Ada-Passw0rd!x',
  title: 'Engineer',
  preferredLanguage: 'en-US',
  userType: 'Employee',
  emails: [
    { value: 'ada@example.com', type: 'work', primary: true },
    { value: 'ada@home.example', type: 'other' },
  ],
  phoneNumbers: [
    { value: '+1 555 0100', type: 'work' },
    { value: '+1 555 0101', type: 'mobile' },
  ],
  addresses: [{ type: 'work', streetAddress: '1 Main St', locality: 'Springfield', region: 'IL', postalCode: '62701', country: 'US' }],
  entitlements: [{ value: 'ENTERPRISEPACK' }],
  [ENTERPRISE]: { employeeNumber: '1001', department: 'R&D', organization: 'Contoso', costCenter: 'CC1', division: 'DIV1', manager: { value: 'u-boss' } },
  [BRIDGE_USER_SCHEMA]: { extensionAttribute1: 'x1', officeLocation: 'B1' },
};

export const alan = {
  schemas: [CORE_USER, BRIDGE_USER_SCHEMA],
  userName: 'alan@example.com',
  displayName: 'Alan Turing',
  name: { givenName: 'Alan', familyName: 'Turing' },
  active: true,
  password: 'Alan-Passw0rd!x',
  [BRIDGE_USER_SCHEMA]: { sourceDirectory: 'corp.example.com', objectGUID: AD_GUID, pwdLastSet: '133000000000000000' },
};

export const AD_DIRECTORY = [{ id: 'corp.example.com', type: 'ad' as const }];

/** Ada without a manager: for tests where no manager exists in the tenant. */
export const adaAlone = { ...ada, [ENTERPRISE]: { ...ada[ENTERPRISE], manager: undefined } };

/** The API-driven inbound provisioning app the inbound-writer tests configure in the simulator. */
export const INBOUND_SP = '5c0f2a9e-1b7d-4c3e-8f60-2d9a4e7b1c05';
export const INBOUND_JOB = { entra: 'API2AAD.0f1e2d3c4b5a.5c0f2a9e', ad: 'API2AD.0f1e2d3c4b5a.5c0f2a9e' };
/**
 * That app processing and logging at once, its attribute list carrying the bridge extension's
 * usageLocation (docs/inbound-writer.md): the argument of sim.inbound.configure.
 */
export const quickInboundApp = (target: 'entra' | 'ad' = 'entra', extra: Record<string, unknown> = {}) => ({
  servicePrincipalId: INBOUND_SP,
  jobId: INBOUND_JOB[target],
  target,
  processingDelayMs: 0,
  logDelayMs: 0,
  mappings: { [`${BRIDGE_USER_SCHEMA}:usageLocation`]: 'usageLocation' },
  ...extra,
});
