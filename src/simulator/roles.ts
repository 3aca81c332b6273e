// GET /roleManagement/directory/roleAssignments: the directory roles users hold, as unified role
// assignments at tenant scope. $filter supports principalId eq '...' and roleDefinitionId eq '...',
// the filters the list API documents for this use (unifiedroleassignment-list).
import { odataBadRequest } from './errors';
import { contextUrl, type SimContext } from './context';
import type { Json, SimRequest, SimResponse } from './types';

function parseFilter(filter: string | null): { principalId?: string; roleDefinitionId?: string } {
  if (!filter) return {};
  const out: Record<string, string> = {};
  for (const part of filter.split(/\s+and\s+/i)) {
    const m = /^\s*(principalId|roleDefinitionId)\s+eq\s+'([^']*)'\s*$/i.exec(part);
    if (!m) throw odataBadRequest(`Invalid filter clause: ${part.trim()}`);
    out[m[1].toLowerCase() === 'principalid' ? 'principalId' : 'roleDefinitionId'] = m[2];
  }
  return out;
}

export function listRoleAssignments(ctx: SimContext, req: SimRequest): SimResponse {
  const f = parseFilter(req.query.get('$filter'));
  const value: Json[] = [];
  for (const u of ctx.dir.users.values()) {
    if (f.principalId && u.id.toLowerCase() !== f.principalId.toLowerCase()) continue;
    for (const roleDefinitionId of u.directoryRoles ?? []) {
      if (f.roleDefinitionId && roleDefinitionId !== f.roleDefinitionId) continue;
      value.push({ id: `${roleDefinitionId}_${u.id}`, principalId: u.id, roleDefinitionId, directoryScopeId: '/' });
    }
  }
  return { status: 200, body: { '@odata.context': contextUrl(ctx, 'roleManagement/directory/roleAssignments'), value } };
}
