import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { permissions } from '../../../src/cli/permissions-command';
// The permission table of src/graph/permissions.ts against Microsoft's (schemas/graph-permissions.json).
import { loadConfig, type Mode } from '../../../src/config';
import { grantingPermissions, leastGrant, missingPermissions, PERMISSION_NEEDS } from '../../../src/graph/permissions';
import { DEFAULT_ROLES } from '../../../src/simulator/types';

const config = (mode: Mode, overrides: Record<string, unknown> = {}) =>
  loadConfig({ env: {}, overrides: { mode, database: ':memory:', sources: [{ id: 'a', token: 'token-0123456789abcdef' }], ...overrides } });

test('every permission the bridge asks for grants each request it is asked for, per the table', () => {
  for (const need of PERMISSION_NEEDS)
    for (const req of need.requests) expect([need.id, req, grantingPermissions(req)]).toEqual([need.id, req, expect.arrayContaining([need.grant])]);
});

test('the least grant per mode and option', () => {
  expect(leastGrant(config('license-only'))).toEqual([
    'Organization.Read.All',
    'User.Read.All',
    'User.RevokeSessions.All',
    'LicenseAssignment.ReadWrite.All',
    'RoleManagement.Read.Directory',
  ]);
  expect(leastGrant(config('profile-sync'))).toEqual(['Organization.Read.All', 'User.ReadWrite.All', 'RoleManagement.Read.Directory']);
  expect(leastGrant(config('profile-sync', { 'groups.push': true }))).toEqual([
    'Organization.Read.All',
    'User.ReadWrite.All',
    'RoleManagement.Read.Directory',
    'Group.ReadWrite.All',
  ]);
  expect(leastGrant(config('user-sync', { 'graph.allowTenantDirSync': true }))).toEqual([
    'User.ReadWrite.All',
    'RoleManagement.Read.Directory',
    'Organization.ReadWrite.All',
    'Device.Read.All',
  ]);
  expect(leastGrant(config('profile-sync'), 'profile-sync', { optional: true })).toEqual([
    'Organization.Read.All',
    'User.ReadWrite.All',
    'RoleManagement.Read.Directory',
    'User-PasswordProfile.ReadWrite.All',
  ]);
});

test("the simulator's default grant is the least set of the widest configuration", () => {
  expect([...DEFAULT_ROLES].sort()).toEqual(leastGrant(config('universal-sync', { 'graph.allowTenantDirSync': true })).sort());
});

test('Directory.ReadWrite.All does not grant PATCH /organization/{id}: the tenant switch needs Organization.ReadWrite.All', () => {
  const missing = missingPermissions(['Directory.ReadWrite.All', 'RoleManagement.Read.Directory'], config('user-sync', { 'graph.allowTenantDirSync': true }));
  expect(missing.map((m) => [m.need.id, m.need.grant, m.need.optional ?? false])).toEqual([
    ['users.restore', 'User.ReadWrite.All', true],
    ['tenant.switch', 'Organization.ReadWrite.All', false],
    ['users.password', 'User-PasswordProfile.ReadWrite.All', true],
  ]);
});

test('scim-graph-bridge permissions prints the list for the config, with commands that grant it', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'perm-cli-')), 'config.json');
  writeFileSync(
    file,
    JSON.stringify({
      mode: 'license-only',
      database: ':memory:',
      sources: [{ id: 'a', token: 'token-0123456789abcdef' }],
      graph: { clientId: 'c0ffee00-0000-4000-8000-000000000000' },
    }),
  );
  const out: string[] = [];
  expect(permissions(file, {}, (l) => out.push(l), {})).toBe(0);
  expect(out.slice(0, 6)).toEqual([
    'Microsoft Graph application permissions for license-only (admin consent required for each):',
    '  Organization.Read.All: read the tenant (organization, subscribedSkus)',
    '  User.Read.All: look up existing users to license',
    '  User.RevokeSessions.All: revoke sign-in sessions after a password change',
    '  LicenseAssignment.ReadWrite.All: assign and remove licenses',
    '  RoleManagement.Read.Directory: read directory role assignments, so administrators are never matched or modified',
  ]);
  expect(out).toContain('  APP_ID=c0ffee00-0000-4000-8000-000000000000');
  expect(out).toContain(
    '  for p in Organization.Read.All User.Read.All User.RevokeSessions.All LicenseAssignment.ReadWrite.All RoleManagement.Read.Directory; do',
  );
  expect(out).toContain(
    "  foreach ($p in @('Organization.Read.All', 'User.Read.All', 'User.RevokeSessions.All', 'LicenseAssignment.ReadWrite.All', 'RoleManagement.Read.Directory')) {",
  );
  const json: string[] = [];
  permissions(file, { mode: 'profile-sync', json: true }, (l) => json.push(l), {});
  expect(JSON.parse(json.join('\n'))).toMatchObject({
    mode: 'profile-sync',
    required: [{ permission: 'Organization.Read.All' }, { permission: 'User.ReadWrite.All' }, { permission: 'RoleManagement.Read.Directory' }],
    recommended: [{ permission: 'User-PasswordProfile.ReadWrite.All' }],
  });
});

test('the inbound writer adds bulkUpload and the provisioning logs; reading the job is recommended', () => {
  const inbound = {
    'graph.writer': 'inbound',
    'graph.inbound': { servicePrincipalId: '7b2e1d4c-0000-4000-8000-000000000001', jobId: 'API2AAD.x.y', target: 'ad' },
  };
  // With the AD target, Entra Connect or Cloud Sync owns sync: no tenant switch, no hybrid-join check.
  expect(leastGrant(config('user-sync', { ...inbound, 'graph.allowTenantDirSync': true }))).toEqual([
    'Organization.Read.All',
    'User.ReadWrite.All',
    'RoleManagement.Read.Directory',
    'SynchronizationData-User.Upload',
    'ProvisioningLog.Read.All',
  ]);
  expect(leastGrant(config('profile-sync', inbound), 'profile-sync', { optional: true })).toEqual([
    'Organization.Read.All',
    'User.ReadWrite.All',
    'RoleManagement.Read.Directory',
    'SynchronizationData-User.Upload',
    'ProvisioningLog.Read.All',
    'Synchronization.Read.All',
    'User-PasswordProfile.ReadWrite.All',
  ]);
  // license-only writes no profile: no inbound app is used.
  expect(leastGrant(config('license-only', inbound))).not.toContain('SynchronizationData-User.Upload');
  const missing = missingPermissions(['User.ReadWrite.All', 'Organization.Read.All', 'RoleManagement.Read.Directory'], config('profile-sync', inbound));
  expect(missing.map((m) => [m.need.id, m.need.grant, m.need.optional ?? false])).toEqual([
    ['inbound.upload', 'SynchronizationData-User.Upload', false],
    ['inbound.logs', 'ProvisioningLog.Read.All', false],
    ['inbound.job', 'Synchronization.Read.All', true],
    ['users.password', 'User-PasswordProfile.ReadWrite.All', true],
  ]);
});

test('graph.writer "inbound" without graph.inbound is refused with the key named', () => {
  expect(() => config('profile-sync', { 'graph.writer': 'inbound' })).toThrow(/graph\.inbound: graph\.writer "inbound" needs graph\.inbound/);
  expect(() => config('profile-sync', { 'graph.writer': 'inbound', 'graph.inbound': { servicePrincipalId: 'nope', jobId: 'j', target: 'entra' } })).toThrow(
    /graph\.inbound\.servicePrincipalId: the service principal object id/,
  );
});
