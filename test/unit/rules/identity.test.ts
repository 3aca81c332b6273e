// SPEC sections 3 to 5: FILETIME, Guid.ToByteArray order, AD-linked users, immutableId and token validity.
import {
  BRIDGE_USER_SCHEMA,
  derivedImmutableId,
  dirSyncEnabledFor,
  immutableIdFor,
  isAdLinked,
  objectGuidToImmutableId,
  pwdLastSetToDate,
  tokensValidFromFor,
  tokensValidFromOnWrite,
} from '../../../src/rules/identity';
import type { DirectoryConfig } from '../../../src/config';

const AD: DirectoryConfig[] = [{ id: 'corp.example.com', type: 'ad', jit: false }];
const NOW = new Date('2025-03-01T12:00:00Z');

describe('pwdLastSet (AD FILETIME: 100 ns ticks since 1601-01-01 UTC, or ISO 8601)', () => {
  test.each([
    [132000000000000000, '2019-04-17T18:40:00.000Z'],
    ['132000000000000000', '2019-04-17T18:40:00.000Z'],
    ['133500000001234567', '2024-01-17T21:20:00.123Z'],
    ['2024-05-06T07:08:09Z', '2024-05-06T07:08:09.000Z'],
  ])('%p -> %s', (input, iso) => {
    expect(pwdLastSetToDate(input)?.toISOString()).toBe(iso);
  });

  test.each([0, '0', '', null, undefined, 'not a date'])('%p -> null (meaning "now")', (input) => {
    expect(pwdLastSetToDate(input)).toBeNull();
  });
});

describe('objectGUID -> onPremisesImmutableId (base64 of .NET Guid.ToByteArray)', () => {
  test('first three groups little-endian, last two as written', () => {
    // 00112233-4455-6677-8899-aabbccddeeff -> bytes 33 22 11 00 55 44 77 66 88 99 aa bb cc dd ee ff
    expect(objectGuidToImmutableId('00112233-4455-6677-8899-aabbccddeeff')).toBe(Buffer.from('33221100554477668899aabbccddeeff', 'hex').toString('base64'));
    expect(objectGuidToImmutableId('00112233-4455-6677-8899-aabbccddeeff')).toBe('MyIRAFVEd2aImaq7zN3u/w==');
  });

  test('braces and upper case are accepted', () => {
    expect(objectGuidToImmutableId('{00112233-4455-6677-8899-AABBCCDDEEFF}')).toBe('MyIRAFVEd2aImaq7zN3u/w==');
  });

  test('an objectGUID already in base64 is kept; garbage is refused', () => {
    expect(objectGuidToImmutableId('MyIRAFVEd2aImaq7zN3u/w==')).toBe('MyIRAFVEd2aImaq7zN3u/w==');
    expect(objectGuidToImmutableId('not-a-guid')).toBeNull();
  });

  test('derived ids are stable per resource and 16 bytes of base64', () => {
    expect(derivedImmutableId('r-1')).toBe(derivedImmutableId('r-1'));
    expect(derivedImmutableId('r-1')).not.toBe(derivedImmutableId('r-2'));
    expect(Buffer.from(derivedImmutableId('r-1'), 'base64')).toHaveLength(16);
  });
});

describe('AD-linked (SPEC section 3)', () => {
  test('sourceDirectory naming an ad directory of the source', () => {
    expect(isAdLinked({ sourceDirectory: 'CORP.example.com' }, AD)).toBe(true);
    expect(isAdLinked({ sourceDirectory: 'other.example.com', objectGUID: 'x' }, AD)).toBe(false);
  });
  test('objectGUID with exactly one ad directory', () => {
    expect(isAdLinked({ objectGUID: '00112233-4455-6677-8899-aabbccddeeff' }, AD)).toBe(true);
    expect(isAdLinked({ objectGUID: 'x' }, [...AD, { id: 'b.example.com', type: 'ad', jit: false }])).toBe(false);
    expect(isAdLinked({ objectGUID: 'x' }, [])).toBe(false);
  });
  test('an ldap or cloud directory does not make a user AD-linked', () => {
    expect(isAdLinked({ sourceDirectory: 'ldap' }, [{ id: 'ldap', type: 'ldap', jit: false }])).toBe(false);
  });
});

