// SCIM schema definitions (RFC 7643): core User and Group from scimmy, the enterprise and
// bridge extensions from schemas/. Used for discovery, input coercion, filters and PATCH paths;
// every name lookup is case-insensitive (RFC 7643 section 2.1) and answers the canonical name.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import SCIMMY from 'scimmy';
import { BRIDGE_USER_SCHEMA, ENTERPRISE_USER_SCHEMA } from '../rules/identity';

export const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const CORE_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
/** The bridge's Group extension: read-only sync state (source, graphId, syncState, lastSyncError). */
export const BRIDGE_GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:extension:graphbridge:2.0:Group';
export { BRIDGE_USER_SCHEMA, ENTERPRISE_USER_SCHEMA };

export type AttrType = 'string' | 'boolean' | 'decimal' | 'integer' | 'dateTime' | 'reference' | 'binary' | 'complex';

export interface AttrDef {
  name: string;
  type: AttrType;
  multiValued: boolean;
  description?: string;
  required: boolean;
  caseExact: boolean;
  mutability: 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
  returned: 'always' | 'never' | 'default' | 'request';
  uniqueness?: string;
  canonicalValues?: string[];
  referenceTypes?: string[];
  subAttributes?: AttrDef[];
}

export interface SchemaDef {
  id: string;
  name: string;
  description: string;
  attributes: AttrDef[];
}

export interface ResourceTypeDef {
  name: 'User' | 'Group';
  endpoint: string;
  description: string;
  schema: SchemaDef;
  extensions: { schema: SchemaDef; required: boolean }[];
  /** Lower-cased name -> attribute, for the core schema plus the common attributes. */
  core: Map<string, AttrDef>;
}

function normalise(a: Partial<AttrDef> & { name: string }): AttrDef {
  return {
    name: a.name,
    type: (a.type ?? 'string') as AttrType,
    multiValued: Boolean(a.multiValued),
    ...(a.description ? { description: a.description } : {}),
    required: Boolean(a.required),
    caseExact: Boolean(a.caseExact),
    mutability: a.mutability ?? 'readWrite',
    returned: a.returned ?? 'default',
    ...(a.uniqueness ? { uniqueness: a.uniqueness } : {}),
    ...(a.canonicalValues?.length ? { canonicalValues: a.canonicalValues } : {}),
    ...(a.referenceTypes?.length ? { referenceTypes: a.referenceTypes } : {}),
    ...(a.subAttributes ? { subAttributes: a.subAttributes.map(normalise) } : {}),
  };
}

function fromJson(json: { id: string; name: string; description: string; attributes: AttrDef[] }): SchemaDef {
  return { id: json.id, name: json.name, description: json.description, attributes: json.attributes.map(normalise) };
}

function fromScimmy(schema: { definition: { describe(): unknown } }): SchemaDef {
  return fromJson(JSON.parse(JSON.stringify(schema.definition.describe())));
}

const str = (name: string, extra: Partial<AttrDef> = {}): AttrDef => normalise({ name, type: 'string', ...extra });

/** RFC 7643 section 3.1 common attributes, not listed in any schema. */
export const COMMON_ATTRIBUTES: AttrDef[] = [
  str('id', { caseExact: true, mutability: 'readOnly', returned: 'always', uniqueness: 'server' }),
  str('externalId', { caseExact: true }),
  normalise({
    name: 'meta',
    type: 'complex',
    mutability: 'readOnly',
    subAttributes: [
      str('resourceType', { caseExact: true, mutability: 'readOnly' }),
      normalise({ name: 'created', type: 'dateTime', mutability: 'readOnly' }),
      normalise({ name: 'lastModified', type: 'dateTime', mutability: 'readOnly' }),
      normalise({ name: 'location', type: 'reference', caseExact: true, mutability: 'readOnly' }),
      str('version', { caseExact: true, mutability: 'readOnly' }),
    ],
  }),
];

export const userSchema = fromScimmy(SCIMMY.Schemas.User);
export const groupSchema = fromScimmy(SCIMMY.Schemas.Group);
// Read from schemas/ at the repository root, the same path from src/scim and from the compiled dist/scim.
const schemaFile = (name: string) => JSON.parse(readFileSync(join(__dirname, '..', '..', 'schemas', name), 'utf8')) as never;
export const enterpriseSchema = fromJson(schemaFile('scim-enterprise-user.json'));
export const bridgeSchema = fromJson(schemaFile('scim-graphbridge-user.json'));
export const bridgeGroupSchema = fromJson(schemaFile('scim-graphbridge-group.json'));

