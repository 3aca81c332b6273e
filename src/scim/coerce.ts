// Input coercion against the schema (RFC 7643 section 2): canonical attribute names whatever
// the case, JSON types as the schema says, with the two leniencies real IdPs need: "True"/"False"
// strings as booleans (Entra) and a bare id for a reference attribute (manager, members). null,
// "" , [] and {} are unassigned (RFC 7643 section 2.5). Read-only attributes in a body are ignored
// (RFC 7644 section 3.5.1); an unknown attribute with a value is refused rather than dropped, so
// that a mapping mistake surfaces at the IdP instead of losing data.
import type { AttrDef } from './schema';
import { findSub } from './schema';
import type { IgnoredExtension } from './foreign-extensions';
import { checkText } from './text';
import { invalidSyntax, invalidValue } from '../errors';

export const MAX_STRING = 65_536;
/** Values one multi-valued attribute may hold (emails, phoneNumbers, addresses, entitlements, roles, ...). Group members are stored apart and bounded by the body size. */
export const MAX_VALUES = 100;

export function tooManyValues(path: string): Error {
  return invalidValue(`${path} may hold at most ${MAX_VALUES} values`);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function coerceSimple(attr: AttrDef, value: unknown, path: string): unknown {
  if (value === null || value === undefined) return undefined;
  switch (attr.type) {
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) return value.trim().toLowerCase() === 'true';
      throw invalidValue(`${path} must be a boolean`);
    case 'integer':
    case 'decimal': {
      const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
      if (!Number.isFinite(n) || (attr.type === 'integer' && !Number.isInteger(n)))
        throw invalidValue(`${path} must be ${attr.type === 'integer' ? 'an integer' : 'a number'}`);
      return n;
    }
    case 'dateTime':
      if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) throw invalidValue(`${path} must be an xsd:dateTime string`);
      return checkText(value, path);
    case 'complex':
      throw invalidValue(`${path} is complex`);
    default:
      if (attr.name === 'pwdLastSet') return pwdLastSet(value, path);
      if (typeof value !== 'string') throw invalidValue(`${path} must be a string`);
      if (value.length > MAX_STRING) throw invalidValue(`${path} is longer than ${MAX_STRING} characters`);
      return checkText(value, path, { verbatim: attr.name === 'password' });
  }
}

/** AD pwdLastSet: a FILETIME (integer or digits) or an ISO 8601 date; stored as a string. */
function pwdLastSet(value: unknown, path: string): string {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value);
  if (typeof value === 'string' && (/^\d{1,20}$/.test(value) || (/^\d{4}-\d\d-\d\d/.test(value) && !Number.isNaN(Date.parse(value))))) return value;
  throw invalidValue(`${path} must be an AD FILETIME integer or an ISO 8601 date`);
}

/** null, "", [] and {} (RFC 7643 section 2.5): a value that asserts nothing. */
export function isUnassigned(value: unknown): boolean {
  if (value === null || value === undefined || value === '') return true;
  if (Array.isArray(value)) return value.every(isUnassigned);
  if (isObject(value)) return Object.values(value).every(isUnassigned);
  return false;
}

export function unknownAttribute(path: string): Error {
  return invalidSyntax(`unknown attribute "${path}"`);
}

/**
 * What to do with an attribute the schema does not define: refuse it, or drop it and say which. Unknown
 * extension schemas are ignored either way (foreign-extensions.ts) and noted in `extensions`.
 */
export interface UnknownPolicy {
  ignore: boolean;
  ignored: string[];
  extensions: IgnoredExtension[];
}

export function onUnknown(policy: UnknownPolicy | undefined, path: string, raw: unknown): void {
  if (isUnassigned(raw)) return;
  const shown = path.length > 200 ? `${path.slice(0, 200)}...` : path;
  if (!policy?.ignore) throw unknownAttribute(shown);
  policy.ignored.push(shown);
}

/** A complex value: known sub-attributes in canonical case, read-only ones dropped; undefined if empty. */
export function coerceComplex(attr: AttrDef, value: unknown, path: string, keepReadOnly = false, unknown?: UnknownPolicy): Record<string, unknown> | undefined {
  if (value === null || value === undefined) return undefined;
  if (!isObject(value)) {
    // A bare id for a reference attribute (one with a $ref): Entra's manager and members.
    if (typeof value === 'string' && findSub(attr, '$ref') && findSub(attr, 'value')) return value === '' ? undefined : { value };
    throw invalidValue(`${path} must be an object`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(value)) {
    const sub = findSub(attr, key);
    if (!sub) {
      onUnknown(unknown, `${path}.${key}`, raw);
      continue;
    }
    if (!keepReadOnly && sub.mutability === 'readOnly') continue;
    const v = coerceSimple(sub, raw, `${path}.${sub.name}`);
    if (v !== undefined) out[sub.name] = v;
  }
  return Object.keys(out).length ? orderLike(attr, out) : undefined;
}

/** Sub-attributes in schema order, so equal values serialise equally. */
function orderLike(attr: AttrDef, obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const sub of attr.subAttributes ?? []) if (obj[sub.name] !== undefined) out[sub.name] = obj[sub.name];
  return out;
}

/** One attribute value of any shape; multi-valued values are lists without duplicates or empties. */
export function coerceAttr(attr: AttrDef, value: unknown, path: string, unknown?: UnknownPolicy): unknown {
  if (value === null || value === undefined) return undefined;
  if (attr.multiValued) {
    const list = Array.isArray(value) ? value : [value];
    const out: unknown[] = [];
    const seen = new Set<string>();
    for (const item of list) {
      const v = attr.type === 'complex' ? coerceComplex(attr, item, path, false, unknown) : coerceSimple(attr, item, path);
      if (v === undefined) continue;
      const key = JSON.stringify(v);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(v);
      if (out.length > MAX_VALUES) throw tooManyValues(path);
    }
    return out.length ? singlePrimary(out) : undefined;
  }
  // A one-element list for a single-valued reference (a complex attribute with $ref): Entra's manager PATCH,
  // `"value": [{"$ref": "...", "value": "<id>"}]` (Microsoft Learn SCIM provisioning tutorial).
  if (attr.type === 'complex' && Array.isArray(value) && value.length === 1 && findSub(attr, '$ref'))
    return coerceComplex(attr, value[0], path, false, unknown);
  if (attr.type === 'complex') return coerceComplex(attr, value, path, false, unknown);
  return coerceSimple(attr, value, path);
}

/** RFC 7643 section 2.4: at most one value is primary; the first one marked wins. */
export function singlePrimary(list: unknown[]): unknown[] {
  let seen = false;
  return list.map((item) => {
    if (!isObject(item) || item.primary !== true) return item;
    if (!seen) {
      seen = true;
      return item;
    }
    return { ...item, primary: false };
  });
}

export { isObject };
