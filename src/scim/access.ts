// Ownership and visibility (SPEC section 3): a source sees and changes what it owns; `seesAll`
// sees and changes everything; a source with `contributes` sees everything and may change only
// those attributes of resources it does not own. Plus If-Match (RFC 7644 section 3.14).
import type { ResourceTypeDef } from './schema';
import type { UnknownPolicy } from './coerce';
import { contributionMatcher } from './attribution-keys';
import type { Principal } from './auth';
import { forbidden, notFound, preconditionFailed } from '../errors';

/** The owner a list is restricted to, or null when the principal sees every resource. */
export function ownerScope(p: Principal): string | null {
  return p.source.seesAll || p.source.contributes.length > 0 ? null : p.source.id;
}

export function canSee(p: Principal, ownerId: string): boolean {
  return ownerId === p.source.id || ownerScope(p) === null;
}

export function assertVisible<T extends { sourceId: string }>(p: Principal, row: T | null, type: string, id: string): T {
  if (!row || !canSee(p, row.sourceId)) throw notFound(`${type} ${id} not found`);
  return row;
}

// Per source and resource type: what a source contributes is matched against that type's attributes.
const matchers = new WeakMap<object, Map<string, (key: string) => boolean>>();

/** A non-owner may change only what it contributes; 403 names the first attribute it may not. */
export function assertCanChange(rt: ResourceTypeDef, p: Principal, ownerId: string, changed: readonly string[]): void {
  if (ownerId === p.source.id || p.source.seesAll) return;
  let byType = matchers.get(p.source);
  if (!byType) matchers.set(p.source, (byType = new Map()));
  let allowed = byType.get(rt.name);
  if (!allowed) byType.set(rt.name, (allowed = contributionMatcher(rt, p.source.contributes)));
  const denied = changed.find((k) => !allowed!(k));
  if (denied) throw forbidden(`source "${p.source.id}" does not own this ${rt.name} and may not change ${denied}`);
}

export function assertOwner(p: Principal, ownerId: string, what: string): void {
  if (ownerId !== p.source.id && !p.source.seesAll) throw forbidden(`source "${p.source.id}" does not own this ${what}`);
}

/** The conditional headers of a write (RFC 7232, RFC 7644 section 3.14). */
export interface Preconditions {
  ifMatch?: string;
  ifNoneMatch?: string;
}

export interface WriteOptions extends Preconditions {
  /** How attributes the schema does not define are treated (see resource-routes). */
  unknown?: UnknownPolicy;
}

/**
 * If-Match: `*` or a list of (weak or strong) entity tags; 412 when none is the current one.
 * If-None-Match on a write: 412 when it names the current version (or is `*`).
 */
export function checkIfMatch(pre: Preconditions | undefined, version: number): void {
  const current = String(version);
  const ifMatch = pre?.ifMatch;
  if (ifMatch !== undefined && ifMatch.trim() !== '*') {
    const tags = ifMatch.split(',').map((t) => t.trim().replace(/^W\//i, '').replace(/^"|"$/g, ''));
    if (!tags.includes(current)) throw preconditionFailed(`the resource is at version W/"${current}", not ${ifMatch.trim().slice(0, 100)}`);
  }
  if (pre?.ifNoneMatch !== undefined && notModified(pre.ifNoneMatch, version)) {
    throw preconditionFailed(`If-None-Match names the current version W/"${current}"`);
  }
}

/** If-None-Match on GET: true when the client's copy is current (answer 304). */
export function notModified(header: string | undefined, version: number): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  const current = String(version);
  return header.split(',').some((t) => t.trim().replace(/^W\//i, '').replace(/^"|"$/g, '') === current);
}