describe('onPremisesImmutableId per mode (SPEC section 5)', () => {
  const guid = '00112233-4455-6677-8899-aabbccddeeff';
  test('license-only never writes one', () => {
    expect(immutableIdFor('license-only', 'r', { objectGUID: guid }, true, true)).toBeNull();
  });
  test('profile-sync: AD-linked or federated only', () => {
    expect(immutableIdFor('profile-sync', 'r', {}, false, false)).toBeNull();
    expect(immutableIdFor('profile-sync', 'r', { objectGUID: guid }, true, false)).toBe('MyIRAFVEd2aImaq7zN3u/w==');
    expect(immutableIdFor('profile-sync', 'r', {}, false, true)).toBe(derivedImmutableId('r'));
  });
  test.each(['user-sync', 'universal-sync'] as const)('%s: every user (objectGUID, else immutableId, else derived)', (mode) => {
    expect(immutableIdFor(mode, 'r', { objectGUID: guid }, true, false)).toBe('MyIRAFVEd2aImaq7zN3u/w==');
    expect(immutableIdFor(mode, 'r', { immutableId: 'explicit-id' }, false, false)).toBe('explicit-id');
    expect(immutableIdFor(mode, 'r', {}, false, false)).toBe(derivedImmutableId('r'));
  });
});

describe('token validity (SPEC section 4)', () => {
  const filetime = '132000000000000000'; // 2019-04-17T18:40:00Z

  test.each([
    ['license-only', true, 'now'],
    ['profile-sync', true, 'now'],
    ['user-sync', true, 'pwdLastSet'],
    ['universal-sync', true, 'pwdLastSet'],
    ['user-sync', false, 'now'],
    ['universal-sync', false, 'now'],
  ] as const)('%s, AD-linked %p -> %s', (mode, adLinked, expected) => {
    const value = tokensValidFromFor(mode, adLinked, filetime, NOW).toISOString();
    expect(value).toBe(expected === 'now' ? NOW.toISOString() : '2019-04-17T18:40:00.000Z');
  });

  test('AD-linked with pwdLastSet 0 or absent -> now', () => {
    expect(tokensValidFromFor('user-sync', true, 0, NOW)).toEqual(NOW);
    expect(tokensValidFromFor('universal-sync', true, undefined, NOW)).toEqual(NOW);
  });

  test('dirSyncEnabled: only user-sync and universal-sync', () => {
    expect(['license-only', 'profile-sync', 'user-sync', 'universal-sync'].map((m) => dirSyncEnabledFor(m as never))).toEqual([false, false, true, true]);
  });

  describe('tokensValidFromOnWrite: which writes are password changes', () => {
    const ext = { sourceDirectory: 'corp.example.com', pwdLastSet: filetime };
    test('creation is not a change', () => {
      expect(tokensValidFromOnWrite('profile-sync', { created: true, passwordSent: true }, AD, NOW)).toBeNull();
    });
    test('a password for an existing user in profile-sync -> now', () => {
      expect(tokensValidFromOnWrite('profile-sync', { created: false, passwordSent: true }, AD, NOW)).toEqual(NOW);
    });
    test('an advancing pwdLastSet for an AD-linked user in universal-sync -> pwdLastSet', () => {
      const got = tokensValidFromOnWrite('universal-sync', { created: false, passwordSent: false, ext, previousPwdLastSet: '131000000000000000' }, AD, NOW);
      expect(got?.toISOString()).toBe('2019-04-17T18:40:00.000Z');
    });
    test('the same pwdLastSet replayed, or an older one, is no change', () => {
      expect(tokensValidFromOnWrite('user-sync', { created: false, passwordSent: false, ext, previousPwdLastSet: filetime }, AD, NOW)).toBeNull();
      expect(tokensValidFromOnWrite('user-sync', { created: false, passwordSent: false, ext, previousPwdLastSet: '133000000000000000' }, AD, NOW)).toBeNull();
    });
    test('an unrelated write is no change', () => {
      expect(tokensValidFromOnWrite('user-sync', { created: false, passwordSent: false, ext: {} }, AD, NOW)).toBeNull();
    });
    test('the bridge extension URN is the one SPEC section 3 names', () => {
      expect(BRIDGE_USER_SCHEMA).toBe('urn:ietf:params:scim:schemas:extension:graphbridge:2.0:User');
    });
  });
});
