// Attribution granularity (SPEC section 3): one key per attribute a source can set. Simple and
// multi-valued attributes by name (`title`, `emails`), single complex ones by sub-attribute
// (`name.givenName`), extension attributes by URN (`urn:...:enterprise:2.0:User:department`).
import { isObject } from './coerce';
import { findInSchema, resolvePath, type ResourceTypeDef } from './schema';

function leaves(rt: ResourceTypeDef, data: Record<string, unknown>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(data)) {
    const ext = rt.extensions.find((e) => e.schema.id === key);
    if (ext && isObject(value)) {
      for (const [name, v] of Object.entries(value)) out.set(`${key}:${name}`, JSON.stringify(v));
      continue;
    }
    const attr = rt.core.get(key.toLowerCase());
    if (attr?.type === 'complex' && !attr.multiValued && isObject(value)) {
      for (const [sub, v] of Object.entries(value)) out.set(`${key}.${sub}`, JSON.stringify(v));
    } else out.set(key, JSON.stringify(value));
  }
  return out;
}

/** Keys whose value differs between two stored forms (either may be null for create/delete). */
export function changedAttributes(rt: ResourceTypeDef, before: Record<string, unknown> | null, after: Record<string, unknown>): string[] {
  const a = before ? leaves(rt, before) : new Map<string, string>();
  const b = leaves(rt, after);
  const keys = new Set([...a.keys(), ...b.keys()]);
  return [...keys].filter((k) => a.get(k) !== b.get(k)).sort();
}

/**
 * A predicate for the keys a contributing source may change (config `contributes`). Entries are
 * attribute paths; a bare extension attribute name (`department`) matches in any extension.
 */
export function contributionMatcher(rt: ResourceTypeDef, names: readonly string[]): (key: string) => boolean {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const name of names) {
    const resolved = resolvePath(rt, name);
    if (resolved) {
      const base = resolved.schema ? `${resolved.schema}:${resolved.attr.name}` : resolved.attr.name;
      if (resolved.sub) exact.add(`${base}.${resolved.sub.name}`);
      else {
        exact.add(base);
        prefixes.push(`${base}.`);
      }
      continue;
    }
    for (const { schema } of rt.extensions) {
      const attr = findInSchema(schema, name);
      if (attr) exact.add(`${schema.id}:${attr.name}`);
    }
  }
  return (key) => exact.has(key) || prefixes.some((p) => key.startsWith(p));
}
