// Stored rows -> SCIM JSON, without per-resource schema coercion: the stored data is already
// canonical, so a read is a parse, a spread and the meta block. Plus attributes /
// excludedAttributes projections (RFC 7644 section 3.9).
import type { ListedResource, MemberView } from '../store';
import { BRIDGE_GROUP_SCHEMA, BRIDGE_USER_SCHEMA, CORE_GROUP, CORE_USER, ENTERPRISE_USER_SCHEMA, resolvePath, type ResourceTypeDef } from './schema';
import { invalidPath } from '../errors';

export const etagOf = (version: number): string => `W/"${version}"`;

function meta(resourceType: string, r: ListedResource, location: string) {
  return { resourceType, created: r.created, lastModified: r.lastModified, location, version: etagOf(r.version) };
}

/** The bridge extension with its read-only attributes filled from the store (SPEC section 3). */
function bridgeExtension(r: ListedResource): Record<string, unknown> {
  const ext: Record<string, unknown> = { ...((r.data[BRIDGE_USER_SCHEMA] as Record<string, unknown>) ?? {}), source: r.sourceId };
  const s = r.sync;
  if (s) {
    if (s.dirSyncEnabled !== null) ext.dirSyncEnabled = s.dirSyncEnabled;
    if (s.tokensValidFrom !== null) ext.tokensValidFrom = s.tokensValidFrom;
    if (s.graphId !== null) ext.graphId = s.graphId;
    if (s.state !== null) ext.syncState = s.state;
    if (s.lastError !== null) ext.lastSyncError = s.lastError;
  }
  return ext;
}

/** The bridge's Group extension: owner and sync state, as users report them. */
function groupExtension(r: ListedResource): Record<string, unknown> {
  const ext: Record<string, unknown> = { source: r.sourceId };
  const s = r.sync;
  if (s) {
    if (s.graphId !== null) ext.graphId = s.graphId;
    if (s.state !== null) ext.syncState = s.state;
    if (s.lastError !== null) ext.lastSyncError = s.lastError;
  }
  return ext;
}

export function renderUser(r: ListedResource, base: string): Record<string, unknown> {
  const schemas = r.data[ENTERPRISE_USER_SCHEMA] ? [CORE_USER, ENTERPRISE_USER_SCHEMA, BRIDGE_USER_SCHEMA] : [CORE_USER, BRIDGE_USER_SCHEMA];
  const out: Record<string, unknown> = { schemas, id: r.id, ...r.data };
  out[BRIDGE_USER_SCHEMA] = bridgeExtension(r);
  out.meta = meta('User', r, `${base}/Users/${r.id}`);
  return out;
}

/** A group; `members` undefined when the caller did not load them (excluded or not requested). */
export function renderGroup(r: ListedResource, base: string, members?: MemberView[]): Record<string, unknown> {
  const out: Record<string, unknown> = { schemas: [CORE_GROUP, BRIDGE_GROUP_SCHEMA], id: r.id, ...r.data };
  if (members?.length) {
    out.members = members.map((m) => ({
      value: m.value,
      ...(m.display !== null ? { display: m.display } : {}),
      type: m.type,
      $ref: `${base}/${m.type === 'Group' ? 'Groups' : 'Users'}/${m.value}`,
    }));
  }
  out[BRIDGE_GROUP_SCHEMA] = groupExtension(r);
  out.meta = meta('Group', r, `${base}/Groups/${r.id}`);
  return out;
}

// ---- projections ----

interface Selection {
  schema?: string;
  /** Top-level attribute, or '*' for a whole extension. */
  name: string;
  sub?: string;
}

export interface Projection {
  attributes?: Selection[];
  excluded?: Selection[];
}

/** Splits at commas outside brackets and quotes; drops value filters (`emails[type eq "work"]` -> emails). */
function splitList(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let current = '';
  for (const c of text) {
    if (c === '"') quoted = !quoted;
    if (!quoted && c === '[') depth++;
    if (!quoted && c === ']') depth = Math.max(0, depth - 1);
    if (c === ',' && depth === 0 && !quoted) {
      out.push(current);
      current = '';
    } else current += c;
  }
  out.push(current);
  return out.map((s) => s.replace(/\[[^\]]*\]?/g, '').trim()).filter(Boolean);
}

