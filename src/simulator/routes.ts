// The route table: method + path pattern -> handler, with the app roles each needs. An unknown
// first segment is Graph's "Resource not found for the segment '...'", which is also what a
// $batch item whose url keeps the /v1.0 prefix gets.
import { GraphError, insufficientPrivileges, segmentNotFound, unsupportedMethod } from './errors';
import type { SimContext } from './context';
import type { SimRequest, SimResponse } from './types';
import { delta } from './delta';
import { getDeleted, listDeleted, purgeDeleted, restoreDeleted } from './deleted-items';
import { addMember, createGroup, deleteGroup, getGroup, listGroups, listMembers, removeMember, updateGroup } from './groups';
import { getDevice, getOrganization, listDevices, listOrganization, listSubscribedSkus, updateOrganization } from './tenant';
import { assignLicense, getManager, removeManager, revokeSignInSessions, setManager } from './user-actions';
import { createUser, deleteUser, getUser, listUsers, updateUser } from './users';

type Handler = (ctx: SimContext, req: SimRequest, params: string[]) => SimResponse;

interface Route {
  method: string;
  pattern: RegExp;
  roles: string[];
  handler: Handler;
  write: boolean;
}

const USER_READ = ['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];
const USER_WRITE = ['User.ReadWrite.All', 'Directory.ReadWrite.All'];
const GROUP_READ = ['Group.Read.All', 'Group.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];
const GROUP_WRITE = ['Group.ReadWrite.All', 'Directory.ReadWrite.All'];
const MEMBER_WRITE = ['GroupMember.ReadWrite.All', ...GROUP_WRITE];
const ORG_READ = ['Organization.Read.All', 'Organization.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];
const ORG_WRITE = ['Organization.ReadWrite.All', 'OnPremDirectorySynchronization.ReadWrite.All', 'Directory.ReadWrite.All'];
const DEVICE_READ = ['Device.Read.All', 'Device.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];
const LICENSE_WRITE = ['LicenseAssignment.ReadWrite.All', ...USER_WRITE];

const SEG = '([^/]+)';
const TYPE_SEGMENT = /^microsoft\.graph\./;
const routes: Route[] = [];
const KNOWN_SEGMENTS = new Set<string>();

export function route(method: string, path: string, roles: string[], handler: Handler): void {
  KNOWN_SEGMENTS.add(path.split('/')[1]);
  const pattern = new RegExp('^' + path.replace(/\$/g, '\\$').replace(/\./g, '\\.').replace(/\{\w+\}/g, SEG) + '/?$');
  routes.push({ method, pattern, roles, handler, write: method !== 'GET' });
}

route('GET', '/users/delta', USER_READ, (c, r) => delta(c, r, 'user'));
route('GET', '/users', USER_READ, (c, r) => listUsers(c, r));
route('POST', '/users', USER_WRITE, (c, r) => createUser(c, r));
route('GET', '/users/{id}', USER_READ, (c, r, [id]) => getUser(c, r, id));
route('PATCH', '/users/{id}', USER_WRITE, (c, r, [id]) => updateUser(c, r, id));
route('DELETE', '/users/{id}', USER_WRITE, (c, r, [id]) => deleteUser(c, id));
route('GET', '/users/{id}/manager', USER_READ, (c, r, [id]) => getManager(c, id, false));
route('GET', '/users/{id}/manager/$ref', USER_READ, (c, r, [id]) => getManager(c, id, true));
route('PUT', '/users/{id}/manager/$ref', USER_WRITE, (c, r, [id]) => setManager(c, r, id));
route('DELETE', '/users/{id}/manager/$ref', USER_WRITE, (c, r, [id]) => removeManager(c, id));
route('POST', '/users/{id}/assignLicense', LICENSE_WRITE, (c, r, [id]) => assignLicense(c, r, id));
route('POST', '/users/{id}/revokeSignInSessions', USER_WRITE, (c, r, [id]) => revokeSignInSessions(c, r, id));

route('GET', '/groups/delta', GROUP_READ, (c, r) => delta(c, r, 'group'));
route('GET', '/groups', GROUP_READ, (c, r) => listGroups(c, r));
route('POST', '/groups', GROUP_WRITE, (c, r) => createGroup(c, r));
route('GET', '/groups/{id}', GROUP_READ, (c, r, [id]) => getGroup(c, r, id));
route('PATCH', '/groups/{id}', GROUP_WRITE, (c, r, [id]) => updateGroup(c, r, id));
route('DELETE', '/groups/{id}', GROUP_WRITE, (c, r, [id]) => deleteGroup(c, id));
route('GET', '/groups/{id}/members', GROUP_READ, (c, r, [id]) => listMembers(c, r, id));
route('POST', '/groups/{id}/members/$ref', MEMBER_WRITE, (c, r, [id]) => addMember(c, r, id));
route('DELETE', '/groups/{id}/members/{member}/$ref', MEMBER_WRITE, (c, r, [id, m]) => removeMember(c, id, m));

route('GET', '/organization', ORG_READ, (c) => listOrganization(c));
route('GET', '/organization/{id}', ORG_READ, (c, r, [id]) => getOrganization(c, id));
route('PATCH', '/organization/{id}', ORG_WRITE, (c, r, [id]) => updateOrganization(c, r, id));
route('GET', '/devices', DEVICE_READ, (c, r) => listDevices(c, r));
route('GET', '/devices/{id}', DEVICE_READ, (c, r, [id]) => getDevice(c, id));
route('GET', '/subscribedSkus', ORG_READ, (c) => listSubscribedSkus(c));

route('GET', '/directory/deletedItems/{type}', USER_READ, (c, r, [t]) => (TYPE_SEGMENT.test(t) ? listDeleted(c, t) : getDeleted(c, t)));
route('POST', '/directory/deletedItems/{id}/restore', USER_WRITE, (c, r, [id]) => restoreDeleted(c, r, id));
route('DELETE', '/directory/deletedItems/{id}', USER_WRITE, (c, r, [id]) => purgeDeleted(c, id));
route('POST', '/$batch', [], () => {
  throw new GraphError(400, 'BadRequest', 'Nested batch requests are not supported.');
});

export function dispatch(ctx: SimContext, req: SimRequest): SimResponse {
  let methodMismatch = false;
  for (const r of routes) {
    const m = r.pattern.exec(req.path);
    if (!m) continue;
    if (r.method !== req.method) {
      methodMismatch = true;
      continue;
    }
    if (r.roles.length && !r.roles.some((role) => req.claims.roles.includes(role))) throw insufficientPrivileges();
    return r.handler(ctx, req, m.slice(1));
  }
  if (methodMismatch) throw unsupportedMethod();
  const first = req.path.split('/')[1] ?? '';
  if (!KNOWN_SEGMENTS.has(first)) throw segmentNotFound(decodeURIComponent(first));
  throw new GraphError(400, 'BadRequest', `Resource not found for the segment '${decodeURIComponent(req.path.split('/').pop() ?? '')}'.`);
}
