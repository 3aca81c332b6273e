// A POST or PUT body -> the stored form: canonical names in schema order, extensions under
// their URN, no id/meta/read-only attributes, the password and the members set aside.
import type { MemberRef } from '../store';
import { coerceAttr, coerceSimple, isObject, isUnassigned, onUnknown, type UnknownPolicy } from './coerce';
import { foreignExtensionOf, isAttributelessMarker, isForeignExtension, noteExtension } from './foreign-extensions';
import { findInSchema, resolvePath, type ResourceTypeDef, type SchemaDef } from './schema';
import { checkIdentityKey, checkText } from './text';
import { invalidSyntax, invalidValue } from '../errors';

export interface ResourceInput {
  data: Record<string, unknown>;
  /** Write-only; never stored in `data`. */
  password?: string;
  /** Groups: the members given (undefined when the body has none). */
  members?: MemberRef[];
}

const SKIPPED = new Set(['schemas', 'id', 'meta']);

/** Resource data in canonical order: common and core attributes in schema order, then extensions. */
export function canonicalOrder(rt: ResourceTypeDef, data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (data.externalId !== undefined) out.externalId = data.externalId;
  for (const a of rt.schema.attributes) if (data[a.name] !== undefined) out[a.name] = data[a.name];
  for (const { schema } of rt.extensions) {
    const ext = data[schema.id];
    if (!isObject(ext)) continue;
    const ordered: Record<string, unknown> = {};
    for (const a of schema.attributes) if (ext[a.name] !== undefined) ordered[a.name] = ext[a.name];
    if (Object.keys(ordered).length) out[schema.id] = ordered;
  }
  return out;
}

function extensionInto(schema: SchemaDef, value: unknown, target: Record<string, unknown>, unknown?: UnknownPolicy): void {
  if (value === null || value === undefined) return;
  if (!isObject(value)) throw invalidValue(`${schema.id} must be an object`);
  const ext = (target[schema.id] as Record<string, unknown>) ?? {};
  for (const [key, raw] of Object.entries(value)) {
    const attr = findInSchema(schema, key);
    if (!attr) {
      onUnknown(unknown, `${schema.id}:${key}`, raw);
      continue;
    }
    if (attr.mutability === 'readOnly') continue;
    const v = coerceAttr(attr, raw, `${schema.id}:${attr.name}`, unknown);
    if (v !== undefined) ext[attr.name] = v;
  }
  target[schema.id] = ext;
}

