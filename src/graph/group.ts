// SCIM groups -> Graph security groups (SPEC section 2: universal-sync always, profile-sync and
// user-sync when groups.push). Security groups only: securityEnabled true, mailEnabled false
// (learn.microsoft.com/graph/api/group-post-groups).
import type { Mode } from '../config';
import { sanitizeMailNickname, type ScimMultiValue } from './mapping';
import { type GraphBody, sameValue } from './paths';

export interface ScimGroup {
  id?: string;
  externalId?: string;
  displayName: string;
  description?: string;
  members?: ScimMultiValue[];
  [key: string]: unknown;
}

export interface TranslateGroupContext {
  resourceId: string;
  /** config groups.push */
  groupsPush: boolean;
}

export interface DesiredGroup {
  resourceId: string;
  properties: {
    displayName: string;
    mailNickname: string;
    securityEnabled: true;
    mailEnabled: false;
    description: string | null;
  };
  /** SCIM ids of the members (users or groups), sorted, unique; the engine resolves Graph ids. */
  members: string[];
}

export interface AppliedGroupSnapshot {
  properties: GraphBody;
  /** SCIM ids of the members the bridge added. */
  members: string[];
}

export interface GroupDiff {
  /** POST /groups body. */
  create?: GraphBody;
  /** PATCH /groups/{id} body. */
  patch?: GraphBody;
  /** SCIM ids to add (POST members/$ref, or members@odata.bind 20 at a time) and remove (DELETE members/{id}/$ref). */
  members?: { add: string[]; remove: string[] };
  nextSnapshot: AppliedGroupSnapshot;
}

export function groupsPushedIn(mode: Mode, groupsPush: boolean): boolean {
  if (mode === 'license-only') return false;
  return mode === 'universal-sync' || groupsPush;
}

function groupMailNickname(displayName: string, resourceId: string): string {
  return sanitizeMailNickname(displayName) || `group-${sanitizeMailNickname(resourceId).slice(0, 40)}`;
}

/** The desired Graph group, or null when the mode does not push groups. */
export function translateGroup(mode: Mode, scimGroup: ScimGroup, ctx: TranslateGroupContext): DesiredGroup | null {
  if (!groupsPushedIn(mode, ctx.groupsPush)) return null;
  const displayName = String(scimGroup.displayName ?? '')
    .trim()
    .slice(0, 256);
  const description = typeof scimGroup.description === 'string' && scimGroup.description.trim() ? scimGroup.description.trim() : null;
  const members = new Set<string>();
  for (const m of scimGroup.members ?? []) {
    const v = typeof m === 'string' ? m : m?.value;
    if (v !== undefined && v !== null && String(v).trim()) members.add(String(v).trim());
  }
  return {
    resourceId: ctx.resourceId,
    properties: {
      displayName,
      mailNickname: groupMailNickname(displayName, ctx.resourceId),
      securityEnabled: true,
      mailEnabled: false,
      description,
    },
    members: [...members].sort(),
  };
}

// mailNickname is chosen at create; a rename does not re-alias the group.
const CREATE_ONLY = new Set(['mailNickname']);

function changedGroupProperties(desired: GraphBody, applied: GraphBody): GraphBody | undefined {
  const patch: GraphBody = {};
  for (const [key, value] of Object.entries(desired)) {
    if (CREATE_ONLY.has(key) || sameValue(value, applied[key])) continue;
    if (applied[key] === undefined && value === null) continue;
    patch[key] = value;
  }
  return Object.keys(patch).length ? patch : undefined;
}

export function diffGroup(desired: DesiredGroup, applied: AppliedGroupSnapshot | null | undefined): GroupDiff {
  const before = applied ?? null;
  const diff: GroupDiff = {
    nextSnapshot: {
      properties: {
        ...(before?.properties ?? {}),
        ...desired.properties,
        ...(before?.properties.mailNickname !== undefined ? { mailNickname: before.properties.mailNickname } : {}),
      },
      members: [...desired.members],
    },
  };
  if (!before) {
    diff.create = Object.fromEntries(Object.entries(desired.properties).filter(([, v]) => v !== null));
  } else {
    const patch = changedGroupProperties(desired.properties, before.properties);
    if (patch) diff.patch = patch;
  }
  const had = new Set(before?.members ?? []);
  const want = new Set(desired.members);
  const add = desired.members.filter((m) => !had.has(m));
  const remove = [...had].filter((m) => !want.has(m)).sort();
  if (add.length || remove.length) diff.members = { add, remove };
  return diff;
}
