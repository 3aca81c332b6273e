// The route table: method + path pattern -> handler; the app roles each needs come from the
// permission table (permissions.ts). An unknown
// first segment is Graph's "Resource not found for the segment '...'", which is also what a
// $batch item whose url keeps the /v1.0 prefix gets.
import { GraphError, segmentNotFound, unsupportedMethod } from './errors';
import { authorize, permissionsFor } from './permissions';
import { listRoleAssignments } from './roles';
import type { SimContext } from './context';
import type { SimRequest, SimResponse } from './types';
import { delta } from './delta';
import { getDeleted, listDeleted, purgeDeleted, restoreDeleted } from './deleted-items';
import { addMember, assignLicenseToGroup, createGroup, deleteGroup, getGroup, listGroups, listMembers, removeMember, updateGroup } from './groups';
import { bulkUpload, getJob, listJobs, listProvisioning } from './inbound-api';
import { getDevice, getOrganization, listDevices, listOrganization, listSubscribedSkus, updateOrganization } from './tenant';
import { assignLicense, getManager, removeManager, reprocessLicenseAssignment, revokeSignInSessions, setManager } from './user-actions';
import { createUser, deleteUser, getUser, listUsers, updateUser } from './users';

type Handler = (ctx: SimContext, req: SimRequest, params: string[]) => SimResponse;

interface Route {
  method: string;
  pattern: RegExp;
  /** Application permissions that grant it (schemas/graph-permissions.json); none for $batch itself. */
  roles: string[];
  handler: Handler;
  write: boolean;
}

const SEG = '([^/]+)';
const TYPE_SEGMENT = /^microsoft\.graph\./;
const routes: Route[] = [];
const KNOWN_SEGMENTS = new Set<string>();

export function route(method: string, path: string, handler: Handler): void {
  KNOWN_SEGMENTS.add(path.split('/')[1]);
  const roles = path === '/$batch' ? [] : permissionsFor(method, path);
  const pattern = new RegExp(
    '^' +
      path
        .replace(/\$/g, '\\$')
        .replace(/\./g, '\\.')
        .replace(/\{\w+\}/g, SEG) +
      '/?$',
  );
  routes.push({ method, pattern, roles, handler, write: method !== 'GET' });
}

route('GET', '/users/delta', (c, r) => delta(c, r, 'user'));
route('GET', '/users', (c, r) => listUsers(c, r));
route('POST', '/users', (c, r) => createUser(c, r));
route('GET', '/users/{id}', (c, r, [id]) => getUser(c, r, id));
route('PATCH', '/users/{id}', (c, r, [id]) => updateUser(c, r, id));
route('DELETE', '/users/{id}', (c, r, [id]) => deleteUser(c, r, id));
route('GET', '/users/{id}/manager', (c, r, [id]) => getManager(c, id, false));
route('GET', '/users/{id}/manager/$ref', (c, r, [id]) => getManager(c, id, true));
route('PUT', '/users/{id}/manager/$ref', (c, r, [id]) => setManager(c, r, id));
route('DELETE', '/users/{id}/manager/$ref', (c, r, [id]) => removeManager(c, id));
route('POST', '/users/{id}/assignLicense', (c, r, [id]) => assignLicense(c, r, id));
route('POST', '/users/{id}/revokeSignInSessions', (c, r, [id]) => revokeSignInSessions(c, r, id));
route('POST', '/users/{id}/reprocessLicenseAssignment', (c, r, [id]) => reprocessLicenseAssignment(c, r, id));

route('GET', '/groups/delta', (c, r) => delta(c, r, 'group'));
route('GET', '/groups', (c, r) => listGroups(c, r));
route('POST', '/groups', (c, r) => createGroup(c, r));
route('GET', '/groups/{id}', (c, r, [id]) => getGroup(c, r, id));
route('PATCH', '/groups/{id}', (c, r, [id]) => updateGroup(c, r, id));
route('DELETE', '/groups/{id}', (c, r, [id]) => deleteGroup(c, id));
route('POST', '/groups/{id}/assignLicense', (c, r, [id]) => assignLicenseToGroup(c, r, id));
route('GET', '/groups/{id}/members', (c, r, [id]) => listMembers(c, r, id));
route('POST', '/groups/{id}/members/$ref', (c, r, [id]) => addMember(c, r, id));
route('DELETE', '/groups/{id}/members/{member}/$ref', (c, r, [id, m]) => removeMember(c, id, m));

route('GET', '/organization', (c) => listOrganization(c));
route('GET', '/organization/{id}', (c, r, [id]) => getOrganization(c, id));
route('PATCH', '/organization/{id}', (c, r, [id]) => updateOrganization(c, r, id));
route('GET', '/devices', (c, r) => listDevices(c, r));
route('GET', '/devices/{id}', (c, r, [id]) => getDevice(c, id));
route('GET', '/subscribedSkus', (c) => listSubscribedSkus(c));

route('GET', '/directory/deletedItems/{type}', (c, r, [t]) => (TYPE_SEGMENT.test(t) ? listDeleted(c, t) : getDeleted(c, t)));
route('POST', '/directory/deletedItems/{id}/restore', (c, r, [id]) => restoreDeleted(c, r, id));
route('DELETE', '/directory/deletedItems/{id}', (c, r, [id]) => purgeDeleted(c, id));
route('GET', '/roleManagement/directory/roleAssignments', (c, r) => listRoleAssignments(c, r));
route('POST', '/servicePrincipals/{id}/synchronization/jobs/{job}/bulkUpload', (c, r, [sp, job]) => bulkUpload(c, r, sp, job));
route('GET', '/servicePrincipals/{id}/synchronization/jobs', (c, r, [sp]) => listJobs(c, sp));
route('GET', '/servicePrincipals/{id}/synchronization/jobs/{job}', (c, r, [sp, job]) => getJob(c, sp, job));
route('GET', '/auditLogs/provisioning', (c, r) => listProvisioning(c, r));
route('POST', '/$batch', () => {
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
    if (r.roles.length) authorize(req.claims, r.roles);
    return r.handler(ctx, req, m.slice(1));
  }
  if (methodMismatch) throw unsupportedMethod();
  const first = req.path.split('/')[1] ?? '';
  if (!KNOWN_SEGMENTS.has(first)) throw segmentNotFound(decodeURIComponent(first));
  throw new GraphError(400, 'BadRequest', `Resource not found for the segment '${decodeURIComponent(req.path.split('/').pop() ?? '')}'.`);
}
