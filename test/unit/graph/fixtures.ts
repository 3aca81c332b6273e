// A fully populated SCIM user (Okta-style payload with the enterprise and bridge extensions) and the
// translation context the engine would pass; shared by the translation and diff tests.
import type { ScimUser } from '../../../src/graph/mapping';
import type { TranslateUserContext } from '../../../src/graph/translate-user';

export const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const EXT = 'urn:ietf:params:scim:schemas:extension:graphbridge:2.0:User';
export const E3 = '6fd2c87f-b296-42f0-b197-1e91e994b900'; // ENTERPRISEPACK
export const E5 = 'c7df2760-2c81-4ef7-b578-5b5392b571df'; // ENTERPRISEPREMIUM
export const EMS = 'efccb6f7-5641-4e0e-bd10-b4976e1bf68e'; // EMS
export const GUID = '00112233-4455-6677-8899-aabbccddeeff';
export const GUID_IMMUTABLE_ID = 'MyIRAFVEd2aImaq7zN3u/w==';

export function fullUser(): ScimUser {
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', ENT, EXT],
    id: 'u-ada',
    userName: 'ada.lovelace@contoso.com',
    displayName: 'Ada Lovelace',
    name: { givenName: 'Ada', familyName: 'Lovelace' },
    title: 'Analyst',
    userType: 'Employee',
    preferredLanguage: 'en-GB',
    active: true,
    emails: [
      { value: 'ada@contoso.com', type: 'work', primary: true },
      { value: 'ada.home@example.org', type: 'other' },
    ],
    phoneNumbers: [
      { value: '+44 20 7946 0000', type: 'work' },
      { value: '+44 7700 900000', type: 'mobile' },
      { value: '+44 20 7946 0001', type: 'fax' },
    ],
    addresses: [{ type: 'work', streetAddress: '12 St James Sq', locality: 'London', region: 'Greater London', postalCode: 'SW1Y 4LB', country: 'GB' }],
    entitlements: [{ value: 'ENTERPRISEPACK' }],
    [ENT]: {
      employeeNumber: 'E1815',
      department: 'Engines',
      organization: 'Analytical Co',
      costCenter: 'CC-42',
      division: 'R&D',
      manager: { value: 'u-babbage' },
    },
    [EXT]: {
      sourceDirectory: 'corp.example.com',
      objectGUID: GUID,
      mailNickname: 'ada',
      usageLocation: 'gb',
      officeLocation: 'Room 101',
      employeeHireDate: '2024-01-15',
      extensionAttribute1: 'alpha',
      extensionAttribute15: 'omega',
    },
  };
}

export function ctx(overrides: Partial<TranslateUserContext> = {}): TranslateUserContext {
  return {
    resourceId: 'u-ada',
    sourceDirectories: [{ id: 'corp.example.com', type: 'ad', jit: false }],
    defaultsUsageLocation: 'US',
    federatedDomains: [],
    licenseSkus: { ENTERPRISEPACK: E3, ENTERPRISEPREMIUM: E5, EMS: EMS },
    ...overrides,
  };
}

export const BASIC_BODY = {
  userPrincipalName: 'ada.lovelace@contoso.com',
  displayName: 'Ada Lovelace',
  givenName: 'Ada',
  surname: 'Lovelace',
  accountEnabled: true,
  mailNickname: 'ada',
  usageLocation: 'GB',
  employeeHireDate: '2024-01-15T00:00:00Z',
};

export const EXTENDED_BODY = {
  jobTitle: 'Analyst',
  mail: 'ada@contoso.com',
  otherMails: ['ada.home@example.org'],
  businessPhones: ['+44 20 7946 0000'],
  mobilePhone: '+44 7700 900000',
  faxNumber: '+44 20 7946 0001',
  streetAddress: '12 St James Sq',
  city: 'London',
  state: 'Greater London',
  postalCode: 'SW1Y 4LB',
  country: 'GB',
  preferredLanguage: 'en-GB',
  employeeType: 'Employee',
  employeeId: 'E1815',
  department: 'Engines',
  companyName: 'Analytical Co',
  employeeOrgData: { costCenter: 'CC-42', division: 'R&D' },
  officeLocation: 'Room 101',
};

export const ALL_EXTENDED_BODY = {
  onPremisesExtensionAttributes: { extensionAttribute1: 'alpha', extensionAttribute15: 'omega' },
};

export const PASSWORD = 'Initial-Pass-123!';
export const fixedPassword = { generatePassword: () => 'Generated-Pass-1!' };
