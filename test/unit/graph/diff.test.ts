// diffUser: the minimal Graph writes between the applied snapshot and the desired state.
import { diffUser, driftedProperties, emptySnapshot, graphUserProperties, type AppliedUserSnapshot } from '../../../src/graph/diff';
import type { ScimUser } from '../../../src/graph/mapping';
import { translateUser } from '../../../src/graph/translate-user';
import { E3, E5, EMS, ENT, EXT, PASSWORD, ctx, fixedPassword, fullUser } from './fixtures';

function applied(mode: Parameters<typeof translateUser>[0], user: ScimUser = fullUser()): AppliedUserSnapshot {
  return diffUser(translateUser(mode, user, ctx()), null, mode, fixedPassword).nextSnapshot;
}

describe('no-op and coalescing', () => {
  test.each(['license-only', 'profile-sync', 'user-sync', 'universal-sync'] as const)('%s: the same user again -> no write at all', (mode) => {
    const snapshot = mode === 'license-only' ? { properties: {}, licenses: [E3] } : applied(mode);
    const diff = diffUser(translateUser(mode, fullUser(), ctx()), snapshot, mode);
    expect(diff).toEqual({ nextSnapshot: snapshot });
  });

  test('five queued updates of one user -> one PATCH body with the five properties', () => {
    const user = fullUser();
    user.title = 'Principal';
    user.displayName = 'Countess Lovelace';
    (user[ENT] as Record<string, unknown>).department = 'Difference Engines';
    user.phoneNumbers![1].value = '+44 7700 111111';
    (user[EXT] as Record<string, unknown>).officeLocation = 'Room 7';
    const diff = diffUser(translateUser('user-sync', user, ctx()), applied('user-sync'), 'user-sync');
    expect(diff).toEqual({
      patch: {
        displayName: 'Countess Lovelace',
        jobTitle: 'Principal',
        mobilePhone: '+44 7700 111111',
        department: 'Difference Engines',
        officeLocation: 'Room 7',
      },
      nextSnapshot: expect.any(Object),
    });
    // Applying it leaves nothing to do.
    expect(diffUser(translateUser('user-sync', user, ctx()), diff.nextSnapshot, 'user-sync')).toEqual({ nextSnapshot: expect.any(Object) });
  });

  test('the nextSnapshot never holds a password', () => {
    const diff = diffUser(translateUser('profile-sync', { ...fullUser(), password: PASSWORD }, ctx()), null, 'profile-sync');
    expect(JSON.stringify(diff.nextSnapshot)).not.toContain(PASSWORD);
  });
});

describe('clearing', () => {
  test('an attribute SCIM drops is cleared with null, a collection with []', () => {
    const user = fullUser();
    delete user.title;
    user.emails = user.emails!.filter((e) => e.type !== 'other');
    user.phoneNumbers = user.phoneNumbers!.filter((p) => p.type !== 'work');
    delete (user[ENT] as Record<string, unknown>).division;
    delete (user[EXT] as Record<string, unknown>).extensionAttribute15;
    const diff = diffUser(translateUser('universal-sync', user, ctx()), applied('universal-sync'), 'universal-sync');
    expect(diff.patch).toEqual({
      jobTitle: null,
      otherMails: [],
      businessPhones: [],
      employeeOrgData: { costCenter: 'CC-42', division: null },
      onPremisesExtensionAttributes: { extensionAttribute15: null },
    });
  });

  test('displayName, usageLocation and mailNickname are never cleared (Graph refuses)', () => {
    const user = fullUser();
    delete (user[EXT] as Record<string, unknown>).usageLocation;
    const diff = diffUser(translateUser('profile-sync', user, ctx({ defaultsUsageLocation: undefined })), applied('profile-sync'), 'profile-sync');
    expect(diff.patch).toBeUndefined();
  });

  test('a matched user: absent attributes are not written as null (nothing the bridge wrote to clear)', () => {
    const diff = diffUser(
      translateUser('user-sync', { userName: 'grace@contoso.com', displayName: 'Grace' }, ctx({ sourceDirectories: [] })),
      emptySnapshot(),
      'user-sync',
    );
    expect(Object.values(diff.patch!).some((v) => v === null || (Array.isArray(v) && v.length === 0))).toBe(false);
  });
});

