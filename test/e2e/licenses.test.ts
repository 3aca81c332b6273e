// Licences: licenses.default gives every provisioned user its SKUs (what replaces Okta's License Only
// type), alongside entitlements and group mappings; a seat shortage shows on the user (lastSyncError)
// and in /metrics by SKU.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { loadConfig } from '../../src/config';
import { startBridge, type Bridge } from '../../src/main';
import { startSimulator, type RunningSimulator } from '../../src/simulator';
import { E3, EXO, named, startHarness, type Harness, simulatorGraph } from './harness';

jest.setTimeout(60_000);

const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const EXT = 'urn:ietf:params:scim:schemas:extension:graphbridge:2.0:User';
const existing = (n: number) => ({
  id: `00000000-0000-4000-8000-00000000000${n}`,
  userPrincipalName: `p${n}@example.com`,
  displayName: `P${n}`,
  accountEnabled: true,
  usageLocation: 'US',
  mailNickname: `p${n}`,
});

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

test('license-only with licenses.default: every matched user gets the default SKU, plus its entitlements', async () => {
  h = await startHarness({ mode: 'license-only', seed: { users: [existing(1), existing(2)] }, overrides: { licenses: { default: ['ENTERPRISEPACK'] } } });
  await h.scim.createUser('u-1', { schemas: [USER_SCHEMA], userName: 'p1@example.com', active: true });
  await h.scim.createUser('u-2', { schemas: [USER_SCHEMA], userName: 'p2@example.com', active: true, entitlements: [{ value: 'EXCHANGESTANDARD' }] });
  await h.engine.runOnce();
  const writes = named(h).sort((a, b) => a.url.localeCompare(b.url));
  expect(writes).toEqual([
    {
      method: 'POST',
      url: '/users/{p1@example.com}/assignLicense',
      body: { addLicenses: [{ disabledPlans: [], skuId: E3 }], removeLicenses: [] },
      status: 200,
    },
    {
      method: 'POST',
      url: '/users/{p2@example.com}/assignLicense',
      body: { addLicenses: [E3, EXO].sort().map((skuId) => ({ disabledPlans: [], skuId })), removeLicenses: [] },
      status: 200,
    },
  ]);
  // Deactivated: license-only removes what the bridge assigned, the default SKU included.
  h.clearLog();
  await h.scim.patchUser('u-1', [{ op: 'replace', path: 'active', value: false }]);
  await h.engine.runOnce();
  expect(named(h)).toEqual([{ method: 'POST', url: '/users/{p1@example.com}/assignLicense', body: { addLicenses: [], removeLicenses: [E3] }, status: 200 }]);
});

test('preflight blocks a licenses.default SKU the tenant lacks or licenses.skus does not allow', async () => {
  h = await startHarness({ mode: 'license-only', overrides: { licenses: { default: ['SPE_E5', 'EXCHANGESTANDARD'], skus: ['ENTERPRISEPACK'] } } });
  const result = await h.engine.preflight();
  expect(result.blocked).toEqual([
    'license "SPE_E5" named in licenses.default is not in the tenant\'s /subscribedSkus',
    'license "EXCHANGESTANDARD" named in licenses.default is not in licenses.skus, the only SKUs the bridge may assign',
  ]);
});

describe('seat shortage', () => {
  let dir: string;
  let sim: RunningSimulator;
  let bridge: Bridge | undefined;
  afterEach(async () => {
    await bridge?.close();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('shows on the user that got no seat and in /metrics by SKU', async () => {
    dir = mkdtempSync(join(tmpdir(), 'bridge-seats-'));
    sim = await startSimulator({ port: 0, dataDir: dir, throttling: false, seed: { skus: [{ skuId: E3, skuPartNumber: 'ENTERPRISEPACK', seats: 1 }] } });
    const token = 'okta-token-0123456789abcdef';
    const file = join(dir, 'bridge.json');
    writeFileSync(
      file,
      JSON.stringify({
        mode: 'profile-sync',
        port: 0,
        logLevel: 'silent',
        database: join(dir, 'bridge.sqlite'),
        sources: [{ id: 'okta', token }],
        defaults: { usageLocation: 'US' },
        licenses: { default: ['ENTERPRISEPACK'] },
        graph: simulatorGraph(sim),
      }),
    );
    bridge = await startBridge(loadConfig({ file, env: {} }));
    const ids: string[] = [];
    for (const name of ['ann', 'ben']) {
      const r = await request(bridge.scimUrl)
        .post('/Users')
        .set('Authorization', `Bearer ${token}`)
        .send({ schemas: [USER_SCHEMA], userName: `${name}@example.com` });
      ids.push(r.body.id);
    }
    const ext = async (id: string) => (await request(bridge!.scimUrl).get(`/Users/${id}`).set('Authorization', `Bearer ${token}`)).body[EXT];
    let states: string[] = [];
    while (!(states.includes('synced') && states.includes('error'))) {
      states = [await ext(ids[0]), await ext(ids[1])].map((e) => e.syncState);
      if (!(states.includes('synced') && states.includes('error'))) await new Promise((r) => setTimeout(r, 100));
    }
    const short = (await ext(ids[0])).syncState === 'error' ? ids[0] : ids[1];
    expect((await ext(short)).lastSyncError).toBe(
      `no free seat of SKU ENTERPRISEPACK: Subscription with SKU ${E3} does not have any available licenses. Add seats or free some, then run "scim-graph-bridge retry".`,
    );
    const metrics = await request(bridge.scimUrl.replace(/\/scim\/v2$/, '')).get('/metrics');
    expect(metrics.text).toContain('bridge_license_seat_shortage_users{sku="ENTERPRISEPACK"} 1\n');
  });
});
