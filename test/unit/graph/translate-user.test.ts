// SPEC section 2, cell by cell, for all four modes: what a user's creation writes, which attribute
// each mode writes on change (exact PATCH bodies), deactivation, licenses, immutableId, dirSyncEnabled.
import type { Mode } from '../../../src/config';
import { diffUser, emptySnapshot } from '../../../src/graph/diff';
import type { ScimUser } from '../../../src/graph/mapping';
import { translateUser } from '../../../src/graph/translate-user';
import { derivedImmutableId } from '../../../src/rules/identity';
import { ALL_EXTENDED_BODY, BASIC_BODY, E3, E5, EMS, ENT, EXT, EXTENDED_BODY, GUID_IMMUTABLE_ID, PASSWORD, ctx, fixedPassword, fullUser } from './fixtures';

const MODES: Mode[] = ['license-only', 'profile-sync', 'user-sync', 'universal-sync'];

function create(mode: Mode, user: ScimUser = fullUser(), c = ctx()) {
  return diffUser(translateUser(mode, user, c), null, mode, fixedPassword);
}

describe('create users in Graph', () => {
  test('license-only: never creates; only the license is planned (the engine matches first)', () => {
    const diff = create('license-only');
    expect(diff.create).toBeUndefined();
    expect(diff.patch).toBeUndefined();
    expect(diff.manager).toBeUndefined();
    expect(diff.licenses).toEqual({ addLicenses: [{ disabledPlans: [], skuId: E3 }], removeLicenses: [] });
  });

  test('profile-sync: POST /users with basic only (+ immutableId for the AD-linked user)', () => {
    const diff = create('profile-sync', { ...fullUser(), password: PASSWORD });
    expect(diff.create).toEqual({
      ...BASIC_BODY,
      onPremisesImmutableId: GUID_IMMUTABLE_ID,
      passwordProfile: { password: PASSWORD, forceChangePasswordNextSignIn: false },
    });
    expect(diff.manager).toBeUndefined();
    expect(diff.revoke).toBeUndefined();
  });

  test('user-sync: POST /users with basic + extended, manager as a separate $ref', () => {
    const diff = create('user-sync');
    expect(diff.create).toEqual({
      ...BASIC_BODY,
      ...EXTENDED_BODY,
      onPremisesImmutableId: GUID_IMMUTABLE_ID,
      passwordProfile: { password: 'Generated-Pass-1!', forceChangePasswordNextSignIn: false },
    });
    expect(diff.manager).toEqual({ set: 'u-babbage' });
    expect(diff.licenses).toEqual({ addLicenses: [{ disabledPlans: [], skuId: E3 }], removeLicenses: [] });
  });

  test('universal-sync: POST /users with basic + extended + onPremisesExtensionAttributes', () => {
    const diff = create('universal-sync');
    expect(diff.create).toEqual({
      ...BASIC_BODY,
      ...EXTENDED_BODY,
      ...ALL_EXTENDED_BODY,
      onPremisesImmutableId: GUID_IMMUTABLE_ID,
      passwordProfile: { password: 'Generated-Pass-1!', forceChangePasswordNextSignIn: false },
    });
    expect(diff.manager).toEqual({ set: 'u-babbage' });
  });

  test("a minimal user: Graph's required properties derived (displayName, mailNickname from userName, defaults.usageLocation)", () => {
    const diff = create('profile-sync', { userName: "Zoë O'Neil+test@contoso.com" }, ctx({ sourceDirectories: [] }));
    expect(diff.create).toEqual({
      userPrincipalName: "Zoë O'Neil+test@contoso.com",
      displayName: "Zoë O'Neil+test@contoso.com",
      accountEnabled: true,
      mailNickname: 'ZoeONeil+test',
      usageLocation: 'US',
      passwordProfile: { password: 'Generated-Pass-1!', forceChangePasswordNextSignIn: false },
    });
  });
});

// One row per attribute of SPEC section 2: a SCIM change, the exact PATCH it makes, and its set.
type Change = [label: string, set: 'basic' | 'extended' | 'allExtended', change: (u: ScimUser) => void, patch: Record<string, unknown>];
const ent = (u: ScimUser) => u[ENT] as Record<string, unknown>;
const ext = (u: ScimUser) => u[EXT] as Record<string, unknown>;

