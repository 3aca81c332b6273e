// Tenant safety end to end (docs/security.md): what a second source (entra) can reach of Graph users
// through SCIM. Adoption of a Graph user is a decision: a user linked to another bridge resource
// (deprovisioned or not) is never taken over, a tenant user the bridge never managed is adopted only
// where the source's adopt.domains allows it, and adopting writes no password and enables nothing.
import { boss } from './fixtures';
import { named, startHarness, type Harness } from './harness';
import { CORE_USER, createIngress, type Ingress } from './ingress';

let h: Harness;
let entra: Ingress | undefined;
afterEach(async () => {
  await entra?.close();
  entra = undefined;
  await h?.close();
});

const ENTRA_TOKEN = 'entra-token-0123456789abcdef';
const LINKED = 'is linked to another bridge resource and is not taken over (an operator moves a user between sources with users transfer)';
const person = (upn: string, displayName: string, password: string) => ({
  ...boss,
  userName: upn,
  displayName,
  name: { givenName: displayName.split(' ')[0], familyName: 'X' },
  password,
});

async function twoSources(opts: { seed?: Parameters<typeof startHarness>[0]['seed']; entra?: Record<string, unknown> } = {}): Promise<Ingress> {
  h = await startHarness({ mode: 'profile-sync', seed: opts.seed, extraSources: [{ id: 'entra', token: ENTRA_TOKEN, ...opts.entra }] });
  entra = await createIngress({ config: h.config, store: h.store }, 'entra');
  return entra;
}

function graphUser(upn: string): Record<string, unknown> | undefined {
  return h.sim.state.snapshot().users.find((u) => String(u.userPrincipalName).toLowerCase() === upn.toLowerCase());
}

describe.each(['alice@example.com', 'ALICE@Example.COM'])('a Graph user another source deprovisioned (B sends %s)', (variant) => {
  it('is not adopted: B gets a reason naming nothing of A, and Graph gets no write', async () => {
    const b = await twoSources();
    await h.scim.createUser('a-alice', person('alice@example.com', 'Alice Okta', 'A-Passw0rd!x1'));
    await h.engine.runOnce();
    const aliceGraphId = String(graphUser('alice@example.com')!.id);
    await h.scim.deleteUser('a-alice');
    await h.engine.runOnce();
    expect(graphUser('alice@example.com')).toMatchObject({ id: aliceGraphId, accountEnabled: false });
    h.clearLog();

    await b.createUser('b-alice', person(variant, 'Alice Entra', 'B-Passw0rd!x1'));
    await h.engine.runOnce();
    await h.engine.runOnce();

    expect(named(h)).toEqual([]);
    const bridge = await b.bridge('b-alice');
    expect(bridge).toMatchObject({ syncState: 'error', lastSyncError: `the Graph user with userPrincipalName ${variant} ${LINKED}` });
    expect(bridge.graphId).toBeUndefined();
    expect(JSON.stringify(bridge)).not.toContain(aliceGraphId);
    expect(JSON.stringify(bridge)).not.toContain(h.scim.id('a-alice'));
    expect(graphUser('alice@example.com')).toMatchObject({ id: aliceGraphId, accountEnabled: false, displayName: 'Alice Okta' });
  });
});

it('a live user of another source keeps its Graph user against a case variant: SCIM refuses it and Graph gets nothing', async () => {
  const b = await twoSources();
  await h.scim.createUser('a-alice', person('alice@example.com', 'Alice Okta', 'A-Passw0rd!x1'));
  await h.engine.runOnce();
  h.clearLog();
  await expect(b.createUser('b-alice', person('Alice@EXAMPLE.com', 'Alice Entra', 'B-Passw0rd!x1'))).rejects.toThrow(/expected 201, got 409/);
  await h.engine.runOnce();
  expect(named(h)).toEqual([]);
});

