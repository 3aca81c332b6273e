// Pure rules of SPEC sections 3 to 5: who is AD-linked, how pwdLastSet and objectGUID
// become Graph values, and what tokensValidFrom and dirSyncEnabled are in each mode.
import { createHash } from 'node:crypto';
import type { Config, DirectoryConfig, Mode } from '../config';

export const BRIDGE_USER_SCHEMA = 'urn:ietf:params:scim:schemas:extension:graphbridge:2.0:User';
export const ENTERPRISE_USER_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

// FILETIME: 100 ns ticks since 1601-01-01T00:00:00Z.
const FILETIME_EPOCH_OFFSET_MS = 11_644_473_600_000n;

/** pwdLastSet as AD FILETIME integer (number or digit string) or ISO 8601; null for 0, absent or unreadable. */
export function pwdLastSetToDate(value: unknown): Date | null {
  if (value === undefined || value === null || value === '' || value === 0 || value === '0') return null;
  if (typeof value === 'number' || (typeof value === 'string' && /^\d+$/.test(value))) {
    const ticks = BigInt(typeof value === 'number' ? Math.trunc(value) : value);
    if (ticks <= 0n) return null;
    const ms = ticks / 10_000n - FILETIME_EPOCH_OFFSET_MS;
    const date = new Date(Number(ms));
    return Number.isNaN(date.getTime()) ? null : date;
  }
  if (typeof value === 'string') {
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? null : date;
  }
  return null;
}

/** AD objectGUID (canonical string form) -> base64 of Guid.ToByteArray(): first three groups little-endian. */
export function objectGuidToImmutableId(guid: string): string | null {
  const hex = guid.replace(/[{}-]/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) {
    // Already base64 of 16 bytes: take it as given.
    const bytes = Buffer.from(guid, 'base64');
    return bytes.length === 16 && /^[A-Za-z0-9+/]{22}==$/.test(guid) ? guid : null;
  }
  const b = Buffer.from(hex, 'hex');
  const ordered = Buffer.concat([
    Buffer.from(b.subarray(0, 4)).reverse(),
    Buffer.from(b.subarray(4, 6)).reverse(),
    Buffer.from(b.subarray(6, 8)).reverse(),
    b.subarray(8, 16),
  ]);
  return ordered.toString('base64');
}

/** A stable immutableId for users with neither objectGUID nor an explicit immutableId. */
export function derivedImmutableId(resourceId: string): string {
  return createHash('sha256').update(`scim-graph-bridge:${resourceId}`).digest().subarray(0, 16).toString('base64');
}

export interface BridgeExtension {
  sourceDirectory?: string;
  objectGUID?: string;
  pwdLastSet?: string | number;
  immutableId?: string;
  [key: string]: unknown;
}

/** SPEC section 3: AD-linked when sourceDirectory names an ad directory of the source, or the source has exactly one and the user carries objectGUID. */
export function isAdLinked(ext: BridgeExtension | undefined, directories: readonly DirectoryConfig[]): boolean {
  if (!ext) return false;
  const ad = directories.filter((d) => d.type === 'ad');
  if (ext.sourceDirectory) return ad.some((d) => d.id.toLowerCase() === String(ext.sourceDirectory).toLowerCase());
  return ad.length === 1 && Boolean(ext.objectGUID);
}

export function dirSyncEnabledFor(mode: Mode): boolean {
  return mode === 'user-sync' || mode === 'universal-sync';
}

/**
 * The inbound writer provisions into on-premises AD (graph.writer "inbound", target "ad", any mode that
 * writes profiles): Entra Connect or Cloud Sync bring the users to Entra, and dirSyncEnabled is what
 * Graph reports for each user (onPremisesSyncEnabled), not the mode's.
 */
export function syncedThroughAd(config: Pick<Config, 'graph'>, mode: Mode): boolean {
  return config.graph.writer === 'inbound' && config.graph.inbound?.target === 'ad' && mode !== 'license-only';
}

/** SPEC section 4: the tokensValidFrom a password change yields. */
export function tokensValidFromFor(mode: Mode, adLinked: boolean, pwdLastSet: unknown, acceptedAt: Date): Date {
  if (dirSyncEnabledFor(mode) && adLinked) return pwdLastSetToDate(pwdLastSet) ?? acceptedAt;
  return acceptedAt;
}

/** SPEC section 5: the onPremisesImmutableId a user gets, or null when the mode writes none. */
export function immutableIdFor(mode: Mode, resourceId: string, ext: BridgeExtension | undefined, adLinked: boolean, federatedDomain: boolean): string | null {
  if (mode === 'license-only') return null;
  if (mode === 'profile-sync' && !adLinked && !federatedDomain) return null;
  if (adLinked && ext?.objectGUID) {
    const fromGuid = objectGuidToImmutableId(String(ext.objectGUID));
    if (fromGuid) return fromGuid;
  }
  if (ext?.immutableId) return String(ext.immutableId);
  return derivedImmutableId(resourceId);
}

export interface WriteFacts {
  /** The write created the user: creation is not a password change. */
  created: boolean;
  /** The write carried a password. */
  passwordSent: boolean;
  /** The user's bridge extension after the write. */
  ext?: BridgeExtension;
  /** pwdLastSet before the write. */
  previousPwdLastSet?: unknown;
}

/**
 * SPEC section 4: the tokensValidFrom a SCIM write yields, or null when it is no password change
 * (a password for an existing user, or a pwdLastSet that advances; a replayed or older pwdLastSet
 * is none). The engine revokes only when the value passes the last one applied.
 */
export function tokensValidFromOnWrite(mode: Mode, facts: WriteFacts, directories: readonly DirectoryConfig[], acceptedAt: Date): Date | null {
  if (facts.created) return null;
  const now = pwdLastSetToDate(facts.ext?.pwdLastSet);
  const before = pwdLastSetToDate(facts.previousPwdLastSet);
  const advanced = now !== null && (before === null || now.getTime() > before.getTime());
  if (!facts.passwordSent && !advanced) return null;
  return tokensValidFromFor(mode, isAdLinked(facts.ext, directories), facts.ext?.pwdLastSet, acceptedAt);
}
