// SPEC sections 2 and 5 with two sources: user-sync and universal-sync mark dirSyncEnabled for all
// users, whatever their source (here Okta and Entra ID provisioning); profile-sync for none.
import { derivedImmutableId } from '../../src/rules/identity';
import { boss } from './fixtures';
import { startHarness, type Harness } from './harness';
import { createIngress, type Ingress } from './ingress';

let h: Harness;
let entra: Ingress | undefined;
afterEach(async () => {
  await entra?.close();
  entra = undefined;
  await h?.close();
});

const ENTRA_TOKEN = 'entra-token-0123456789abcdef';
const person = (upn: string, displayName: string) => ({ ...boss, userName: upn, displayName, password: undefined });

async function oneUserEach(mode: 'profile-sync' | 'user-sync' | 'universal-sync'): Promise<{ okta: Ingress; entra: Ingress }> {
  h = await startHarness({ mode, extraSources: [{ id: 'entra', token: ENTRA_TOKEN }], overrides: { 'graph.allowTenantDirSync': true } });
  entra = await createIngress({ config: h.config, store: h.store }, 'entra');
  await h.scim.createUser('u-okta', person('okta.user@example.com', 'Okta User'));
  await entra.createUser('u-entra', person('entra.user@example.com', 'Entra User'));
  return { okta: h.scim, entra };
}

describe.each(['user-sync', 'universal-sync'] as const)('%s with two sources', (mode) => {
  it('records dirSyncEnabled true for the users of both sources, and stamps both in Graph', async () => {
    const src = await oneUserEach(mode);
    // What the ingress recorded, each source reading its own user.
    expect(await src.okta.bridge('u-okta')).toMatchObject({ source: 'okta', dirSyncEnabled: true, syncState: 'pending' });
    expect(await src.entra.bridge('u-entra')).toMatchObject({ source: 'entra', dirSyncEnabled: true, syncState: 'pending' });
    await h.engine.runOnce();
    expect(await src.okta.bridge('u-okta')).toMatchObject({ source: 'okta', dirSyncEnabled: true, syncState: 'synced' });
    expect(await src.entra.bridge('u-entra')).toMatchObject({ source: 'entra', dirSyncEnabled: true, syncState: 'synced' });
    expect(h.store.sync.get('User', src.okta.id('u-okta'))).toMatchObject({ dirSyncEnabled: true, state: 'synced' });
    expect(h.store.sync.get('User', src.entra.id('u-entra'))).toMatchObject({ dirSyncEnabled: true, state: 'synced' });
    const users = h.sim.state.snapshot().users.map((u) => [u.userPrincipalName, u.onPremisesImmutableId]);
    expect(users.sort()).toEqual([
      ['entra.user@example.com', derivedImmutableId(src.entra.id('u-entra'))],
      ['okta.user@example.com', derivedImmutableId(src.okta.id('u-okta'))],
    ]);
    expect(h.sim.state.snapshot().organization.onPremisesSyncEnabled).toBe(true);
  });
});

it('profile-sync with two sources records dirSyncEnabled false for both', async () => {
  const src = await oneUserEach('profile-sync');
  await h.engine.runOnce();
  expect(await src.okta.bridge('u-okta')).toMatchObject({ source: 'okta', dirSyncEnabled: false, syncState: 'synced' });
  expect(await src.entra.bridge('u-entra')).toMatchObject({ source: 'entra', dirSyncEnabled: false, syncState: 'synced' });
});