export function parseSelection(rt: ResourceTypeDef, text: string | undefined): Selection[] | undefined {
  if (text === undefined) return undefined;
  if (text.length > 4096) throw invalidPath('attribute list is too long');
  return splitList(text).map((item) => {
    const ext = rt.extensions.find((e) => e.schema.id.toLowerCase() === item.toLowerCase());
    if (ext) return { schema: ext.schema.id, name: '*' };
    const resolved = resolvePath(rt, item);
    if (!resolved) throw invalidPath(`"${item}" names no attribute of ${rt.name}`);
    return { schema: resolved.schema, name: resolved.attr.name, ...(resolved.sub ? { sub: resolved.sub.name } : {}) };
  });
}

function pick(value: unknown, subs: string[]): unknown {
  const one = (v: unknown) => {
    if (!v || typeof v !== 'object') return v;
    const o: Record<string, unknown> = {};
    for (const s of subs) if ((v as Record<string, unknown>)[s] !== undefined) o[s] = (v as Record<string, unknown>)[s];
    return o;
  };
  return Array.isArray(value) ? value.map(one) : one(value);
}

function selectIn(obj: Record<string, unknown>, sels: Selection[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(obj)) {
    const mine = sels.filter((s) => s.name === key);
    if (!mine.length) continue;
    out[key] = mine.some((s) => !s.sub)
      ? value
      : pick(
          value,
          mine.map((s) => s.sub!),
        );
  }
  return out;
}

function include(resource: Record<string, unknown>, sels: Selection[]): Record<string, unknown> {
  const out: Record<string, unknown> = { schemas: resource.schemas, id: resource.id };
  const core = sels.filter((s) => !s.schema);
  Object.assign(
    out,
    selectIn(
      resource,
      core.filter((s) => s.name !== 'id' && s.name !== 'schemas'),
    ),
  );
  for (const [key, value] of Object.entries(resource)) {
    if (!key.startsWith('urn:')) continue;
    const mine = sels.filter((s) => s.schema === key);
    if (!mine.length) continue;
    out[key] = mine.some((s) => s.name === '*') ? value : selectIn(value as Record<string, unknown>, mine);
  }
  return out;
}

function exclude(resource: Record<string, unknown>, sels: Selection[]): Record<string, unknown> {
  const out: Record<string, unknown> = { ...resource };
  for (const s of sels) {
    if (s.name === 'id' && !s.schema) continue; // returned: always
    const holder = s.schema ? (out[s.schema] as Record<string, unknown> | undefined) : out;
    if (!holder) continue;
    if (s.schema && s.name === '*') {
      delete out[s.schema];
      continue;
    }
    if (s.schema) out[s.schema] = { ...holder };
    const target = s.schema ? (out[s.schema] as Record<string, unknown>) : out;
    if (!s.sub) delete target[s.name];
    else if (target[s.name] !== undefined) {
      const strip = (v: unknown) => {
        if (!v || typeof v !== 'object') return v;
        const { [s.sub!]: _gone, ...rest } = v as Record<string, unknown>;
        return rest;
      };
      target[s.name] = Array.isArray(target[s.name]) ? (target[s.name] as unknown[]).map(strip) : strip(target[s.name]);
    }
  }
  return out;
}

export function project(resource: Record<string, unknown>, p: Projection): Record<string, unknown> {
  if (p.attributes?.length) return include(resource, p.attributes);
  if (p.excluded?.length) return exclude(resource, p.excluded);
  return resource;
}

/** Whether a group's members must be loaded for this projection. */
export function wantsMembers(p: Projection): boolean {
  if (p.attributes?.length) return p.attributes.some((s) => !s.schema && s.name === 'members');
  return !p.excluded?.some((s) => !s.schema && s.name === 'members' && !s.sub);
}