function coreMap(schema: SchemaDef): Map<string, AttrDef> {
  return new Map([...COMMON_ATTRIBUTES, ...schema.attributes].map((a) => [a.name.toLowerCase(), a]));
}

export const resourceTypes: Record<'User' | 'Group', ResourceTypeDef> = {
  User: {
    name: 'User',
    endpoint: '/Users',
    description: 'User Account',
    schema: userSchema,
    extensions: [
      { schema: enterpriseSchema, required: false },
      { schema: bridgeSchema, required: false },
    ],
    core: coreMap(userSchema),
  },
  Group: {
    name: 'Group',
    endpoint: '/Groups',
    description: 'Group',
    schema: groupSchema,
    extensions: [{ schema: bridgeGroupSchema, required: false }],
    core: coreMap(groupSchema),
  },
};

export const allSchemas: SchemaDef[] = [userSchema, groupSchema, enterpriseSchema, bridgeSchema, bridgeGroupSchema];

export function findSub(def: AttrDef, name: string): AttrDef | undefined {
  const lower = name.toLowerCase();
  return def.subAttributes?.find((s) => s.name.toLowerCase() === lower);
}

/** The extension whose URN (case-insensitive) is `urn`, if this resource type has it. */
export function findExtension(rt: ResourceTypeDef, urn: string): SchemaDef | undefined {
  const lower = urn.toLowerCase();
  return rt.extensions.find((e) => e.schema.id.toLowerCase() === lower)?.schema;
}

export function findInSchema(schema: SchemaDef, name: string): AttrDef | undefined {
  const lower = name.toLowerCase();
  return schema.attributes.find((a) => a.name.toLowerCase() === lower);
}

/** A resolved attribute path: optional extension URN, top-level attribute, optional sub-attribute. */
export interface ResolvedPath {
  /** Extension URN, or undefined for core and common attributes. */
  schema?: string;
  attr: AttrDef;
  sub?: AttrDef;
}

/**
 * Splits `[urn:]attr[.sub]` and resolves it against a resource type. A full core URN prefix is
 * accepted too. Returns undefined when the path names nothing.
 */
export function resolvePath(rt: ResourceTypeDef, path: string): ResolvedPath | undefined {
  let schemaUrn: string | undefined;
  let rest = path;
  const lower = path.toLowerCase();
  const coreUrn = rt.schema.id.toLowerCase();
  if (lower.startsWith(`${coreUrn}:`)) rest = path.slice(coreUrn.length + 1);
  else if (lower.startsWith('urn:')) {
    const ext = rt.extensions.find((e) => lower.startsWith(`${e.schema.id.toLowerCase()}:`));
    if (!ext) return undefined;
    schemaUrn = ext.schema.id;
    rest = path.slice(ext.schema.id.length + 1);
  }
  const dot = rest.indexOf('.');
  const head = dot === -1 ? rest : rest.slice(0, dot);
  const tail = dot === -1 ? undefined : rest.slice(dot + 1);
  const attr = schemaUrn ? findInSchema(findExtension(rt, schemaUrn)!, head) : rt.core.get(head.toLowerCase());
  if (!attr) return undefined;
  if (tail === undefined) return { schema: schemaUrn, attr };
  if (tail.includes('.')) return undefined;
  const sub = findSub(attr, tail);
  return sub ? { schema: schemaUrn, attr, sub } : undefined;
}

/**
 * An extension attribute named without its URN (`manager`, `manager.value`, `employeeNumber`), as
 * Entra sends `"path": "manager"` in PATCH: resolved when exactly one extension of the resource type
 * has an attribute of that name (and no core attribute does). Returns undefined when none has it and
 * `ambiguous` with the candidate URNs when several do.
 */
export function resolveUnqualified(rt: ResourceTypeDef, path: string): ResolvedPath | { ambiguous: string[] } | undefined {
  if (path.toLowerCase().startsWith('urn:')) return undefined;
  const head = path.split('.')[0];
  if (rt.core.has(head.toLowerCase())) return undefined;
  const owners = rt.extensions.filter(({ schema }) => findInSchema(schema, head));
  if (owners.length > 1) return { ambiguous: owners.map(({ schema }) => schema.id) };
  return owners.length ? resolvePath(rt, `${owners[0].schema.id}:${path}`) : undefined;
}
