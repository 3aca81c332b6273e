// Desired Graph state versus the state the bridge last applied -> the minimal Graph writes
// (SPEC section 7). A property equal to what was applied is not written; a no-op writes nothing;
// only licenses the bridge assigned are ever removed; the mode's attribute sets bound every write.
import { randomBytes } from 'node:crypto';
import type { Mode } from '../config';
import { managedGraphProperties } from './mapping';
import { type GraphBody, flatten, isEmptyValue, sameValue, unflatten } from './paths';
import type { DesiredUser } from './translate-user';

export { translateGroup, diffGroup } from './group';
export type { AppliedGroupSnapshot, ScimGroup } from './group';

/** What the engine stores after applying a user (store.sync appliedSnapshot). Never holds a password. */
export interface AppliedUserSnapshot {
  /** Graph properties as last written (Graph-shaped, like DesiredUser.properties). */
  properties: GraphBody;
  /** SCIM id of the manager last linked; null after a removal; absent when never managed. */
  manager?: string | null;
  /** The manager's Graph id, for the engine's own bookkeeping; carried over untouched. */
  managerGraphId?: string | null;
  /** skuIds the bridge assigned (and so may remove). */
  licenses: string[];
  /** The last tokensValidFrom for which revokeSignInSessions was sent (or recorded at create). */
  tokensValidFrom?: string;
}

/** assignLicense body members (learn.microsoft.com/graph/api/user-assignlicense). */
export interface LicenseChange {
  addLicenses: { disabledPlans: string[]; skuId: string }[];
  removeLicenses: string[];
}

export interface UserDiff {
  /** POST /users body (only when there is no Graph user yet and the mode creates users). */
  create?: GraphBody;
  /** PATCH /users/{id} body: only the changed properties. */
  patch?: GraphBody;
  /** PUT or DELETE /users/{id}/manager/$ref; set carries the manager's SCIM id. */
  manager?: { set: string } | { remove: true };
  /** POST /users/{id}/assignLicense */
  licenses?: LicenseChange;
  /** POST /users/{id}/revokeSignInSessions */
  revoke?: boolean;
  /** To store once every write above has succeeded. */
  nextSnapshot: AppliedUserSnapshot;
}

export interface DiffOptions {
  /** For users created without a SCIM password (SSO users): Graph requires a passwordProfile. */
  generatePassword?: () => string;
}

/** The snapshot of a Graph user the bridge matched but has not written yet. */
export function emptySnapshot(): AppliedUserSnapshot {
  return { properties: {}, licenses: [] };
}

// 24 random bytes in base64 plus a fixed tail: long, and meets Entra's three-of-four character classes.
export function randomPassword(): string {
  return `${randomBytes(24).toString('base64')}aA1!`;
}

function passwordProfile(password: string): GraphBody {
  return { password, forceChangePasswordNextSignIn: false };
}

// Graph may treat a complex value in a PATCH as a whole; employeeOrgData is sent complete when
// any member changes. onPremisesExtensionAttributes is documented to accept single members.
const SENT_WHOLE = ['employeeOrgData'];

function createBody(desired: DesiredUser, options: DiffOptions): GraphBody {
  const flat = [...flatten(desired.properties)].filter(([, v]) => !isEmptyValue(v));
  const body = unflatten(flat);
  body.passwordProfile = passwordProfile(desired.password ?? (options.generatePassword ?? randomPassword)());
  return body;
}

function changedProperties(desired: GraphBody, applied: GraphBody): GraphBody | undefined {
  const want = flatten(desired);
  const have = flatten(applied);
  const changed = new Map<string, unknown>();
  for (const [path, value] of want) {
    const before = have.get(path);
    if (sameValue(value, before)) continue;
    // Nothing the bridge wrote to clear: leave what is there (drift handles foreign values).
    if (before === undefined && isEmptyValue(value)) continue;
    changed.set(path, value);
  }
  for (const whole of SENT_WHOLE) {
    if ([...changed.keys()].some((p) => p.startsWith(`${whole}.`))) {
      for (const [path, value] of want) if (path.startsWith(`${whole}.`)) changed.set(path, value);
    }
  }
  return changed.size ? unflatten(changed) : undefined;
}

function licenseChange(desired: readonly string[], applied: readonly string[]): LicenseChange | undefined {
  const want = new Set(desired);
  const have = new Set(applied);
  const add = [...want].filter((s) => !have.has(s)).sort();
  const remove = [...have].filter((s) => !want.has(s)).sort();
  if (!add.length && !remove.length) return undefined;
  return { addLicenses: add.map((skuId) => ({ disabledPlans: [], skuId })), removeLicenses: remove };
}

