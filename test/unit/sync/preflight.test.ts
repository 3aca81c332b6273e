import { loadConfig } from '../../../src/config';
import type { SyncGraph } from '../../../src/sync/graph-port';
import { runPreflight } from '../../../src/sync/preflight';

interface Tenant {
  org?: Record<string, unknown>;
  devices?: unknown[];
  skus?: { skuId: string; skuPartNumber: string }[];
  roles?: string[] | null;
  /** A Graph stand-in that does not serve /subscribedSkus. */
  noSkus?: boolean;
}

function fakeGraph(t: Tenant): SyncGraph {
  return {
    async send(op) {
      if (op.url === '/organization') return { id: 'x', status: 200, body: { value: [{ id: 'org1', onPremisesSyncEnabled: null, ...t.org }] } };
      if (op.url === '/subscribedSkus' && !t.noSkus) return { id: 'x', status: 200, body: { value: t.skus ?? [] } };
      if (op.url.startsWith('/devices')) return { id: 'x', status: 200, body: { value: t.devices ?? [] } };
      return { id: 'x', status: 404, body: { error: { code: 'NotFound', message: op.url } } };
    },
    batch: async () => [],
    tokenRoles: async () => (t.roles === undefined ? EVERYTHING : t.roles),
  };
}

// What `scim-graph-bridge permissions` lists for the widest configuration, recommended ones included.
const EVERYTHING = [
  'User.ReadWrite.All',
  'Organization.ReadWrite.All',
  'RoleManagement.Read.Directory',
  'Device.Read.All',
  'Group.ReadWrite.All',
  'User-PasswordProfile.ReadWrite.All',
];

const cfg = (overrides: Record<string, unknown>) => loadConfig({ env: {}, overrides });
const connect = { onPremisesSyncEnabled: true, onPremisesLastSyncDateTime: '2026-11-01T00:00:00Z' };

