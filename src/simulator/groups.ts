// /groups: create (members@odata.bind, at most 20 per request), get, list, patch, delete, and
// members/$ref add and remove, with Graph's answers for an existing member on add and a missing
// member on remove, and assignLicense (group-based licensing, licensing.ts). Security groups are deleted for good; Microsoft 365 groups go to the recycle bin.
import { randomUUID } from 'node:crypto';
import { badRequest, onPremMastered, resourceNotFound, invalidValue } from './errors';
import { notReplicated, referenceMissing } from './faults';
import {
  GROUP_DEFAULT_PROPERTIES,
  contextUrl,
  isoSeconds,
  listEntities,
  pageOf,
  project,
  selectContext,
  USER_DEFAULT_PROPERTIES,
  type SimContext,
} from './context';
import type { GroupObject } from './directory';
import { parseSelect, parseTop } from './odata';
import { groupSchema, isValidMailNickname, validateWrite } from './schema';
import type { Json, SimRequest, SimResponse } from './types';
import { referencedId } from './user-actions';
import { assignGroupLicense, queueIfLicensed } from './licensing';

const MAX_BIND = 20;
const BIND_KEYS = new Set(['members@odata.bind', 'owners@odata.bind']);
const GROUP_FILTERABLE = new Set(['id', 'displayName', 'mailNickname', 'securityEnabled', 'mailEnabled', 'onPremisesSyncEnabled', 'mail', 'description']);

export function findGroup(ctx: SimContext, id: string): GroupObject {
  const g = ctx.dir.groups.get(decodeURIComponent(id).toLowerCase()) ?? ctx.dir.groups.get(decodeURIComponent(id));
  if (!g) throw resourceNotFound(decodeURIComponent(id));
  return g;
}

const memberExists = (property = 'members') =>
  badRequest(`One or more added object references already exist for the following modified properties: '${property}'.`);

function refuseIfSynced(group: GroupObject): void {
  if (group.props.onPremisesSyncEnabled === true) throw onPremMastered();
}

/** Resolves members@odata.bind / owners@odata.bind URLs to existing object ids. */
function bindIds(ctx: SimContext, input: Json): { members: string[]; owners: string[] } {
  const resolve = (key: string) => {
    const v = input[key];
    if (v === undefined) return [];
    if (!Array.isArray(v)) throw badRequest(`Invalid value for '${key}': a collection of URLs is expected.`);
    return v.map((ref) => {
      const id = referencedId(ctx, { '@odata.id': ref });
      const obj = ctx.dir.userByKey(id) ?? ctx.dir.groups.get(id);
      if (!obj) throw resourceNotFound(id);
      if (notReplicated(obj, ctx.replicationLagMs(), ctx.now())) throw referenceMissing();
      return obj.id;
    });
  };
  const members = resolve('members@odata.bind');
  const owners = resolve('owners@odata.bind');
  if (members.length + owners.length > MAX_BIND)
    throw badRequest(`The request contains ${members.length + owners.length} object references; at most ${MAX_BIND} can be added in a single request.`);
  return { members, owners };
}

function checkGroupValues(input: Json): void {
  const nick = input.mailNickname;
  if (typeof nick === 'string' && !isValidMailNickname(nick)) throw invalidValue('mailNickname', 'Group');
  if (input.displayName !== undefined && (input.displayName === null || input.displayName === '')) throw invalidValue('displayName', 'Group');
}

const groupEntity = (ctx: SimContext, g: GroupObject, select?: string[]) => ({
  '@odata.context': selectContext(ctx, 'groups', select, true),
  ...project(g.props, select ?? GROUP_DEFAULT_PROPERTIES),
});

export function createGroup(ctx: SimContext, req: SimRequest): SimResponse {
  const input = validateWrite(groupSchema, req.body, { create: true, allow: BIND_KEYS });
  checkGroupValues(input);
  const unified = ((input.groupTypes as string[] | undefined) ?? []).includes('Unified');
  if (input.mailEnabled === true && !unified)
    throw badRequest('Creating mail-enabled security groups or distribution lists is not supported through Microsoft Graph.');
  if (!unified && input.securityEnabled !== true) throw badRequest('A group must be either a security group or a Microsoft 365 group.');
  const { members } = bindIds(ctx, input);
  const props: Json = { ...input };
  for (const k of BIND_KEYS) delete props[k];
  const id = randomUUID();
  const group: GroupObject = {
    kind: 'group',
    id,
    members: new Set(members),
    seq: 0,
    visibleAt: ctx.now() + ctx.replicationLagMs(),
    props: {
      groupTypes: [],
      proxyAddresses: [],
      resourceBehaviorOptions: [],
      resourceProvisioningOptions: [],
      creationOptions: [],
      onPremisesProvisioningErrors: [],
      serviceProvisioningErrors: [],
      createdDateTime: isoSeconds(),
      renewedDateTime: isoSeconds(),
      securityIdentifier: `S-1-12-1-${Math.floor(Math.random() * 4e9)}-${Math.floor(Math.random() * 4e9)}`,
      mail: unified ? `${input.mailNickname}@${ctx.dir.domains.find((d) => d.isDefault)!.name}` : null,
      ...props,
      id,
    },
  };
  ctx.dir.groups.set(id, group);
  ctx.dir.touch(group);
  return { status: 201, body: groupEntity(ctx, group) };
}

