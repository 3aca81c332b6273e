// Graph bodies as flat dotted paths and back: the diff compares employeeOrgData.costCenter and
// onPremisesExtensionAttributes.extensionAttributeN one by one, then nests what it writes.
export type GraphBody = Record<string, unknown>;

// Graph complex types the bridge writes member by member; every other value is compared whole.
const COMPLEX = new Set(['employeeOrgData', 'onPremisesExtensionAttributes']);

export function setPath(target: GraphBody, path: string, value: unknown): void {
  const [head, tail] = splitPath(path);
  if (tail === undefined) {
    target[head] = value;
    return;
  }
  const node = (target[head] && typeof target[head] === 'object' ? target[head] : (target[head] = {})) as GraphBody;
  node[tail] = value;
}

function splitPath(path: string): [string, string | undefined] {
  const dot = path.indexOf('.');
  return dot < 0 ? [path, undefined] : [path.slice(0, dot), path.slice(dot + 1)];
}

export function flatten(body: GraphBody | undefined): Map<string, unknown> {
  const flat = new Map<string, unknown>();
  for (const [key, value] of Object.entries(body ?? {})) {
    if (COMPLEX.has(key) && value && typeof value === 'object' && !Array.isArray(value)) {
      for (const [member, v] of Object.entries(value as GraphBody)) flat.set(`${key}.${member}`, v);
    } else flat.set(key, value);
  }
  return flat;
}

export function unflatten(flat: Iterable<[string, unknown]>): GraphBody {
  const body: GraphBody = {};
  for (const [path, value] of flat) setPath(body, path, value);
  return body;
}

export function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => sameValue(v, b[i]));
  }
  return a === b;
}

/** A value that writes nothing on create: null, or an empty collection. */
export function isEmptyValue(value: unknown): boolean {
  return value === null || value === undefined || (Array.isArray(value) && value.length === 0);
}
