// license-only under group-based licensing (licenses.assignment: group): a deactivation (active=false)
// takes away the licence the bridge gave, which is a licence group membership (SPEC section 2), and
// counts towards the deletion threshold like any other deprovision (SPEC section 7).
import { E3, named, startHarness, type Harness } from './harness';

jest.setTimeout(120_000);

const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP_NAME = 'scim-graph-bridge licence ENTERPRISEPACK';
const upn = (i: number) => `u${i}@example.com`;
const existing = (i: number) => ({
  id: `00000000-0000-4000-8000-00000000000${i}`,
  userPrincipalName: upn(i),
  displayName: `P${i}`,
  accountEnabled: true,
  usageLocation: 'US',
  mailNickname: `p${i}`,
});

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function licensedUsers(count: number, overrides: Record<string, unknown> = {}): Promise<Harness> {
  const harness = await startHarness({
    mode: 'license-only',
    seed: { skus: [{ skuId: E3, skuPartNumber: 'ENTERPRISEPACK', seats: 5 }], users: Array.from({ length: count }, (_, i) => existing(i + 1)) },
    overrides: { licenses: { default: ['ENTERPRISEPACK'], assignment: 'group' }, ...overrides },
    sim: { licenseProcessingMs: 0 },
    engine: { licenceReadbackDelayMs: 0 },
  });
  for (let i = 1; i <= count; i++) await harness.scim.createUser(`u-${i}`, { schemas: [USER_SCHEMA], userName: upn(i), active: true });
  await harness.engine.runOnce();
  harness.clearLog();
  return harness;
}

const deactivate = (harness: Harness, name: string) => harness.scim.patchUser(name, [{ op: 'replace', path: 'active', value: false }]);

test('license-only: a deactivated user leaves the licence group, and nothing else is written', async () => {
  h = await licensedUsers(1);
  await deactivate(h, 'u-1');
  await h.engine.runOnce();
  expect(named(h)).toEqual([{ method: 'DELETE', url: `/groups/{${GROUP_NAME}}/members/{${upn(1)}}/$ref`, status: 204 }]);
  expect(await h.scim.bridge('u-1')).toMatchObject({ syncState: 'synced' });
});

test('license-only: deactivations past deletionThreshold are held while the licences are group memberships', async () => {
  h = await licensedUsers(3, { deletionThreshold: 2 });
  for (let i = 1; i <= 3; i++) await deactivate(h, `u-${i}`);
  await h.engine.runOnce();
  expect(named(h)).toEqual([]);
  expect(h.engine.status().pendingDeletions).toEqual([{ sourceId: 'okta', pending: 3, recent: 0 }]);
  expect(h.engine.approveDeletions()).toMatchObject({ approved: 3 });
  await h.engine.runOnce();
  expect(
    named(h)
      .map((w) => `${w.method} ${w.url}`)
      .sort(),
  ).toEqual([1, 2, 3].map((i) => `DELETE /groups/{${GROUP_NAME}}/members/{${upn(i)}}/$ref`).sort());
});
