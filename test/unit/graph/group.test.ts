// Security groups and memberships (SPEC section 2: universal-sync always, profile-sync and user-sync
// only with groups.push, license-only never).
import { diffGroup, translateGroup } from '../../../src/graph/diff';
import type { ScimGroup } from '../../../src/graph/group';

const group = (): ScimGroup => ({
  id: 'g-eng',
  displayName: 'Engineering (London)',
  members: [{ value: 'u-2' }, { value: 'u-1', display: 'Ada' }, { value: 'u-1' }],
});

describe('which modes push groups', () => {
  test.each([
    ['license-only', false, false],
    ['license-only', true, false],
    ['profile-sync', false, false],
    ['profile-sync', true, true],
    ['user-sync', false, false],
    ['user-sync', true, true],
    ['universal-sync', false, true],
  ] as const)('%s with groups.push %p -> %p', (mode, push, pushed) => {
    expect(translateGroup(mode, group(), { resourceId: 'g-eng', groupsPush: push }) !== null).toBe(pushed);
  });
});

test('create: POST /groups as a security group, members by SCIM id, deduplicated', () => {
  const desired = translateGroup('universal-sync', group(), { resourceId: 'g-eng', groupsPush: false })!;
  const diff = diffGroup(desired, null);
  expect(diff.create).toEqual({ displayName: 'Engineering (London)', mailNickname: 'EngineeringLondon', securityEnabled: true, mailEnabled: false });
  expect(diff.members).toEqual({ add: ['u-1', 'u-2'], remove: [] });
});

test('rename and description: PATCH only those; mailNickname stays as created', () => {
  const first = diffGroup(translateGroup('universal-sync', group(), { resourceId: 'g-eng', groupsPush: false })!, null);
  const renamed = { ...group(), displayName: 'Engineering', description: 'All engineers' };
  const diff = diffGroup(translateGroup('universal-sync', renamed, { resourceId: 'g-eng', groupsPush: false })!, first.nextSnapshot);
  expect(diff.patch).toEqual({ displayName: 'Engineering', description: 'All engineers' });
  expect(diff.members).toBeUndefined();
  expect(diff.nextSnapshot.properties.mailNickname).toBe('EngineeringLondon');
});

test('member adds and removes; the same group again writes nothing', () => {
  const first = diffGroup(translateGroup('user-sync', group(), { resourceId: 'g-eng', groupsPush: true })!, null);
  const changed = { ...group(), members: [{ value: 'u-2' }, { value: 'u-3' }] };
  const diff = diffGroup(translateGroup('user-sync', changed, { resourceId: 'g-eng', groupsPush: true })!, first.nextSnapshot);
  expect(diff).toEqual({ members: { add: ['u-3'], remove: ['u-1'] }, nextSnapshot: { properties: first.nextSnapshot.properties, members: ['u-2', 'u-3'] } });
  const again = diffGroup(translateGroup('user-sync', changed, { resourceId: 'g-eng', groupsPush: true })!, diff.nextSnapshot);
  expect(again).toEqual({ nextSnapshot: diff.nextSnapshot });
});

test('a displayName with no usable characters still gets a valid mailNickname', () => {
  const d = translateGroup('universal-sync', { displayName: '技术部' }, { resourceId: 'g-123', groupsPush: false })!;
  expect(d.properties.mailNickname).toBe('group-g-123');
});