const CHANGES: Change[] = [
  [
    'userName',
    'basic',
    (u) => {
      u.userName = 'ada.king@contoso.com';
    },
    { userPrincipalName: 'ada.king@contoso.com' },
  ],
  [
    'displayName',
    'basic',
    (u) => {
      u.displayName = 'Ada King';
    },
    { displayName: 'Ada King' },
  ],
  [
    'name.givenName',
    'basic',
    (u) => {
      u.name = { ...u.name, givenName: 'Augusta' };
    },
    { givenName: 'Augusta' },
  ],
  [
    'name.familyName',
    'basic',
    (u) => {
      u.name = { ...u.name, familyName: 'King' };
    },
    { surname: 'King' },
  ],
  [
    'active',
    'basic',
    (u) => {
      u.active = 'False';
    },
    { accountEnabled: false },
  ],
  [
    'mailNickname',
    'basic',
    (u) => {
      ext(u).mailNickname = 'ada.k';
    },
    { mailNickname: 'ada.k' },
  ],
  [
    'usageLocation',
    'basic',
    (u) => {
      ext(u).usageLocation = 'FR';
    },
    { usageLocation: 'FR' },
  ],
  [
    'employeeHireDate',
    'basic',
    (u) => {
      ext(u).employeeHireDate = '2024-02-01T09:00:00Z';
    },
    { employeeHireDate: '2024-02-01T09:00:00Z' },
  ],
  [
    'title',
    'extended',
    (u) => {
      u.title = 'Lead Analyst';
    },
    { jobTitle: 'Lead Analyst' },
  ],
  [
    'emails[primary]',
    'extended',
    (u) => {
      u.emails![0].value = 'ada.king@contoso.com';
    },
    { mail: 'ada.king@contoso.com' },
  ],
  [
    'emails[other]',
    'extended',
    (u) => {
      u.emails!.push({ value: 'ada@example.net', type: 'other' });
    },
    { otherMails: ['ada.home@example.org', 'ada@example.net'] },
  ],
  [
    'phoneNumbers[work]',
    'extended',
    (u) => {
      u.phoneNumbers![0].value = '+44 20 0000 0000';
    },
    { businessPhones: ['+44 20 0000 0000'] },
  ],
  [
    'phoneNumbers[mobile]',
    'extended',
    (u) => {
      u.phoneNumbers![1].value = '+44 7700 000000';
    },
    { mobilePhone: '+44 7700 000000' },
  ],
  [
    'phoneNumbers[fax]',
    'extended',
    (u) => {
      u.phoneNumbers![2].value = '+44 20 0000 0001';
    },
    { faxNumber: '+44 20 0000 0001' },
  ],
  [
    'addresses[work].streetAddress',
    'extended',
    (u) => {
      u.addresses![0].streetAddress = '1 Main St';
    },
    { streetAddress: '1 Main St' },
  ],
  [
    'addresses[work].locality',
    'extended',
    (u) => {
      u.addresses![0].locality = 'Bath';
    },
    { city: 'Bath' },
  ],
  [
    'addresses[work].region',
    'extended',
    (u) => {
      u.addresses![0].region = 'Somerset';
    },
    { state: 'Somerset' },
  ],
  [
    'addresses[work].postalCode',
    'extended',
    (u) => {
      u.addresses![0].postalCode = 'BA1 1AA';
    },
    { postalCode: 'BA1 1AA' },
  ],
  [
    'addresses[work].country',
    'extended',
    (u) => {
      u.addresses![0].country = 'IE';
    },
    { country: 'IE' },
  ],
  [
    'preferredLanguage',
    'extended',
    (u) => {
      u.preferredLanguage = 'fr-FR';
    },
    { preferredLanguage: 'fr-FR' },
  ],
  [
    'userType',
    'extended',
    (u) => {
      u.userType = 'Contractor';
    },
    { employeeType: 'Contractor' },
  ],
  [
    'enterprise employeeNumber',
    'extended',
    (u) => {
      ent(u).employeeNumber = 'E1816';
    },
    { employeeId: 'E1816' },
  ],
  [
    'enterprise department',
    'extended',
    (u) => {
      ent(u).department = 'Looms';
    },
    { department: 'Looms' },
  ],
  [
    'enterprise organization',
    'extended',
    (u) => {
      ent(u).organization = 'Difference Ltd';
    },
    { companyName: 'Difference Ltd' },
  ],
  // employeeOrgData goes whole: a complex value in a PATCH may replace the stored one.
  [
    'enterprise costCenter',
    'extended',
    (u) => {
      ent(u).costCenter = 'CC-7';
    },
    { employeeOrgData: { costCenter: 'CC-7', division: 'R&D' } },
  ],
  [
    'enterprise division',
    'extended',
    (u) => {
      ent(u).division = 'Ops';
    },
    { employeeOrgData: { costCenter: 'CC-42', division: 'Ops' } },
  ],
  [
    'extension officeLocation',
    'extended',
    (u) => {
      ext(u).officeLocation = 'Room 102';
    },
    { officeLocation: 'Room 102' },
  ],
  ...Array.from({ length: 15 }, (_, i): Change => [
    `extension extensionAttribute${i + 1}`,
    'allExtended',
    (u) => {
      ext(u)[`extensionAttribute${i + 1}`] = `v${i + 1}`;
    },
    { onPremisesExtensionAttributes: { [`extensionAttribute${i + 1}`]: `v${i + 1}` } },
  ]),
];