export function listGroups(ctx: SimContext, req: SimRequest): SimResponse {
  const set = {
    name: 'groups' as const,
    schema: groupSchema,
    filterable: GROUP_FILTERABLE,
    objects: ctx.dir.groups.values(),
    defaults: GROUP_DEFAULT_PROPERTIES,
  };
  return { status: 200, body: listEntities(ctx, req, set) };
}

export function getGroup(ctx: SimContext, req: SimRequest, id: string): SimResponse {
  return { status: 200, body: groupEntity(ctx, findGroup(ctx, id), parseSelect(req, groupSchema)) };
}

export function updateGroup(ctx: SimContext, req: SimRequest, id: string): SimResponse {
  const group = findGroup(ctx, id);
  const input = validateWrite(groupSchema, req.body, { create: false, allow: BIND_KEYS });
  if (notReplicated(group, ctx.replicationLagMs(), ctx.now()))
    throw 'members@odata.bind' in input ? referenceMissing() : resourceNotFound(decodeURIComponent(id));
  refuseIfSynced(group);
  checkGroupValues(input);
  const { members } = bindIds(ctx, input);
  if (members.some((m) => group.members.has(m))) throw memberExists();
  const props: Json = { ...input };
  for (const k of BIND_KEYS) delete props[k];
  Object.assign(group.props, props);
  for (const m of members) group.members.add(m);
  ctx.dir.touch(group);
  queueIfLicensed(ctx, group, members);
  return { status: 204 };
}

export function deleteGroup(ctx: SimContext, id: string): SimResponse {
  const group = findGroup(ctx, id);
  refuseIfSynced(group);
  const unified = ((group.props.groupTypes as string[]) ?? []).includes('Unified');
  ctx.dir.removeGroup(group, unified ? 'changed' : 'deleted');
  queueIfLicensed(ctx, group, group.members);
  if (unified) {
    group.props.deletedDateTime = isoSeconds();
    ctx.dir.deleted.set(group.id, group);
  }
  return { status: 204 };
}

export function addMember(ctx: SimContext, req: SimRequest, id: string): SimResponse {
  const group = findGroup(ctx, id);
  refuseIfSynced(group);
  const memberId = referencedId(ctx, req.body);
  const member = ctx.dir.userByKey(memberId) ?? ctx.dir.groups.get(memberId);
  if (!member) throw resourceNotFound(memberId);
  if (notReplicated(group, ctx.replicationLagMs(), ctx.now()) || notReplicated(member, ctx.replicationLagMs(), ctx.now())) throw referenceMissing();
  if (group.members.has(member.id)) throw memberExists();
  group.members.add(member.id);
  ctx.dir.touch(group);
  queueIfLicensed(ctx, group, [member.id]);
  return { status: 204 };
}

export function removeMember(ctx: SimContext, id: string, memberId: string): SimResponse {
  const group = findGroup(ctx, id);
  refuseIfSynced(group);
  const key = decodeURIComponent(memberId);
  if (!ctx.dir.removeMember(group, key)) throw resourceNotFound(key);
  queueIfLicensed(ctx, group, [ctx.dir.userByKey(key)?.id ?? key]);
  return { status: 204 };
}

/** POST /groups/{id}/assignLicense (group-based licensing): 202 Accepted with the group. */
export function assignLicenseToGroup(ctx: SimContext, req: SimRequest, id: string): SimResponse {
  const group = findGroup(ctx, id);
  if (notReplicated(group, ctx.replicationLagMs(), ctx.now())) throw resourceNotFound(decodeURIComponent(id));
  assignGroupLicense(ctx, group, req.body);
  return { status: 202, body: groupEntity(ctx, group) };
}

export function listMembers(ctx: SimContext, req: SimRequest, id: string): SimResponse {
  const group = findGroup(ctx, id);
  const top = parseTop(req) ?? ctx.pageSize;
  const map = (m: string): Json => {
    const user = ctx.dir.users.get(m);
    if (user) return { '@odata.type': '#microsoft.graph.user', ...project(user.props, USER_DEFAULT_PROPERTIES) };
    const g = ctx.dir.groups.get(m);
    return { '@odata.type': '#microsoft.graph.group', ...project(g?.props ?? { id: m }, GROUP_DEFAULT_PROPERTIES) };
  };
  return {
    status: 200,
    body: pageOf(ctx, req, { path: `/groups/${group.id}/members`, context: contextUrl(ctx, 'directoryObjects'), items: [...group.members], top, map }),
  };
}
