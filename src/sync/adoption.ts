// Adoption is a decision, never a side effect of a lookup (docs/security.md). A Graph user a lookup
// finds is linked to the resource being synced only when one of these holds:
//   - it is the engine's own create whose answer was lost (a crash between POST and commit);
//   - it is a tenant user no bridge resource was ever linked to, and the bridge writes it licenses only
//     (license-only mode, or a user Entra Connect masters), or the source's `adopt.domains` allows
//     adopting users of its UPN domain.
// Users holding a directory role are refused after these rules, before any link (privileged.ts).
// A Graph object once linked stays with its resource, deprovisioned or deleted: no other resource
// acquires it (an operator moves a user between sources with `users transfer`). A refusal names only
// what the refused resource itself carries, never another resource's SCIM or Graph id.
import type { EngineContext } from './context';
import type { UserWork } from './user-work';

export type FoundUser = Record<string, unknown> & { id: string; userPrincipalName?: unknown; accountEnabled?: unknown; onPremisesSyncEnabled?: unknown };

export type LinkDecision = { link: 'own' | 'adopt' } | { refuse: string };

/** The key a lookup of this user's create is recorded under (its UPN, compared without case). */
export function createKey(w: UserWork): string {
  return w.desired.match.userPrincipalName.toLowerCase();
}

function domainOf(upn: unknown): string {
  const s = typeof upn === 'string' ? upn : '';
  return s.slice(s.lastIndexOf('@') + 1).toLowerCase();
}

function describe(w: UserWork, by: 'immutableId' | 'userPrincipalName'): string {
  return by === 'immutableId' ? `onPremisesImmutableId ${w.desired.match.onPremisesImmutableId}` : `userPrincipalName ${w.desired.match.userPrincipalName}`;
}

/** May this source's resource adopt a tenant user it never managed, by the found user's UPN domain? */
export function adoptionAllowed(ctx: EngineContext, sourceId: string, found: FoundUser): boolean {
  // Licenses only, by definition: license-only mode, and users Entra Connect masters (onPremisesSyncEnabled
  // true), of which the bridge writes nothing but licenses (SPEC section 6).
  if (ctx.mode === 'license-only' || found.onPremisesSyncEnabled === true) return true;
  const source = ctx.config.sources.find((s) => s.id === sourceId);
  const domains = source?.adopt?.domains ?? [];
  return domains.includes('*') || domains.includes(domainOf(found.userPrincipalName));
}

/**
 * Whether the resource of `w` may be linked to `found`. `ownCreate` is the match key of a create the
 * engine sent for this resource and never saw answered (null when none).
 */
export function decideLink(ctx: EngineContext, w: UserWork, found: FoundUser, by: 'immutableId' | 'userPrincipalName', ownCreate: string | null): LinkDecision {
  const what = describe(w, by);
  if (ctx.queries.linkedElsewhere('User', found.id, w.row.id)) {
    return {
      refuse: `the Graph user with ${what} is linked to another bridge resource and is not taken over (an operator moves a user between sources with users transfer)`,
    };
  }
  if (ownCreate !== null && typeof found.userPrincipalName === 'string' && found.userPrincipalName.toLowerCase() === ownCreate) return { link: 'own' };
  if (adoptionAllowed(ctx, w.res.sourceId, found)) return { link: 'adopt' };
  return {
    refuse: `the tenant already has a user with ${what} that the bridge does not manage; source ${w.res.sourceId} may adopt existing users of domain ${domainOf(found.userPrincipalName) || '(none)'} only when its adopt.domains lists it`,
  };
}

/**
 * Whether a group's resource may be linked to the Graph group a lookup found (by mailNickname and
 * displayName, `key`): null when there is none to link, or it is linked to another resource (a new group
 * is created instead); the engine's own lost create; or a tenant group, adopted only where the source's
 * adopt.groups allows. `ownCreate` is the key of a create sent for this resource and never answered.
 */
export function decideGroupLink(
  ctx: EngineContext,
  row: { id: string; sourceId: string },
  found: { id: string } | undefined,
  key: { mailNickname: unknown; displayName: unknown },
  ownCreate: string | null,
): LinkDecision | null {
  if (!found || ctx.queries.linkedElsewhere('Group', found.id, row.id)) return null;
  if (ownCreate !== null && ownCreate === `${key.mailNickname}\n${key.displayName}`.toLowerCase()) return { link: 'own' };
  if (ctx.config.sources.find((s) => s.id === row.sourceId)?.adopt?.groups) return { link: 'adopt' };
  return {
    refuse: `the tenant already has a group with displayName ${key.displayName} and mailNickname ${key.mailNickname} that the bridge does not manage; source ${row.sourceId} may adopt existing groups only when its adopt.groups is true`,
  };
}
