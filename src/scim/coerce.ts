// Input coercion against the schema (RFC 7643 section 2): canonical attribute names whatever
// the case, "True"/"False" strings as booleans (Entra), bare strings for complex attributes
// with a `value` (manager, members), null as unassigned. Unknown and read-only attributes in
// a resource body are ignored (RFC 7644 section 3.5.1); wrong types are 400 invalidValue.
import type { AttrDef } from './schema';
import { findSub } from './schema';
import { invalidValue } from './errors';

export const MAX_STRING = 65_536;

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
      if (!Number.isFinite(n) || (attr.type === 'integer' && !Number.isInteger(n))) throw invalidValue(`${path} must be ${attr.type === 'integer' ? 'an integer' : 'a number'}`);
      return n;
    }
    case 'dateTime':
      if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) throw invalidValue(`${path} must be an xsd:dateTime string`);
      return value;
    case 'complex':
      throw invalidValue(`${path} is complex`);
    default: {
      let s: string;
      if (typeof value === 'string') s = value;
      else if (typeof value === 'number' || typeof value === 'boolean') s = String(value);
      else throw invalidValue(`${path} must be a string`);
      if (s.length > MAX_STRING) throw invalidValue(`${path} is longer than ${MAX_STRING} characters`);
      return s;
    }
  }
}

/** A complex value: known sub-attributes in canonical case, read-only ones dropped; undefined if empty. */
export function coerceComplex(attr: AttrDef, value: unknown, path: string, keepReadOnly = false): Record<string, unknown> | undefined {
  if (value === null || value === undefined) return undefined;
  if (!isObject(value)) {
    // A bare value for an attribute with a `value` sub-attribute: Entra's manager and members.
    if ((typeof value === 'string' || typeof value === 'number') && findSub(attr, 'value')) {
      return value === '' ? undefined : { value: String(value) };
    }
    throw invalidValue(`${path} must be an object`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(value)) {
    const sub = findSub(attr, key);
    if (!sub || (!keepReadOnly && sub.mutability === 'readOnly')) continue;
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
export function coerceAttr(attr: AttrDef, value: unknown, path: string): unknown {
  if (value === null || value === undefined) return undefined;
  if (attr.multiValued) {
    const list = Array.isArray(value) ? value : [value];
    const out: unknown[] = [];
    const seen = new Set<string>();
    for (const item of list) {
      const v = attr.type === 'complex' ? coerceComplex(attr, item, path) : coerceSimple(attr, item, path);
      if (v === undefined) continue;
      const key = JSON.stringify(v);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(v);
    }
    return out.length ? singlePrimary(out) : undefined;
  }
  if (attr.type === 'complex') return coerceComplex(attr, value, path);
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
