// One due user as the engine works on it in a pass: its row, SCIM resource, desired Graph state
// under the mode, and the snapshot of what was last applied.
import type { ForSync, SyncRow } from '../store';
import type { AppliedUserSnapshot } from '../graph/diff';
import type { ScimUser } from '../graph/mapping';
import { translateUser, type DesiredUser } from '../graph/translate-user';
import type { EngineContext } from './context';

/** The engine's own fields kept alongside the snapshot src/graph defines. */
export interface UserSnapshot extends AppliedUserSnapshot {
  /** Graph reported onPremisesSyncEnabled true at match: Entra Connect masters it, licenses only. */
  onPremisesMastered?: boolean;
  /** Graph reported onPremisesSyncEnabled false at match: synced once, its Exchange custom attributes stay read-only. */
  formerlySynced?: boolean;
  deprovisioned?: boolean;
  /**
   * A tenant user the source's adopt setting let this resource adopt (adoption.ts): until the source
   * sends a change after `version`, no password is written and accountEnabled stays as Graph had it.
   */
  adopted?: { version: number; accountEnabled: boolean };
  /** Group-based licensing (license-groups.ts): SKUs whose licence group the user was added to. */
  groupLicenses?: string[];
  /** Of those, the SKUs Graph reported Active through the group (licenseAssignmentStates). */
  groupActive?: string[];
  /** Of those, the SKUs Graph reported in error, with its error (CountViolation, ...). */
  licenseErrors?: Record<string, string>;
}

export interface UserWork {
  row: SyncRow;
  res: ForSync;
  desired: DesiredUser;
  snapshot: UserSnapshot | null;
  graphId: string | null;
  done: boolean;
}

export function desiredUser(ctx: EngineContext, row: SyncRow, res: ForSync, snapshot: UserSnapshot | null, mode = ctx.mode): DesiredUser {
  const source = ctx.store.sources.get(res.sourceId);
  const groupMapping = ctx.config.licenses.groups;
  const userGroups = Object.keys(groupMapping).length ? ctx.queries.groupsOf(res.id).flatMap((g) => [g.id, g.displayName]) : undefined;
  const desired = translateUser(mode, res.resource as unknown as ScimUser, {
    resourceId: res.id,
    sourceDirectories: source?.directories ?? [],
    defaultsUsageLocation: ctx.config.defaults.usageLocation,
    federatedDomains: ctx.facts.federatedDomains,
    licenseSkus: ctx.facts.skuByPart,
    groupLicenses: groupMapping,
    ...(userGroups ? { userGroups } : {}),
    allowedSkus: ctx.config.licenses.skus,
    defaultLicenses: ctx.config.licenses.default,
    ...(row.hasPendingPassword ? { pendingPassword: ctx.store.sync.revealPendingPassword(row.type, row.id) ?? undefined } : {}),
    ...(row.tokensValidFrom ? { tokensValidFrom: row.tokensValidFrom } : {}),
    onPremisesMastered: Boolean(snapshot?.onPremisesMastered),
  });
  // "For a cloud-only user previously synced from on-premises Active Directory, these properties
  // are read-only in Microsoft Graph" (user resource, onPremisesExtensionAttributes).
  if (snapshot?.formerlySynced) delete desired.properties.onPremisesExtensionAttributes;
  const adopted = snapshot?.adopted;
  if (adopted && row.desiredVersion <= adopted.version) {
    delete desired.password;
    if (!adopted.accountEnabled && 'accountEnabled' in desired.properties) desired.properties.accountEnabled = false;
  }
  return desired;
}

export function prepareUser(ctx: EngineContext, row: SyncRow): UserWork | null {
  const res = ctx.store.users.getForSync(row.id);
  if (!res) return null;
  const snapshot = (row.appliedSnapshot as UserSnapshot | null) ?? null;
  return { row, res, desired: desiredUser(ctx, row, res, snapshot), snapshot, graphId: row.graphId, done: false };
}