const WRITES: Record<Mode, string[]> = {
  'license-only': [],
  'profile-sync': ['basic'],
  'user-sync': ['basic', 'extended'],
  'universal-sync': ['basic', 'extended', 'allExtended'],
};

describe.each(MODES)('attributes written on change in %s', (mode) => {
  test.each(CHANGES)('%s (%s)', (_label, set, change, patch) => {
    const before = translateUser(mode, fullUser(), ctx());
    const applied = diffUser(before, emptySnapshot(), mode).nextSnapshot;
    const user = fullUser();
    change(user);
    const diff = diffUser(translateUser(mode, user, ctx()), applied, mode);
    if (WRITES[mode].includes(set)) {
      expect(diff.patch).toEqual(patch);
    } else {
      expect(diff.patch).toBeUndefined();
      expect(diff.create).toBeUndefined();
    }
  });

  test('manager change: PUT manager/$ref only in user-sync and universal-sync', () => {
    const applied = diffUser(translateUser(mode, fullUser(), ctx()), emptySnapshot(), mode).nextSnapshot;
    const user = fullUser();
    ent(user).manager = { value: 'u-somerville' };
    const diff = diffUser(translateUser(mode, user, ctx()), applied, mode);
    expect(diff.manager).toEqual(WRITES[mode].includes('extended') ? { set: 'u-somerville' } : undefined);
    expect(diff.patch).toBeUndefined();
  });
});

describe('deactivate (active=false)', () => {
  test('license-only: removes the bridge-assigned licenses only', () => {
    const applied = { properties: {}, licenses: [E3] };
    const diff = diffUser(translateUser('license-only', { ...fullUser(), active: false }, ctx()), applied, 'license-only');
    expect(diff).toEqual({ licenses: { addLicenses: [], removeLicenses: [E3] }, nextSnapshot: { properties: {}, licenses: [] } });
  });

  test.each(['profile-sync', 'user-sync', 'universal-sync'] as const)('%s: accountEnabled=false + revoke, licenses kept', (mode) => {
    const applied = diffUser(translateUser(mode, fullUser(), ctx()), emptySnapshot(), mode).nextSnapshot;
    const diff = diffUser(translateUser(mode, { ...fullUser(), active: false }, ctx()), applied, mode);
    expect(diff.patch).toEqual({ accountEnabled: false });
    expect(diff.revoke).toBe(true);
    expect(diff.licenses).toBeUndefined();
    // The replay of the same deactivation writes nothing and revokes nothing.
    const again = diffUser(translateUser(mode, { ...fullUser(), active: false }, ctx()), diff.nextSnapshot, mode);
    expect(again.patch).toBeUndefined();
    expect(again.revoke).toBeUndefined();
  });

  test('reactivation enables without revoking', () => {
    const applied = diffUser(translateUser('user-sync', { ...fullUser(), active: false }, ctx()), emptySnapshot(), 'user-sync').nextSnapshot;
    const diff = diffUser(translateUser('user-sync', fullUser(), ctx()), applied, 'user-sync');
    expect(diff.patch).toEqual({ accountEnabled: true });
    expect(diff.revoke).toBeUndefined();
  });
});

