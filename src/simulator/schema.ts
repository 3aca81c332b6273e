// Write validation from schemas/graph-schemas.json (Graph v1.0 metadata subset): known properties,
// types, read-only ones, required-on-create, and the value limits the Graph docs state for each
// property. Graph checks in this order too: the OData reader rejects shape errors first
// ("BadRequest"), then the directory rejects values ("Request_BadRequest").
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GraphError, badRequest, invalidProperty, invalidValue, readOnlyProperty, type ErrorDetail } from './errors';
import type { Json } from './types';

interface PropSchema {
  type?: string;
  format?: string;
  nullable?: boolean;
  $ref?: string;
  items?: PropSchema;
}

interface RawSchema {
  allOf?: { $ref: string }[];
  properties: Record<string, PropSchema>;
  'x-navigationProperties'?: Record<string, unknown>;
  'x-readOnlyPerDescription'?: string[];
  'x-readOnlyWhenSyncedFromOnPrem'?: string[];
}

export interface EntitySchema {
  type: string;
  resource: string;
  properties: Map<string, PropSchema>;
  navigation: Set<string>;
  readOnly: Set<string>;
  readOnlyWhenSynced: Set<string>;
  requiredOnCreate: string[];
}

const raw = JSON.parse(readFileSync(join(__dirname, '..', '..', 'schemas', 'graph-schemas.json'), 'utf8')) as {
  'x-requiredOnCreate': Record<string, string[]>;
  schemas: Record<string, RawSchema>;
};

const refName = (ref: string) => ref.replace('#/schemas/', '');

function collect(type: string): { props: [string, PropSchema][]; readOnly: string[]; nav: string[]; synced: string[] } {
  const s = raw.schemas[type];
  const parents = (s.allOf ?? []).map((p) => collect(refName(p.$ref)));
  return {
    props: [...parents.flatMap((p) => p.props), ...Object.entries(s.properties)],
    readOnly: [...parents.flatMap((p) => p.readOnly), ...(s['x-readOnlyPerDescription'] ?? [])],
    nav: [...parents.flatMap((p) => p.nav), ...Object.keys(s['x-navigationProperties'] ?? {})],
    synced: s['x-readOnlyWhenSyncedFromOnPrem'] ?? [],
  };
}

function entity(type: string, resource: string): EntitySchema {
  const c = collect(type);
  return {
    type,
    resource,
    properties: new Map(c.props),
    navigation: new Set(c.nav),
    // deletedDateTime is server-maintained although its description omits "Read-only".
    readOnly: new Set([...c.readOnly, 'deletedDateTime']),
    readOnlyWhenSynced: new Set(c.synced),
    requiredOnCreate: raw['x-requiredOnCreate'][type] ?? [],
  };
}

export const userSchema = entity('microsoft.graph.user', 'User');
export const groupSchema = entity('microsoft.graph.group', 'Group');
export const organizationSchema = entity('microsoft.graph.organization', 'Organization');
export const federatedRequiredOnCreate = raw['x-requiredOnCreate']['microsoft.graph.user#federatedDomain'] ?? [];

/** Maximum lengths stated in the Graph property descriptions. */
const MAX_LENGTH: Record<string, Record<string, number>> = {
  User: {
    displayName: 256,
    givenName: 64,
    surname: 64,
    mailNickname: 64,
    jobTitle: 128,
    department: 64,
    companyName: 64,
    employeeId: 16,
    city: 128,
    country: 128,
    state: 128,
    postalCode: 40,
    streetAddress: 1024,
    mobilePhone: 64,
    userPrincipalName: 113,
    mail: 256,
  },
  Group: { displayName: 256, mailNickname: 64, description: 1024 },
  Organization: {},
};

const EDM: Record<string, string> = { string: 'Edm.String', boolean: 'Edm.Boolean', integer: 'Edm.Int32' };