describe('a userName stored with surrounding whitespace (before ingress refused it) naming another source user', () => {
  const storeVariant = () =>
    h.store.users.create(
      { schemas: [CORE_USER], userName: ' alice@example.com\t', displayName: 'Alice Entra', active: true },
      { sourceId: 'entra', sync: { dirSyncEnabled: false, pendingPassword: 'B-Passw0rd!x1' } },
    ).id;

  it('A already in Graph: B is refused and Graph gets no write', async () => {
    await twoSources();
    await h.scim.createUser('a-alice', person('alice@example.com', 'Alice Okta', 'A-Passw0rd!x1'));
    await h.engine.runOnce();
    const aliceGraphId = String(graphUser('alice@example.com')!.id);
    const bId = storeVariant();
    h.clearLog();
    await h.engine.runOnce();
    expect(named(h)).toEqual([]);
    expect(h.store.sync.get('User', bId)).toMatchObject({
      state: 'error',
      graphId: null,
      lastError: `the Graph user with userPrincipalName alice@example.com ${LINKED}`,
    });
    expect(h.store.sync.get('User', h.scim.id('a-alice'))).toMatchObject({ state: 'synced', graphId: aliceGraphId });
  });

  it('A not yet in Graph: A creates its user, B is refused without taking it', async () => {
    await twoSources();
    await h.scim.createUser('a-alice', person('alice@example.com', 'Alice Okta', 'A-Passw0rd!x1'));
    const bId = storeVariant();
    await h.engine.runOnce();
    await h.engine.runOnce();
    expect(named(h).map((w) => `${w.method} ${w.url} ${w.status} ${(w.body as { displayName?: string })?.displayName}`)).toEqual([
      'POST /users 201 Alice Okta',
    ]);
    const aliceGraphId = String(graphUser('alice@example.com')!.id);
    expect(h.store.sync.get('User', h.scim.id('a-alice'))).toMatchObject({ state: 'synced', graphId: aliceGraphId });
    expect(h.store.sync.get('User', bId)).toMatchObject({
      state: 'error',
      graphId: null,
      lastError:
        'userName " alice@example.com\\t" becomes userPrincipalName alice@example.com in Graph, which another resource\'s userName already names; not created',
    });
  });
});

describe('a tenant user the bridge never managed', () => {
  const seed = {
    users: [
      {
        id: '77777777-7777-4777-8777-777777777777',
        userPrincipalName: 'admin@example.com',
        displayName: 'Tenant Admin',
        givenName: 'Tenant',
        surname: 'Admin',
        accountEnabled: false,
        mailNickname: 'admin',
        usageLocation: 'US',
      },
    ],
  };

  it('is not adopted by default: the source gets a reason and Graph gets no write', async () => {
    const b = await twoSources({ seed });
    await b.createUser('b-admin', person('admin@example.com', 'Taken Over', 'B-Passw0rd!x1'));
    await h.engine.runOnce();
    expect(named(h)).toEqual([]);
    expect(await b.bridge('b-admin')).toMatchObject({
      syncState: 'error',
      lastSyncError:
        'the tenant already has a user with userPrincipalName admin@example.com that the bridge does not manage; source entra may adopt existing users of domain example.com only when its adopt.domains lists it',
    });
    expect(graphUser('admin@example.com')).toMatchObject({ displayName: 'Tenant Admin', accountEnabled: false });
  });

  it('is not adopted for a domain adopt.domains does not list', async () => {
    const b = await twoSources({ seed, entra: { adopt: { domains: ['contoso.com'] } } });
    await b.createUser('b-admin', person('admin@example.com', 'Taken Over', 'B-Passw0rd!x1'));
    await h.engine.runOnce();
    expect(named(h)).toEqual([]);
    expect((await b.bridge('b-admin')).syncState).toBe('error');
  });

  it('is adopted where adopt.domains allows it, with no password written and the account left disabled', async () => {
    const b = await twoSources({ seed, entra: { adopt: { domains: ['Example.com'] } } });
    await b.createUser('b-admin', person('admin@example.com', 'Adopted Admin', 'B-Passw0rd!x1'));
    await h.engine.runOnce();
    expect(named(h)).toEqual([
      { method: 'PATCH', url: '/users/{admin@example.com}', body: { displayName: 'Adopted Admin', surname: 'X', givenName: 'Adopted' }, status: 204 },
    ]);
    expect(await b.bridge('b-admin')).toMatchObject({ syncState: 'synced', graphId: '77777777-7777-4777-8777-777777777777' });
    expect(graphUser('admin@example.com')).toMatchObject({ accountEnabled: false });
    // The pending password was dropped, not kept for a later write.
    expect(h.store.sync.get('User', b.id('b-admin'))!.hasPendingPassword).toBe(false);
    h.clearLog();
    await h.engine.runOnce();
    expect(named(h)).toEqual([]);
    // From the source's next change on, the user is managed as any other (active: true included).
    await b.patchUser('b-admin', [{ op: 'replace', path: 'displayName', value: 'Admin B' }]);
    await h.engine.runOnce();
    expect(named(h)).toEqual([{ method: 'PATCH', url: '/users/{admin@example.com}', body: { displayName: 'Admin B', accountEnabled: true }, status: 204 }]);
  });
});