describe('preflight', () => {
  it('passes a clean tenant in user-sync when allowTenantDirSync is set', async () => {
    const r = await runPreflight({
      config: cfg({ mode: 'user-sync', 'graph.allowTenantDirSync': true }),
      graph: fakeGraph({}),
      tenantSwitchEnabledByBridge: false,
    });
    expect([r.ok, r.blocked, r.warnings]).toEqual([true, [], []]);
  });

  it('blocks user-sync when Entra Connect owns the tenant', async () => {
    const r = await runPreflight({
      config: cfg({ mode: 'user-sync', 'graph.allowTenantDirSync': true }),
      graph: fakeGraph({ org: connect }),
      tenantSwitchEnabledByBridge: false,
    });
    expect(r.blocked).toEqual([
      'another sync engine owns the tenant (Entra Connect, AAD Sync or DirSync): organization.onPremisesSyncEnabled is true with an onPremisesLastSyncDateTime; user-sync would fight it',
    ]);
  });

  it('does not mistake the switch the bridge turned on for another engine', async () => {
    const r = await runPreflight({ config: cfg({ mode: 'universal-sync' }), graph: fakeGraph({ org: connect }), tenantSwitchEnabledByBridge: true });
    expect(r.blocked).toEqual([]);
  });

  it('warns in profile-sync over Entra Connect', async () => {
    const r = await runPreflight({ config: cfg({ mode: 'profile-sync' }), graph: fakeGraph({ org: connect }), tenantSwitchEnabledByBridge: false });
    expect([r.ok, r.warnings]).toEqual([
      true,
      [
        'another sync engine owns the tenant (Entra Connect, AAD Sync or DirSync): organization.onPremisesSyncEnabled is true with an onPremisesLastSyncDateTime; users mastered on-premises (onPremisesSyncEnabled true) get licenses only',
      ],
    ]);
  });

  it('names graph.allowTenantDirSync when the tenant switch is off', async () => {
    const r = await runPreflight({ config: cfg({ mode: 'user-sync' }), graph: fakeGraph({}), tenantSwitchEnabledByBridge: false });
    expect(r.blocked).toEqual([
      'user-sync needs the tenant switch organization.onPremisesSyncEnabled, which is off; set graph.allowTenantDirSync to let the bridge turn it on',
    ]);
  });

  it('blocks on hybrid-joined devices and on graph.hybridJoin', async () => {
    const devices = await runPreflight({
      config: cfg({ mode: 'user-sync', 'graph.allowTenantDirSync': true }),
      graph: fakeGraph({ devices: [{ id: 'd1' }] }),
      tenantSwitchEnabledByBridge: false,
    });
    expect(devices.blocked).toEqual(["user-sync refuses a tenant with hybrid-joined devices (/devices with trustType 'ServerAd' exist)"]);
    const flag = await runPreflight({
      config: cfg({ mode: 'universal-sync', 'graph.allowTenantDirSync': true, 'graph.hybridJoin': true }),
      graph: fakeGraph({}),
      tenantSwitchEnabledByBridge: false,
    });
    expect(flag.blocked).toEqual(['universal-sync refuses a tenant with hybrid Azure AD join (graph.hybridJoin is set)']);
  });

  it('refuses a JIT directory in universal-sync', async () => {
    // Config load refuses it too; a mode override at run time (plan --mode) must refuse it here.
    const config = cfg({
      mode: 'user-sync',
      'graph.allowTenantDirSync': true,
      sources: [{ id: 'okta', token: 'x'.repeat(20), directories: [{ id: 'jit.example', type: 'ad', jit: true }] }],
    });
    const r = await runPreflight({ config, graph: fakeGraph({}), tenantSwitchEnabledByBridge: false }, 'universal-sync');
    expect(r.blocked).toEqual([
      'universal-sync refuses JIT directory "jit.example" of source "okta" (sources[].directories[].jit): its users would be marked synced without an authoritative directory',
    ]);
  });

  it('passes with a warning on a Graph stand-in without /subscribedSkus, unless licenses are configured', async () => {
    const r = await runPreflight({ config: cfg({ mode: 'profile-sync' }), graph: fakeGraph({ noSkus: true }), tenantSwitchEnabledByBridge: false });
    expect([r.ok, r.blocked, r.warnings]).toEqual([
      true,
      [],
      ['cannot read /subscribedSkus (GET /subscribedSkus answered 404 NotFound: /subscribedSkus): license entitlements cannot be resolved'],
    ]);
    const licensed = await runPreflight({
      config: cfg({ mode: 'profile-sync', 'licenses.skus': ['SPE_E3'] }),
      graph: fakeGraph({ noSkus: true }),
      tenantSwitchEnabledByBridge: false,
    });
    expect(licensed.blocked).toEqual(['license "SPE_E3" named in licenses.skus is not in the tenant\'s /subscribedSkus']);
  });

  it('checks configured licenses against /subscribedSkus by part number or skuId', async () => {
    const skus = [{ skuId: '6fd2c87f-b296-42f0-b197-1e91e994b900', skuPartNumber: 'ENTERPRISEPACK' }];
    const config = cfg({ mode: 'license-only', licenses: { skus: ['enterprisepack', '6FD2C87F-B296-42F0-B197-1E91E994B900'], groups: { sales: ['SPE_E5'] } } });
    const r = await runPreflight({ config, graph: fakeGraph({ skus }), tenantSwitchEnabledByBridge: false });
    expect(r.blocked).toEqual(['license "SPE_E5" named in licenses.groups.sales is not in the tenant\'s /subscribedSkus']);
  });

  it('checks the app roles in the token against what the mode writes', async () => {
    const r = await runPreflight({
      config: cfg({ mode: 'profile-sync', 'groups.push': true }),
      graph: fakeGraph({ roles: ['User.ReadWrite.All', 'Organization.Read.All'] }),
      tenantSwitchEnabledByBridge: false,
    });
    expect([r.blocked, r.warnings]).toEqual([
      [
        'the Graph token lacks RoleManagement.Read.Directory (or another permission granting GET /rolemanagement/directory/roleassignments): matching existing tenant users in profile-sync; grant RoleManagement.Read.Directory and give admin consent (docs/graph-app.md)',
        'the Graph token lacks Group.ReadWrite.All (or another permission granting GET /groups, GET /groups/{id}, POST /groups, PATCH /groups/{id}, DELETE /groups/{id}, POST /groups/{id}/members, DELETE /groups/{id}/members/{id}): group push in profile-sync; grant Group.ReadWrite.All and give admin consent (docs/graph-app.md)',
      ],
      [
        'the Graph token lacks User-PasswordProfile.ReadWrite.All (or another permission granting PATCH /users/{id} (passwordProfile)): password changes of existing users (each such user reports the password as not set; profiles still sync) in profile-sync; grant User-PasswordProfile.ReadWrite.All and give admin consent (docs/graph-app.md)',
      ],
    ]);
    // Directory.Read.All reads the tenant and role assignments; revoking sessions needs its own permission.
    const lo = await runPreflight({
      config: cfg({ mode: 'license-only' }),
      graph: fakeGraph({ roles: ['LicenseAssignment.ReadWrite.All', 'User.Read.All', 'Directory.Read.All'] }),
      tenantSwitchEnabledByBridge: false,
    });
    expect(lo.blocked).toEqual([
      'the Graph token lacks User.RevokeSessions.All (or another permission granting POST /users/{id}/revokesigninsessions): session revocation on password changes in license-only; grant User.RevokeSessions.All and give admin consent (docs/graph-app.md)',
    ]);
    const unknown = await runPreflight({ config: cfg({ mode: 'license-only' }), graph: fakeGraph({ roles: null }), tenantSwitchEnabledByBridge: false });
    expect(unknown.warnings).toEqual(['cannot read the app roles of the Graph token; permissions unchecked']);
  });

  it('treats a timeout or a failed dependency like a 5xx: Graph unreachable, nothing known about the tenant', async () => {
    // The same rule as the executor's: 408, 424, 429 and 5xx are tried again, other 4xx are answers.
    const failing = (status: number, url: string): SyncGraph => {
      const base = fakeGraph({});
      return {
        ...base,
        send: async (op) => (op.url.startsWith(url) ? { id: 'x', status, body: { error: { code: 'Timeout', message: 'try later' } } } : base.send(op)),
      };
    };
    const config = cfg({ mode: 'user-sync', 'graph.allowTenantDirSync': true });
    const org = await runPreflight({ config, graph: failing(408, '/organization'), tenantSwitchEnabledByBridge: false });
    expect([org.ok, org.unreachable, org.blocked]).toEqual([false, true, ['cannot read the tenant: GET /organization answered 408 Timeout: try later']]);
    const skus = await runPreflight({ config, graph: failing(424, '/subscribedSkus'), tenantSwitchEnabledByBridge: false });
    expect([skus.ok, skus.unreachable, skus.blocked]).toEqual([false, true, ['cannot read the tenant: GET /subscribedSkus answered 424 Timeout: try later']]);
    const devices = await runPreflight({ config, graph: failing(408, '/devices'), tenantSwitchEnabledByBridge: false });
    expect([devices.ok, devices.unreachable, devices.blocked]).toEqual([
      false,
      true,
      ['cannot check for hybrid-joined devices: GET /devices answered 408 Timeout: try later'],
    ]);
    const refused = await runPreflight({ config, graph: failing(403, '/devices'), tenantSwitchEnabledByBridge: false });
    expect([refused.ok, refused.unreachable, refused.blocked]).toEqual([
      false,
      undefined,
      ['cannot check for hybrid-joined devices: GET /devices answered 403 Timeout: try later'],
    ]);
  });
});