describe('a mode never touches attributes outside its set', () => {
  test('after moving down from universal-sync to profile-sync, extended values are left alone', () => {
    const snapshot = applied('universal-sync');
    const user = fullUser();
    user.title = "Changed but not profile-sync's to write";
    user.displayName = 'Ada K';
    const diff = diffUser(translateUser('profile-sync', user, ctx()), snapshot, 'profile-sync');
    expect(diff.patch).toEqual({ displayName: 'Ada K' });
    expect(diff.manager).toBeUndefined();
    // The snapshot keeps what universal-sync wrote.
    expect(diff.nextSnapshot.properties.jobTitle).toBe('Analyst');
    expect(diff.nextSnapshot.manager).toBe('u-babbage');
  });

  test('license-only on a previously profile-synced user writes licenses only', () => {
    const user = { ...fullUser(), displayName: 'Someone Else', entitlements: [{ value: 'EMS' }] };
    const diff = diffUser(translateUser('license-only', user, ctx()), applied('profile-sync'), 'license-only');
    expect(diff.patch).toBeUndefined();
    expect(diff.licenses).toEqual({ addLicenses: [{ disabledPlans: [], skuId: EMS }], removeLicenses: [E3] });
  });
});

describe('drift revert (user-sync, universal-sync)', () => {
  test("a snapshot carrying a value edited in Entra yields the PATCH that restores the source's value", () => {
    const snapshot = applied('user-sync');
    const drifted = {
      ...snapshot,
      properties: { ...snapshot.properties, jobTitle: 'Edited in portal', employeeOrgData: { costCenter: 'X', division: 'R&D' } },
    };
    const diff = diffUser(translateUser('user-sync', fullUser(), ctx()), drifted, 'user-sync');
    expect(diff.patch).toEqual({ jobTitle: 'Analyst', employeeOrgData: { costCenter: 'CC-42', division: 'R&D' } });
  });
});

describe('licenses (assignLicense diffs)', () => {
  test('adds what is new, removes only what the bridge assigned', () => {
    const user = { ...fullUser(), entitlements: [{ value: 'ENTERPRISEPREMIUM' }, { value: 'EMS' }] };
    const snapshot = { ...applied('user-sync'), licenses: [E3, EMS] };
    const diff = diffUser(translateUser('user-sync', user, ctx()), snapshot, 'user-sync');
    expect(diff.licenses).toEqual({ addLicenses: [{ disabledPlans: [], skuId: E5 }], removeLicenses: [E3] });
    expect(diff.nextSnapshot.licenses).toEqual([E5, EMS].sort());
  });

  test('a license someone else assigned (not in the snapshot) is never removed', () => {
    const user = { ...fullUser(), entitlements: [] };
    const diff = diffUser(translateUser('profile-sync', user, ctx()), { ...applied('profile-sync'), licenses: [] }, 'profile-sync');
    expect(diff.licenses).toBeUndefined();
  });
});

describe('manager', () => {
  test('removed in SCIM -> DELETE manager/$ref once', () => {
    const user = fullUser();
    delete (user[ENT] as Record<string, unknown>).manager;
    const diff = diffUser(translateUser('user-sync', user, ctx()), applied('user-sync'), 'user-sync');
    expect(diff.manager).toEqual({ remove: true });
    expect(diff.nextSnapshot.manager).toBeNull();
    expect(diffUser(translateUser('user-sync', user, ctx()), diff.nextSnapshot, 'user-sync').manager).toBeUndefined();
  });

  test('a bare-string manager (Entra PATCH) is read as the id', () => {
    const user = fullUser();
    (user[ENT] as Record<string, unknown>).manager = 'u-somerville';
    expect(translateUser('user-sync', user, ctx()).manager).toBe('u-somerville');
  });

  test("the manager's Graph id is carried while the manager stays the same", () => {
    const snapshot = { ...applied('user-sync'), managerGraphId: 'graph-babbage' };
    expect(diffUser(translateUser('user-sync', fullUser(), ctx()), snapshot, 'user-sync').nextSnapshot.managerGraphId).toBe('graph-babbage');
    const user = fullUser();
    (user[ENT] as Record<string, unknown>).manager = { value: 'u-other' };
    expect(diffUser(translateUser('user-sync', user, ctx()), snapshot, 'user-sync').nextSnapshot.managerGraphId).toBeUndefined();
  });
});