function literal(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function checkPrimitive(name: string, schema: PropSchema, value: unknown): void {
  if (value === null) {
    if (schema.nullable === false)
      throw new GraphError(
        400,
        'BadRequest',
        `A null value was found for the property named '${name}', which has the expected type '${EDM[schema.type ?? 'string'] ?? schema.type}[Nullable=False]'. The expected type '${EDM[schema.type ?? 'string']}[Nullable=False]' does not allow null values.`,
      );
    return;
  }
  const ok =
    (schema.type === 'string' && typeof value === 'string') ||
    (schema.type === 'boolean' && typeof value === 'boolean') ||
    (schema.type === 'integer' && Number.isInteger(value));
  if (!ok)
    throw new GraphError(
      400,
      'BadRequest',
      `Cannot convert the literal '${literal(value)}' to the expected type '${EDM[schema.type ?? 'string'] ?? schema.type}'.`,
    );
  if (schema.format === 'date-time' && Number.isNaN(Date.parse(value as string)))
    throw new GraphError(400, 'BadRequest', `Cannot convert the literal '${value}' to the expected type 'Edm.DateTimeOffset'.`);
  if (schema.format === 'uuid' && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value as string))
    throw new GraphError(400, 'BadRequest', `Cannot convert the literal '${value}' to the expected type 'Edm.Guid'.`);
}

/** Shape check of one value against its schema, recursing into complex types (which are closed). */
export function checkShape(name: string, schema: PropSchema, value: unknown): void {
  if (schema.type === 'array') {
    if (value === null)
      throw new GraphError(
        400,
        'BadRequest',
        `A null value was found for the property named '${name}', which has the expected type 'Collection'. The expected type 'Collection' does not allow null values.`,
      );
    if (!Array.isArray(value))
      throw new GraphError(
        400,
        'BadRequest',
        `An unexpected '${typeof value === 'object' ? 'StartObject' : 'PrimitiveValue'}' node was found when reading from the JSON reader. A 'StartArray' node was expected.`,
      );
    for (const item of value) checkShape(name, schema.items ?? {}, item);
    return;
  }
  if (schema.$ref) {
    const type = refName(schema.$ref);
    const complex = raw.schemas[type];
    if (value === null || !complex) return;
    if (typeof value !== 'object' || Array.isArray(value))
      throw new GraphError(
        400,
        'BadRequest',
        `An unexpected '${Array.isArray(value) ? 'StartArray' : 'PrimitiveValue'}' node was found when reading from the JSON reader. A 'StartObject' node was expected.`,
      );
    for (const [k, v] of Object.entries(value as Json)) {
      if (k.startsWith('@odata.')) continue;
      const sub = complex.properties[k];
      if (!sub)
        throw new GraphError(
          400,
          'BadRequest',
          `The property '${k}' does not exist on type '${type}'. Make sure to only use property names that are defined by the type or mark the type as open type.`,
        );
      checkShape(k, sub, v);
    }
    return;
  }
  checkPrimitive(name, schema, value);
}

export interface WriteOptions {
  create: boolean;
  /** Extra body keys the route accepts (e.g. members@odata.bind on groups). */
  allow?: Set<string>;
}

/** Rejects unknown, navigation and read-only properties, ill-typed values and values over their length; returns the body. */
export function validateWrite(schema: EntitySchema, body: unknown, options: WriteOptions): Json {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('Empty Payload. JSON content expected.');
  const input = body as Json;
  for (const [key, value] of Object.entries(input)) {
    if (options.allow?.has(key) || key === '@odata.type') continue;
    const prop = schema.properties.get(key);
    if (!prop) throw invalidProperty(key);
    checkShape(key, prop, value);
    if (schema.readOnly.has(key) || key === 'id') throw readOnlyProperty(key);
  }
  if (options.create) {
    for (const key of schema.requiredOnCreate) {
      const v = input[key];
      if (v === undefined || v === null || v === '') throw requiredPropertyMissing(key);
    }
  }
  for (const [key, max] of Object.entries(MAX_LENGTH[schema.resource])) {
    const v = input[key];
    if (typeof v === 'string' && v.length > max) throw lengthExceeded(key, schema.resource);
  }
  return input;
}

// mailNickname (users and groups): ASCII 0-127 except @ ( ) \ [ ] " ; : < > , and space.
export function isValidMailNickname(value: string): boolean {
  return /^[\x21-\x7e]+$/.test(value) && !/[@()\\[\]";:<>,]/.test(value);
}

export function requiredPropertyMissing(name: string): GraphError {
  const details: ErrorDetail[] = [{ code: 'PropertyRequired', message: 'Property value is required but is empty or missing.', target: name }];
  return badRequest('Property value is required but is empty or missing.', details);
}

export function lengthExceeded(name: string, resource: string): GraphError {
  const err = invalidValue(name, resource);
  return new GraphError(400, err.code, err.message, [{ code: 'InvalidLength', message: err.message, target: name }]);
}