it("the engine's own create whose commit was lost is linked on the next lookup, with adoption off", async () => {
  await twoSources();
  await h.scim.createUser('a-alice', { ...person('alice@example.com', 'Alice Okta', ''), password: undefined });
  // The Graph id cannot be committed after the POST (as when the process dies right after it).
  const recordProgress = h.store.sync.recordProgress.bind(h.store.sync);
  let failed = false;
  jest.spyOn(h.store.sync, 'recordProgress').mockImplementation((...args) => {
    if (!failed && args[2]?.graphId) {
      failed = true;
      throw new Error('disk I/O error');
    }
    return recordProgress(...args);
  });
  await h.engine.runOnce();
  expect(failed).toBe(true);
  // What one row raised put it in error; once retried, the lookup finds the user the POST made.
  expect(h.store.sync.get('User', h.scim.id('a-alice'))).toMatchObject({
    state: 'error',
    graphId: null,
    lastError: 'the bridge failed on this resource (fix it, or retry): disk I/O error',
  });
  h.engine.retry('User', h.scim.id('a-alice'));
  await h.engine.runOnce();
  const alice = graphUser('alice@example.com')!;
  expect(
    named(h)
      .filter((w) => w.method === 'POST' && w.url === '/users')
      .map((w) => w.status),
  ).toEqual([201]);
  expect(h.store.sync.get('User', h.scim.id('a-alice'))).toMatchObject({ state: 'synced', graphId: alice.id });
});

describe('a tenant security group the bridge never managed', () => {
  const seed = {
    users: [
      {
        id: '33333333-3333-4333-8333-333333333333',
        userPrincipalName: 'helpdesk@example.com',
        displayName: 'Helpdesk',
        accountEnabled: true,
        mailNickname: 'helpdesk',
        usageLocation: 'US',
      },
    ],
    groups: [
      {
        id: '88888888-8888-4888-8888-888888888888',
        displayName: 'Helpdesk Admins',
        mailNickname: 'HelpdeskAdmins',
        securityEnabled: true,
        mailEnabled: false,
        members: ['33333333-3333-4333-8333-333333333333'],
      },
    ],
  };

  it('is not adopted by default: no member is added to it and the source gets a reason', async () => {
    h = await startHarness({ mode: 'profile-sync', seed, overrides: { 'groups.push': true } });
    await h.scim.createUser('u-mallory', person('mallory@example.com', 'Mallory M', 'M-Passw0rd!x1'));
    await h.scim.createGroup('g-admins', 'Helpdesk Admins', ['u-mallory']);
    await h.engine.runOnce();
    expect(named(h).filter((w) => w.url.startsWith('/groups'))).toEqual([]);
    expect(h.store.sync.get('Group', h.scim.id('g-admins'))).toMatchObject({
      state: 'error',
      graphId: null,
      lastError:
        'the tenant already has a group with displayName Helpdesk Admins and mailNickname HelpdeskAdmins that the bridge does not manage; source okta may adopt existing groups only when its adopt.groups is true',
    });
    expect(h.sim.state.snapshot().groups.map((g) => [g.displayName, g.members])).toEqual([['Helpdesk Admins', ['33333333-3333-4333-8333-333333333333']]]);
  });
});
