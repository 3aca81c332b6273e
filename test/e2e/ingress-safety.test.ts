// What one source sends can neither stop another's users from reaching Graph nor reach into what
// another source owns: end to end, with the exact Graph writes in the simulator's log.
import request from 'supertest';
import { createApp } from '../../src/scim/app';
import { createLogger } from '../../src/log';
import { CORE_GROUP, CORE_USER, ENTERPRISE, PATCH_OP } from './ingress';
import { named, startHarness, type Harness } from './harness';

const ENTRA_TOKEN = 'entra-token-0123456789abcdef';
let h: Harness;
afterEach(async () => h?.close());

test("refused lone surrogate, NUL, whitespace and case variants, cross-source manager and member: the other source's users still reach Graph, nothing else is written", async () => {
  h = await startHarness({
    mode: 'user-sync',
    extraSources: [{ id: 'entra', token: ENTRA_TOKEN }],
    overrides: { 'graph.allowTenantDirSync': true, 'groups.push': true },
  });
  const app = createApp({ config: h.config, store: h.store, logger: createLogger('silent') });
  const as = (token: string) => (method: 'post' | 'patch', path: string, text: string) => {
    const agent = request(app);
    return agent[method](`/scim/v2${path}`)
      .set({ Authorization: `Bearer ${token}`, 'Content-Type': 'application/scim+json' })
      .send(text);
  };
  const okta = as('okta-token-0123456789abcdef');
  const entra = as(ENTRA_TOKEN);

  const alice = await okta('post', '/Users', JSON.stringify({ schemas: [CORE_USER], userName: 'alice@example.com', displayName: 'Alice' }));
  expect(alice.status).toBe(201);
  const refused = [
    await entra('post', '/Users', `{"schemas":["${CORE_USER}"],"userName":"\\ud800x@example.com"}`),
    await entra('post', '/Users', `{"schemas":["${CORE_USER}"],"userName":"nul\\u0000@example.com"}`),
    await entra('post', '/Users', `{"schemas":["${CORE_USER}"],"userName":" alice@example.com"}`),
    await entra('post', '/Users', `{"schemas":["${CORE_USER}"],"userName":"alice@example.com\\t"}`),
    await entra('post', '/Users', `{"schemas":["${CORE_USER}"],"userName":"ALICE@example.com"}`),
    await entra('post', '/Groups', `{"schemas":["${CORE_GROUP}"],"displayName":"Sales\\udc00"}`),
    await entra(
      'post',
      '/Users',
      JSON.stringify({ schemas: [CORE_USER, ENTERPRISE], userName: 'mallory@example.com', [ENTERPRISE]: { manager: { value: alice.body.id } } }),
    ),
    await entra('post', '/Groups', JSON.stringify({ schemas: [CORE_GROUP], displayName: 'Entra Group', members: [{ value: alice.body.id }] })),
  ];
  expect(refused.map((r) => [r.status, r.body.scimType])).toEqual([
    [400, 'invalidValue'],
    [400, 'invalidValue'],
    [400, 'invalidValue'],
    [400, 'invalidValue'],
    [409, 'uniqueness'],
    [400, 'invalidValue'],
    [400, 'invalidValue'],
    [400, 'invalidValue'],
  ]);
  const bob = await entra('post', '/Users', JSON.stringify({ schemas: [CORE_USER], userName: 'bob@example.com', displayName: 'Bob' }));
  expect(bob.status).toBe(201);
  const patched = await entra(
    'patch',
    `/Users/${bob.body.id}`,
    JSON.stringify({ schemas: [PATCH_OP], Operations: [{ op: 'add', path: `${ENTERPRISE}:manager`, value: alice.body.id }] }),
  );
  expect(patched.status).toBe(400);

  await h.engine.runOnce();
  const creates = named(h).filter((w) => w.method === 'POST' && w.url === '/users');
  expect(creates.map((w) => (w.body as { userPrincipalName: string }).userPrincipalName).sort()).toEqual(['alice@example.com', 'bob@example.com']);
  expect(named(h).some((w) => /manager/.test(w.url))).toBe(false);
  expect(named(h).some((w) => w.url.startsWith('/groups'))).toBe(false);
  expect(h.store.sync.get('User', alice.body.id)).toMatchObject({ state: 'synced' });
  expect(h.store.sync.get('User', bob.body.id)).toMatchObject({ state: 'synced' });
});
