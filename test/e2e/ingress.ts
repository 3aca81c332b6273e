// SCIM writes for the end-to-end tests, recorded in the store the way the ingress records them:
// one transaction with the dirty mark, dirSyncEnabled by mode, and on a password change
// (a password for an existing user, or an advanced pwdLastSet) the tokensValidFrom of SPEC section 4.
import { BRIDGE_USER_SCHEMA, dirSyncEnabledFor, isAdLinked, pwdLastSetToDate, tokensValidFromFor } from '../../src/graph/identity';
import type { Mode } from '../../src/config';
import type { Store } from '../../src/store';

type Json = Record<string, any>;
export const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

export function createIngress(store: Store, mode: Mode, sourceId = 'okta', now: () => Date = () => new Date()) {
  const dirs = () => store.sources.get(sourceId)?.directories ?? [];
  const strip = (u: Json) => {
    const { password: _p, ...rest } = u;
    return rest;
  };
  function syncFor(user: Json, before: Json | null) {
    const ext = user[BRIDGE_USER_SCHEMA] ?? {};
    const adLinked = isAdLinked(ext, dirs());
    const at = now();
    const advanced = before !== null && ext.pwdLastSet !== undefined &&
      (pwdLastSetToDate(ext.pwdLastSet)?.getTime() ?? 0) > (pwdLastSetToDate(before[BRIDGE_USER_SCHEMA]?.pwdLastSet)?.getTime() ?? 0);
    const changed = before !== null && (typeof user.password === 'string' || advanced);
    return {
      dirSyncEnabled: dirSyncEnabledFor(mode),
      ...(changed ? { tokensValidFrom: tokensValidFromFor(mode, adLinked, ext.pwdLastSet, at).toISOString() } : {}),
      ...(typeof user.password === 'string' ? { pendingPassword: user.password } : {}),
    };
  }
  return {
    createUser(id: string, user: Json) {
      return store.users.create(strip(user), { sourceId, id, attributes: Object.keys(user), sync: syncFor(user, null) });
    },
    replaceUser(id: string, user: Json) {
      const before = store.users.get(id)!.data;
      return store.users.replace(id, strip(user), { sourceId, attributes: Object.keys(user), sync: syncFor(user, before) });
    },
    deleteUser(id: string) {
      store.users.remove(id, { sourceId });
    },
    createGroup(id: string, displayName: string, members: string[]) {
      return store.groups.create({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName }, { sourceId, id, members: members.map((value) => ({ value, type: 'User' as const })) });
    },
    setMembers(id: string, members: string[]) {
      return store.groups.update(id, null, { sourceId, members: { replace: members.map((value) => ({ value, type: 'User' as const })) } });
    },
  };
}
