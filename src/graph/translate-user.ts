// One SCIM user under one mode -> the Graph state the bridge wants for it (SPEC sections 2 to 5).
// Pure: the engine supplies everything from config, the store and Graph through ctx.
import type { DirectoryConfig, Mode } from '../config';
import { type BridgeExtension, dirSyncEnabledFor, immutableIdFor, isAdLinked, objectGuidToImmutableId } from '../rules/identity';
import {
  type GraphValue,
  type MappingRow,
  type ScimUser,
  attributeSetsFor,
  bridgeOf,
  enterpriseOf,
  isActive,
  managerSet,
  passwordSet,
  readOnlyWhenSyncedFromOnPrem,
  rowsFor,
} from './mapping';
import { type GraphBody, setPath } from './paths';

export interface TranslateUserContext {
  /** The bridge's resource id (SCIM id): seeds the derived immutableId. */
  resourceId: string;
  /** The owning source's directories (SPEC section 3), to tell AD-linked users. */
  sourceDirectories: readonly DirectoryConfig[];
  /** config defaults.usageLocation */
  defaultsUsageLocation?: string;
  /** Federated domains of the tenant (lower case or not): their UPNs need onPremisesImmutableId. */
  federatedDomains?: readonly string[];
  /** Part number (e.g. ENTERPRISEPACK) -> skuId, from /subscribedSkus. */
  licenseSkus: Readonly<Record<string, string>>;
  /** config licenses.groups: group (SCIM id or displayName) -> SKU part numbers or skuIds. */
  groupLicenses?: Readonly<Record<string, readonly string[]>>;
  /** SCIM ids or displayNames of the user's groups; defaults to the user's `groups` attribute. */
  userGroups?: readonly string[];
  /** config licenses.default: SKUs every provisioned user gets, besides entitlements and group mappings. */
  defaultLicenses?: readonly string[];
  /** config licenses.skus: when non-empty, the only SKUs the bridge may assign. */
  allowedSkus?: readonly string[];
  /**
   * The accepted password not yet written (store pendingPassword). When the key is present it is the
   * only source, so a stored resource that still carried a password could not re-send it on every
   * diff; without the key, scimUser.password is used.
   */
  pendingPassword?: string;
  /** tokensValidFrom computed at ingress (SPEC section 4), ISO 8601. */
  tokensValidFrom?: string;
  /**
   * Graph reports onPremisesSyncEnabled true for the matched user (Entra Connect masters it):
   * Graph refuses profile writes, so the user gets licenses only (SPEC section 6).
   */
  onPremisesMastered?: boolean;
}