function managerChange(desired: DesiredUser, applied: AppliedUserSnapshot | null): UserDiff['manager'] {
  if (desired.manager === undefined) return undefined;
  const before = applied?.manager ?? null;
  if (desired.manager === before) return undefined;
  return desired.manager === null ? { remove: true } : { set: desired.manager };
}

function later(a: string | undefined, b: string | undefined): boolean {
  if (!a) return false;
  if (!b) return true;
  return Date.parse(a) > Date.parse(b);
}

/** SPEC section 4: revoke only when tokensValidFrom advances; replays and older values revoke nothing. */
function tokensAdvance(desired: DesiredUser, applied: AppliedUserSnapshot): boolean {
  return later(desired.tokensValidFrom, applied.tokensValidFrom);
}

function nextSnapshotOf(desired: DesiredUser, applied: AppliedUserSnapshot | null): AppliedUserSnapshot {
  const base = applied ?? emptySnapshot();
  const properties = unflatten([...flatten(base.properties), ...flatten(desired.properties)]);
  const manager = desired.manager === undefined ? base.manager : desired.manager;
  const tokensValidFrom = later(desired.tokensValidFrom, base.tokensValidFrom) ? desired.tokensValidFrom : base.tokensValidFrom;
  return {
    properties,
    ...(manager !== undefined ? { manager } : {}),
    ...(base.managerGraphId !== undefined && manager === base.manager ? { managerGraphId: base.managerGraphId } : {}),
    licenses: [...desired.licenses],
    ...(tokensValidFrom ? { tokensValidFrom } : {}),
  };
}

/**
 * The minimal writes that bring Graph from `applied` to `desired`. `applied` null: no Graph user yet
 * (create, except license-only, which only matches: the engine must match before licensing).
 */
export function diffUser(
  desired: DesiredUser,
  applied: AppliedUserSnapshot | null | undefined,
  mode: Mode = desired.mode,
  options: DiffOptions = {},
): UserDiff {
  const snapshot = applied ?? null;
  const diff: UserDiff = { nextSnapshot: nextSnapshotOf(desired, snapshot) };
  const writesProfile = mode !== 'license-only' && !desired.licensesOnly;

  if (!snapshot) {
    if (writesProfile) diff.create = createBody(desired, options);
  } else if (writesProfile) {
    const patch = changedProperties(desired.properties, snapshot.properties) ?? {};
    if (desired.password) patch.passwordProfile = passwordProfile(desired.password);
    if (Object.keys(patch).length) diff.patch = patch;
  }

  const manager = managerChange(desired, snapshot);
  if (manager && writesProfile) diff.manager = manager;

  const licenses = licenseChange(desired.licenses, snapshot?.licenses ?? []);
  if (licenses) diff.licenses = licenses;

  if (snapshot) {
    // Deactivation in the writing modes: accountEnabled=false plus revoke, once (SPEC section 2).
    const disabling = diff.patch?.accountEnabled === false;
    if (disabling || tokensAdvance(desired, snapshot)) diff.revoke = true;
  }
  return diff;
}

/**
 * The managed part of a Graph user (GET /users/{id} or a /users/delta item) in snapshot shape, so
 * drift (SPEC section 8) can diff desired state against what Graph really holds.
 */
export function graphUserProperties(graphUser: Record<string, unknown>, mode: Mode): GraphBody {
  const keep = new Set([...managedGraphProperties(mode), ...(mode === 'license-only' ? [] : ['onPremisesImmutableId'])]);
  return Object.fromEntries(Object.entries(graphUser).filter(([key]) => keep.has(key)));
}

/**
 * Managed properties whose Graph value differs from what the bridge last applied: the drift events
 * (what changed; who and when come from the directory audit or delta timestamps).
 */
export function driftedProperties(applied: AppliedUserSnapshot, graphUser: Record<string, unknown>, mode: Mode): string[] {
  const have = flatten(applied.properties);
  const now = flatten(graphUserProperties(graphUser, mode));
  const drifted: string[] = [];
  for (const [path, value] of have) {
    if (!now.has(path) && !now.has(path.split('.')[0])) continue; // not in this delta page / $select
    const current = now.has(path) ? now.get(path) : null;
    if (!sameValue(normalise(value), normalise(current))) drifted.push(path);
  }
  return drifted;
}

// Graph reports an unset string as null and an unset collection as []; the snapshot may hold either.
function normalise(value: unknown): unknown {
  return value === undefined || (Array.isArray(value) && value.length === 0) ? null : value;
}
