// directory/deletedItems: soft-deleted users (and Microsoft 365 groups) listed by type, restored
// (with their licenses and memberships, refused when the UPN was taken meanwhile), or deleted for good.
import { badRequest, odataBadRequest, resourceNotFound } from './errors';
import { GROUP_DEFAULT_PROPERTIES, USER_DEFAULT_PROPERTIES, contextUrl, project, type SimContext } from './context';
import type { GroupObject, UserObject } from './directory';
import type { Json, SimRequest, SimResponse } from './types';

const TYPES: Record<string, 'user' | 'group'> = { 'microsoft.graph.user': 'user', 'microsoft.graph.group': 'group' };

function view(o: UserObject | GroupObject): Json {
  const props = project(o.props, [...(o.kind === 'user' ? USER_DEFAULT_PROPERTIES : GROUP_DEFAULT_PROPERTIES), 'deletedDateTime']);
  return { '@odata.type': `#microsoft.graph.${o.kind}`, ...props };
}

function find(ctx: SimContext, id: string): UserObject | GroupObject {
  const o = ctx.dir.deleted.get(decodeURIComponent(id));
  if (!o) throw resourceNotFound(decodeURIComponent(id));
  return o;
}

export function listDeleted(ctx: SimContext, type: string): SimResponse {
  const kind = TYPES[type];
  if (!kind) throw odataBadRequest(`Resource not found for the segment '${type}'.`);
  const value = [...ctx.dir.deleted.values()].filter((o) => o.kind === kind).map(view);
  return { status: 200, body: { '@odata.context': contextUrl(ctx, `directory/deletedItems/${type}`), value } };
}

export function getDeleted(ctx: SimContext, id: string): SimResponse {
  return { status: 200, body: { '@odata.context': contextUrl(ctx, 'directory/deletedItems/$entity'), ...view(find(ctx, id)) } };
}

export function restoreDeleted(ctx: SimContext, req: SimRequest, id: string): SimResponse {
  const o = find(ctx, id);
  const body = (req.body ?? {}) as Json;
  for (const k of Object.keys(body))
    if (k !== 'autoReconcileProxyConflict')
      throw odataBadRequest(`The parameter '${k}' in the request payload is not a valid parameter for the operation 'restore'.`);
  if (o.kind === 'user' && ctx.dir.upnTaken(String(o.props.userPrincipalName)))
    throw badRequest('A conflicting object with one or more of the specified property values is present in the directory.', [
      { code: 'ObjectConflict', message: 'Another object with the same value for property userPrincipalName already exists.', target: 'userPrincipalName' },
    ]);
  ctx.dir.deleted.delete(o.id);
  o.props.deletedDateTime = null;
  if (o.kind === 'user') {
    ctx.dir.addUser(o);
    ctx.dir.adjustSeats(o.props.assignedLicenses, 1);
    for (const gid of o.memberOf ?? []) {
      const g = ctx.dir.groups.get(gid);
      if (g) {
        g.members.add(o.id);
        ctx.dir.touch(g);
      }
    }
    o.memberOf = undefined;
  } else {
    ctx.dir.groups.set(o.id, o);
    ctx.dir.touch(o);
  }
  return { status: 200, body: { '@odata.context': contextUrl(ctx, 'directoryObjects/$entity'), ...view(o) } };
}

export function purgeDeleted(ctx: SimContext, id: string): SimResponse {
  const o = find(ctx, id);
  ctx.dir.deleted.delete(o.id);
  ctx.dir.removals.push({ kind: o.kind, id: o.id, seq: ctx.dir.nextSeq(), reason: 'deleted' });
  return { status: 204 };
}