export interface DesiredUser {
  resourceId: string;
  mode: Mode;
  /** SCIM active. */
  active: boolean;
  adLinked: boolean;
  /** Recorded per user by mode (SPEC section 5); never written to the user object. */
  dirSyncEnabled: boolean;
  /** How the engine finds an existing Graph user before any POST: immutableId first, then UPN. */
  match: { onPremisesImmutableId: string | null; userPrincipalName: string };
  /**
   * Graph user properties the mode manages, Graph-shaped (nested employeeOrgData and
   * onPremisesExtensionAttributes), with null / [] for managed attributes SCIM no longer carries.
   * Includes accountEnabled and onPremisesImmutableId when the mode writes them.
   */
  properties: GraphBody;
  /** Present only when a password is to be written (create, or a change). Never logged. */
  password?: string;
  /** SCIM id of the manager (the engine resolves its Graph id); null: none; undefined: not managed by this mode. */
  manager?: string | null;
  /** skuIds the bridge wants assigned, sorted, unique. */
  licenses: string[];
  /** Entitlement values that name no known (or allowed) SKU: the engine surfaces them as an error. */
  unknownLicenses: string[];
  /** tokensValidFrom to apply (from ctx), ISO 8601. */
  tokensValidFrom?: string;
  /** Only licenses are written (license-only, or an on-premises mastered user). */
  licensesOnly: boolean;
  /** Values cut to Graph's maximum length, and similar notes for the log (never values). */
  warnings: string[];
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function rowValue(row: MappingRow, user: ScimUser, ctx: TranslateUserContext, warnings: string[]): GraphValue | undefined {
  const value = row.read(user, { defaultsUsageLocation: ctx.defaultsUsageLocation });
  if (value === undefined) return row.clear === 'keep' ? undefined : row.clear;
  if (typeof value === 'string' && row.maxLength && value.length > row.maxLength) {
    warnings.push(`${row.graph} cut to Graph's maximum of ${row.maxLength} characters`);
    return value.slice(0, row.maxLength);
  }
  return value;
}

function desiredProperties(mode: Mode, user: ScimUser, ctx: TranslateUserContext, warnings: string[]): GraphBody {
  const props: GraphBody = {};
  for (const row of rowsFor(mode)) {
    if (ctx.onPremisesMastered && readOnlyWhenSyncedFromOnPrem.includes(row.graph.split('.')[0])) continue;
    const value = rowValue(row, user, ctx, warnings);
    if (value !== undefined) setPath(props, row.graph, value);
  }
  return props;
}

function upnDomain(userName: string): string {
  return userName.split('@')[1]?.toLowerCase() ?? '';
}

/** Entitlement values and group-mapped SKUs -> skuIds; anything unresolvable goes to unknown. */
export function resolveLicenses(user: ScimUser, ctx: TranslateUserContext): { licenses: string[]; unknown: string[] } {
  const byPartNumber = new Map(Object.entries(ctx.licenseSkus).map(([part, id]) => [part.toLowerCase(), id.toLowerCase()]));
  const knownIds = new Set(byPartNumber.values());
  const allowed = (ctx.allowedSkus ?? []).map((s) => s.toLowerCase());
  const isAllowed = (skuId: string) => allowed.length === 0 || allowed.some((a) => a === skuId || byPartNumber.get(a) === skuId);

  const requested: string[] = [...(ctx.defaultLicenses ?? [])];
  for (const e of user.entitlements ?? []) {
    const v = e.value === undefined || e.value === null ? '' : String(e.value).trim();
    if (v) requested.push(v);
  }
  const groups = ctx.userGroups ?? (user.groups ?? []).flatMap((g) => [g.value, g.display].filter(Boolean).map(String));
  for (const [group, skus] of Object.entries(ctx.groupLicenses ?? {})) {
    if (groups.some((g) => g.toLowerCase() === group.toLowerCase())) requested.push(...skus);
  }

  const licenses = new Set<string>();
  const unknown = new Set<string>();
  for (const value of requested) {
    const lower = value.toLowerCase();
    const skuId = GUID.test(lower) && knownIds.has(lower) ? lower : byPartNumber.get(lower);
    if (skuId && isAllowed(skuId)) licenses.add(skuId);
    else unknown.add(value);
  }
  return { licenses: [...licenses].sort(), unknown: [...unknown].sort() };
}

/** SPEC section 5: the immutableId to match on, even in modes that never write it. */
function matchImmutableId(ext: BridgeExtension, adLinked: boolean, stamped: string | null): string | null {
  if (stamped) return stamped;
  if (adLinked && ext.objectGUID) return objectGuidToImmutableId(String(ext.objectGUID));
  return ext.immutableId ? String(ext.immutableId) : null;
}

export function translateUser(mode: Mode, scimUser: ScimUser, ctx: TranslateUserContext): DesiredUser {
  const ext = bridgeOf(scimUser) as BridgeExtension;
  const adLinked = isAdLinked(ext, ctx.sourceDirectories);
  const active = isActive(scimUser);
  const userPrincipalName = String(scimUser.userName ?? '').trim();
  const federated = (ctx.federatedDomains ?? []).some((d) => d.toLowerCase() === upnDomain(userPrincipalName));
  const licensesOnly = mode === 'license-only' || Boolean(ctx.onPremisesMastered);
  const sets = licensesOnly ? [] : attributeSetsFor(mode);
  const warnings: string[] = [];

  const stamped = licensesOnly ? null : immutableIdFor(mode, ctx.resourceId, ext, adLinked, federated);
  const properties = licensesOnly ? {} : desiredProperties(mode, scimUser, ctx, warnings);
  if (stamped) properties.onPremisesImmutableId = stamped;

  const { licenses, unknown } = resolveLicenses(scimUser, ctx);
  const password = 'pendingPassword' in ctx ? ctx.pendingPassword : typeof scimUser.password === 'string' ? scimUser.password : undefined;
  const managerValue = (enterpriseOf(scimUser).manager as { value?: unknown } | string | undefined) ?? undefined;
  const managerId = typeof managerValue === 'string' ? managerValue : managerValue?.value;

  return {
    resourceId: ctx.resourceId,
    mode,
    active,
    adLinked,
    dirSyncEnabled: dirSyncEnabledFor(mode),
    match: { onPremisesImmutableId: matchImmutableId(ext, adLinked, stamped), userPrincipalName },
    properties,
    // Users of a federated domain sign in at the federation's IdP: Entra holds no password to set
    // for them (a create still sends the generated one Graph requires).
    ...(password && sets.includes(passwordSet) && !federated ? { password } : {}),
    ...(sets.includes(managerSet) ? { manager: managerId ? String(managerId) : null } : {}),
    // license-only deactivation: remove the bridge-assigned licenses, touch nothing else (SPEC section 2).
    licenses: mode === 'license-only' && !active ? [] : licenses,
    unknownLicenses: unknown,
    ...(ctx.tokensValidFrom ? { tokensValidFrom: ctx.tokensValidFrom } : {}),
    licensesOnly,
    warnings,
  };
}