describe('users marked dirSyncEnabled and onPremisesImmutableId', () => {
  const cloudUser = (): ScimUser => ({ userName: 'grace@contoso.com', displayName: 'Grace' });

  test.each([
    ['license-only', false],
    ['profile-sync', false],
    ['user-sync', true],
    ['universal-sync', true],
  ] as const)('%s: dirSyncEnabled %p whatever the source', (mode, expected) => {
    expect(translateUser(mode, fullUser(), ctx()).dirSyncEnabled).toBe(expected);
    expect(translateUser(mode, cloudUser(), ctx({ sourceDirectories: [] })).dirSyncEnabled).toBe(expected);
  });

  test('license-only never writes onPremisesImmutableId, yet matches by it', () => {
    const d = translateUser('license-only', fullUser(), ctx());
    expect(d.properties).toEqual({});
    expect(d.match).toEqual({ onPremisesImmutableId: GUID_IMMUTABLE_ID, userPrincipalName: 'ada.lovelace@contoso.com' });
  });

  test('profile-sync: AD-linked users and federated domains only', () => {
    expect(translateUser('profile-sync', cloudUser(), ctx({ sourceDirectories: [] })).properties.onPremisesImmutableId).toBeUndefined();
    expect(translateUser('profile-sync', fullUser(), ctx()).properties.onPremisesImmutableId).toBe(GUID_IMMUTABLE_ID);
    const federated = translateUser('profile-sync', cloudUser(), ctx({ resourceId: 'u-grace', sourceDirectories: [], federatedDomains: ['Contoso.com'] }));
    expect(federated.properties.onPremisesImmutableId).toBe(derivedImmutableId('u-grace'));
  });

  test.each(['user-sync', 'universal-sync'] as const)('%s: every user gets one', (mode) => {
    expect(translateUser(mode, cloudUser(), ctx({ resourceId: 'u-grace', sourceDirectories: [] })).properties.onPremisesImmutableId).toBe(
      derivedImmutableId('u-grace'),
    );
    const explicit = translateUser(mode, { ...cloudUser(), [EXT]: { immutableId: 'Z3JhY2U=' } }, ctx({ sourceDirectories: [] }));
    expect(explicit.properties.onPremisesImmutableId).toBe('Z3JhY2U=');
  });
});

describe('licenses from entitlements and groups', () => {
  test('part numbers (any case) and skuIds resolve; unknown values are reported, not guessed', () => {
    const user: ScimUser = { userName: 'a@contoso.com', entitlements: [{ value: 'enterprisepack' }, { value: E5.toUpperCase() }, { value: 'VISIOCLIENT' }] };
    const d = translateUser('profile-sync', user, ctx());
    expect(d.licenses).toEqual([E3, E5].sort());
    expect(d.unknownLicenses).toEqual(['VISIOCLIENT']);
  });

  test('group -> SKU mapping by group id or displayName', () => {
    const user: ScimUser = { userName: 'a@contoso.com', groups: [{ value: 'g-1', display: 'Security Team' }] };
    const d = translateUser('license-only', user, ctx({ groupLicenses: { 'security team': ['EMS'], 'g-2': ['ENTERPRISEPREMIUM'] } }));
    expect(d.licenses).toEqual([EMS]);
  });

  test('licenses.skus limits what may be assigned', () => {
    const user: ScimUser = { userName: 'a@contoso.com', entitlements: [{ value: 'ENTERPRISEPACK' }, { value: 'EMS' }] };
    const d = translateUser('license-only', user, ctx({ allowedSkus: ['ENTERPRISEPACK'] }));
    expect(d.licenses).toEqual([E3]);
    expect(d.unknownLicenses).toEqual(['EMS']);
  });
});

describe('password, Graph limits and on-premises mastered users', () => {
  test('password is carried only when present and only by modes that write basic', () => {
    expect(translateUser('profile-sync', { ...fullUser(), password: PASSWORD }, ctx()).password).toBe(PASSWORD);
    expect(translateUser('profile-sync', fullUser(), ctx({ pendingPassword: PASSWORD })).password).toBe(PASSWORD);
    expect(translateUser('profile-sync', fullUser(), ctx()).password).toBeUndefined();
    expect(translateUser('license-only', { ...fullUser(), password: PASSWORD }, ctx()).password).toBeUndefined();
  });

  test("values over Graph's maxLength are cut and reported", () => {
    const user = fullUser();
    (user[ENT] as Record<string, unknown>).employeeNumber = 'E'.repeat(20);
    const d = translateUser('user-sync', user, ctx());
    expect(d.properties.employeeId).toBe('E'.repeat(16));
    expect(d.warnings).toEqual(["employeeId cut to Graph's maximum of 16 characters"]);
  });

  test('a user Graph says is on-premises mastered gets licenses only', () => {
    const d = translateUser('profile-sync', fullUser(), ctx({ onPremisesMastered: true }));
    expect(d.licensesOnly).toBe(true);
    expect(d.properties).toEqual({});
    const diff = diffUser(d, emptySnapshot(), 'profile-sync');
    expect(diff.patch).toBeUndefined();
    expect(diff.licenses).toEqual({ addLicenses: [{ disabledPlans: [], skuId: E3 }], removeLicenses: [] });
  });
});
