// Extension schemas a resource type does not implement (RFC 7643 section 3.3). Real IdPs send them:
// Entra ID with custom attribute mappings ("urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User"
// in `schemas`, as a key, in PATCH paths), Okta with a custom namespace. The bridge cannot map them to
// Graph, and refusing them would stop a whole tenant provisioning, so in both content types they are
// accepted and their attributes ignored: never stored, never returned. Each one is noted (URN and where
// it was seen, never a value) for the request's log line. Core schemas, API messages and anything that
// is not a URN are not extensions: those stay refused.
import type { ResourceTypeDef } from './schema';

/** Where in a request an ignored extension was seen. */
export type ExtensionSite = 'schemas' | 'attribute' | 'path' | 'filter';

export interface IgnoredExtension {
  urn: string;
  in: ExtensionSite;
}

/** Longer URNs are not taken for extensions (and stay refused): no IdP sends one, and they bloat logs. */
export const MAX_EXTENSION_URN = 512;

// RFC 8141: "urn:" NID ":" NSS, NSS of pchar (RFC 3986) and "/".
const URN = /^urn:[a-z0-9][a-z0-9-]{0,30}[a-z0-9]:[a-z0-9\-._~!$&'()*+,;=:@%/]+$/i;
// RFC 7643 section 3 core schemas and RFC 7644 section 3.1 message schemas: never an extension.
const NOT_EXTENSION = /^urn:ietf:params:scim:(schemas:core|api):/i;

function known(rt: ResourceTypeDef, lower: string): boolean {
  return rt.extensions.some(({ schema }) => {
    const id = schema.id.toLowerCase();
    return lower === id || lower.startsWith(`${id}:`);
  });
}

/** Whether `urn` (a `schemas` entry) names an extension schema this resource type does not implement. */
export function isForeignExtension(rt: ResourceTypeDef, urn: string): boolean {
  return urn.length <= MAX_EXTENSION_URN && URN.test(urn) && !NOT_EXTENSION.test(urn) && !known(rt, urn.toLowerCase());
}

/**
 * The unknown extension a key, PATCH path or filter attribute falls under, or undefined when it is a
 * core attribute, a known extension's, or no URN at all. `urn:attr[.sub]` puts the attribute after the
 * last colon (RFC 7644 section 3.10), but an extension URN itself may end in an attribute-like word, so
 * the URN is, in order: one the body lists in `schemas`; the whole path when it ends in the resource
 * type's name (the convention, `...:2.0:User`); up to `:User:` when it contains that; the whole path
 * when its value is an object (an extension's attributes); else everything before the last colon.
 */
export function foreignExtensionOf(rt: ResourceTypeDef, path: string, opts: { listed?: readonly string[]; objectValue?: boolean } = {}): string | undefined {
  const head = path.split('[')[0]; // a PATCH value filter is not part of the URN
  const lower = head.toLowerCase();
  if (!URN.test(head) || NOT_EXTENSION.test(head) || known(rt, lower)) return undefined;
  const listed = (opts.listed ?? []).filter((l) => lower === l.toLowerCase() || lower.startsWith(`${l.toLowerCase()}:`));
  const name = `:${rt.name.toLowerCase()}`;
  let urn: string;
  if (listed.length) urn = listed.reduce((a, b) => (b.length > a.length ? b : a));
  else if (lower.endsWith(name)) urn = head;
  else if (lower.includes(`${name}:`)) urn = head.slice(0, lower.lastIndexOf(`${name}:`) + name.length);
  else if (opts.objectValue) urn = head;
  else urn = head.slice(0, head.lastIndexOf(':'));
  return isForeignExtension(rt, urn) ? urn : undefined;
}

/**
 * Entra's classic provisioning client lists `http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group`
 * beside the core schema when it creates a group (Microsoft Learn, "Tutorial: Develop and plan provisioning
 * for a SCIM endpoint", Create Group). It defines no attributes: a marker, accepted silently in `schemas`.
 */
const ENTRA_CLASSIC_MARKER = 'http://schemas.microsoft.com/2006/11/resourcemanagement/adscim/2.0/';

export function isAttributelessMarker(rt: ResourceTypeDef, schema: string): boolean {
  return schema.toLowerCase() === `${ENTRA_CLASSIC_MARKER}${rt.name.toLowerCase()}`;
}

/** Records an ignored extension once per URN and site. */
export function noteExtension(notes: IgnoredExtension[] | undefined, urn: string, site: ExtensionSite): void {
  if (!notes || notes.some((n) => n.urn === urn && n.in === site)) return;
  notes.push({ urn, in: site });
}

/** What the ingress left out of a write, for its audit row: attribute names and extension URNs, never values. */
export function ignoredForAudit(unknown?: { ignored: string[]; extensions: IgnoredExtension[] }): Record<string, unknown> | undefined {
  const attributes = [...new Set(unknown?.ignored ?? [])];
  const extensions = [...new Set((unknown?.extensions ?? []).map((e) => e.urn))];
  if (!attributes.length && !extensions.length) return undefined;
  return { ignored: { ...(attributes.length ? { attributes } : {}), ...(extensions.length ? { extensions } : {}) } };
}