export function normaliseMembers(value: unknown): MemberRef[] {
  if (value === null || value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  const out = new Map<string, MemberRef>();
  for (const item of list) {
    let ref: MemberRef;
    if (typeof item === 'string') ref = { value: checkText(item, 'members[].value'), type: 'User' };
    else if (isObject(item)) {
      const get = (name: string) => Object.entries(item).find(([k]) => k.toLowerCase() === name)?.[1];
      const v = get('value');
      if (typeof v !== 'string') throw invalidValue('members[].value must be a string');
      const type = get('type');
      if (type !== undefined && type !== null && (typeof type !== 'string' || !/^(user|group)$/i.test(type))) {
        throw invalidValue('members[].type must be "User" or "Group"');
      }
      const display = get('display') ?? get('displayname');
      ref = {
        value: checkText(v, 'members[].value'),
        type: typeof type === 'string' && type.toLowerCase() === 'group' ? 'Group' : 'User',
        ...(display !== undefined && display !== null
          ? { display: coerceSimple({ name: 'display', type: 'string' } as never, display, 'members[].display') as string }
          : {}),
      };
    } else if (item === null) continue;
    else throw invalidValue('members[] must be objects with a value');
    if (ref.value === '') continue;
    out.set(ref.value, ref);
  }
  return [...out.values()];
}

/**
 * RFC 7643 section 3: `schemas` lists the core schema and every extension the body uses. An extension
 * this resource type does not implement is accepted and noted (foreign-extensions.ts); anything else
 * unknown (another core schema, a message schema, a non-URN) is refused. Returns the foreign URNs listed.
 */
function checkSchemas(rt: ResourceTypeDef, body: Record<string, unknown>, unknown?: UnknownPolicy): string[] {
  const schemas = body[Object.keys(body).find((k) => k.toLowerCase() === 'schemas') ?? 'schemas'];
  if (!Array.isArray(schemas) || schemas.some((s) => typeof s !== 'string')) throw invalidSyntax('schemas must be an array of URI strings');
  const listed = new Set((schemas as string[]).map((s) => s.toLowerCase()));
  if (!listed.has(rt.schema.id.toLowerCase())) throw invalidSyntax(`schemas must include ${rt.schema.id}`);
  const known = new Set([rt.schema.id, ...rt.extensions.map((e) => e.schema.id)].map((s) => s.toLowerCase()));
  const foreign: string[] = [];
  for (const s of schemas as string[]) {
    if (known.has(s.toLowerCase()) || isAttributelessMarker(rt, s)) continue;
    if (!isForeignExtension(rt, s)) throw invalidSyntax(`schema "${s.length > 200 ? `${s.slice(0, 200)}...` : s}" is not one of ${rt.name}'s`);
    foreign.push(s);
    noteExtension(unknown?.extensions, s, 'schemas');
  }
  for (const { schema } of rt.extensions) {
    const key = Object.keys(body).find((k) => k.toLowerCase() === schema.id.toLowerCase());
    if (key && !isUnassigned(body[key]) && !listed.has(schema.id.toLowerCase())) throw invalidSyntax(`${schema.id} is used but not listed in schemas`);
  }
  return foreign;
}

/** Normalises a POST/PUT body. Throws 400 invalidSyntax / invalidValue. */
export function normaliseResource(rt: ResourceTypeDef, body: unknown, unknown?: UnknownPolicy): ResourceInput {
  if (!isObject(body)) throw invalidSyntax(`the request body must be a ${rt.name} object`);
  const listed = checkSchemas(rt, body, unknown);
  const data: Record<string, unknown> = {};
  const input: ResourceInput = { data };
  for (const [key, raw] of Object.entries(body)) {
    const lower = key.toLowerCase();
    if (SKIPPED.has(lower)) continue;
    const ext = rt.extensions.find((e) => e.schema.id.toLowerCase() === lower);
    if (ext) {
      extensionInto(ext.schema, raw, data, unknown);
      continue;
    }
    const resolved = resolvePath(rt, key);
    if (!resolved || resolved.sub) {
      const urn = resolved ? undefined : foreignExtensionOf(rt, key, { listed, objectValue: isObject(raw) });
      if (urn) noteExtension(unknown?.extensions, urn, 'attribute');
      else onUnknown(unknown, key, raw);
      continue;
    }
    const { attr } = resolved;
    if (rt.name === 'Group' && attr.name === 'members' && !resolved.schema) {
      input.members = normaliseMembers(raw);
      continue;
    }
    if (attr.mutability === 'readOnly') continue;
    if (attr.name === 'password' && !resolved.schema) {
      const pwd = coerceSimple(attr, raw, 'password');
      if (pwd !== undefined && pwd !== '') input.password = pwd as string;
      continue;
    }
    const v = coerceAttr(attr, raw, resolved.schema ? `${resolved.schema}:${attr.name}` : attr.name, unknown);
    if (v === undefined) continue;
    if (resolved.schema) ((data[resolved.schema] ??= {}) as Record<string, unknown>)[attr.name] = v;
    else data[attr.name] = v;
  }
  input.data = canonicalOrder(rt, data);
  checkRequired(rt, input.data);
  return input;
}

/**
 * RFC 7643 required attributes: userName for Users, displayName for Groups. They are also the
 * identity keys that become the UPN or the group's name in Graph, checked by text.ts.
 */
export function checkRequired(rt: ResourceTypeDef, data: Record<string, unknown>): void {
  for (const attr of rt.schema.attributes) {
    if (!attr.required) continue;
    const v = data[attr.name];
    if (v === undefined || (typeof v === 'string' && v.trim() === '')) throw invalidValue(`${attr.name} is required`);
    if (typeof v === 'string') checkIdentityKey(v, attr.name);
  }
}