describe('password and token validity (SPEC section 4)', () => {
  test('profile-sync password change: PATCH passwordProfile and revoke once', () => {
    const snapshot = applied('profile-sync');
    const desired = translateUser('profile-sync', fullUser(), ctx({ pendingPassword: 'New-Pass-456!', tokensValidFrom: '2025-03-01T12:00:00.000Z' }));
    const diff = diffUser(desired, snapshot, 'profile-sync');
    expect(diff.patch).toEqual({ passwordProfile: { password: 'New-Pass-456!', forceChangePasswordNextSignIn: false } });
    expect(diff.revoke).toBe(true);
    expect(diff.nextSnapshot.tokensValidFrom).toBe('2025-03-01T12:00:00.000Z');
    // Applied; the same tokensValidFrom replayed revokes nothing.
    const replay = diffUser(translateUser('profile-sync', fullUser(), ctx({ tokensValidFrom: '2025-03-01T12:00:00.000Z' })), diff.nextSnapshot, 'profile-sync');
    expect(replay).toEqual({ nextSnapshot: expect.any(Object) });
  });

  test('an older tokensValidFrom (out-of-order pwdLastSet) revokes nothing and keeps the later value', () => {
    const snapshot = { ...applied('universal-sync'), tokensValidFrom: '2025-03-01T12:00:00.000Z' };
    const diff = diffUser(translateUser('universal-sync', fullUser(), ctx({ tokensValidFrom: '2024-12-31T00:00:00.000Z' })), snapshot, 'universal-sync');
    expect(diff.revoke).toBeUndefined();
    expect(diff.nextSnapshot.tokensValidFrom).toBe('2025-03-01T12:00:00.000Z');
  });

  test('license-only still revokes when tokensValidFrom advances (token validity "now")', () => {
    const diff = diffUser(
      translateUser('license-only', fullUser(), ctx({ tokensValidFrom: '2025-03-01T12:00:00.000Z' })),
      { properties: {}, licenses: [E3] },
      'license-only',
    );
    expect(diff).toEqual({ revoke: true, nextSnapshot: { properties: {}, licenses: [E3], tokensValidFrom: '2025-03-01T12:00:00.000Z' } });
  });

  test('creation is not a password change: no revoke on create', () => {
    const diff = diffUser(translateUser('user-sync', fullUser(), ctx({ tokensValidFrom: '2025-03-01T12:00:00.000Z' })), null, 'user-sync', fixedPassword);
    expect(diff.create).toBeDefined();
    expect(diff.revoke).toBeUndefined();
  });
});

describe('drift helpers', () => {
  test('driftedProperties names what Graph holds differently from the applied snapshot', async () => {
    const snapshot = applied('user-sync');
    const graphUser = {
      id: 'g1',
      ...snapshot.properties,
      jobTitle: 'Edited in portal',
      employeeOrgData: null,
      faxNumber: null,
      otherMails: ['ada.home@example.org'],
      signInActivity: { lastSignInDateTime: 'x' },
    };
    expect(driftedProperties(snapshot, graphUser, 'user-sync').sort()).toEqual([
      'employeeOrgData.costCenter',
      'employeeOrgData.division',
      'faxNumber',
      'jobTitle',
    ]);
    expect(graphUserProperties(graphUser, 'user-sync')).not.toHaveProperty('signInActivity');
    // The diff against Graph's values is the revert.
    const revert = diffUser(
      translateUser('user-sync', fullUser(), ctx()),
      { ...snapshot, properties: graphUserProperties(graphUser, 'user-sync') },
      'user-sync',
    );
    expect(revert.patch).toEqual({ jobTitle: 'Analyst', faxNumber: '+44 20 7946 0001', employeeOrgData: { costCenter: 'CC-42', division: 'R&D' } });
  });

  test('with pendingPassword in ctx, a password left on the stored resource is not re-sent', () => {
    const d = translateUser('profile-sync', { ...fullUser(), password: PASSWORD }, ctx({ pendingPassword: undefined }));
    expect(d.password).toBeUndefined();
  });
});
