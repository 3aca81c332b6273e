// The Graph requests a diff turns into, with URLs relative to {baseUrl}/v1.0 so they serve both
// client.request and $batch items (which must not carry the version prefix). Shapes match
// sync/ops.ts GraphOp minus its id and write flag.
import type { GraphBody } from './paths';
import type { LicenseChange } from './diff';

export type GraphMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface GraphRequestSpec {
  method: GraphMethod;
  /** Relative to {baseUrl}/v1.0, starting with '/'. */
  url: string;
  body?: unknown;
  headers?: Record<string, string>;
}

const seg = (id: string) => encodeURIComponent(id);

/** An OData reference to a directory object: the absolute URL Graph expects in @odata.id. */
export function directoryObjectRef(baseUrl: string, graphId: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/v1.0/directoryObjects/${seg(graphId)}`;
}

export const userRequests = {
  create: (body: GraphBody): GraphRequestSpec => ({ method: 'POST', url: '/users', body }),
  patch: (userId: string, body: GraphBody): GraphRequestSpec => ({ method: 'PATCH', url: `/users/${seg(userId)}`, body }),
  disable: (userId: string): GraphRequestSpec => ({ method: 'PATCH', url: `/users/${seg(userId)}`, body: { accountEnabled: false } }),
  /** Soft delete: restorable for 30 days from /directory/deletedItems. */
  delete: (userId: string): GraphRequestSpec => ({ method: 'DELETE', url: `/users/${seg(userId)}` }),
  setManager: (baseUrl: string, userId: string, managerGraphId: string): GraphRequestSpec => ({
    method: 'PUT',
    url: `/users/${seg(userId)}/manager/$ref`,
    body: { '@odata.id': directoryObjectRef(baseUrl, managerGraphId) },
  }),
  removeManager: (userId: string): GraphRequestSpec => ({ method: 'DELETE', url: `/users/${seg(userId)}/manager/$ref` }),
  assignLicense: (userId: string, change: LicenseChange): GraphRequestSpec => ({
    method: 'POST',
    url: `/users/${seg(userId)}/assignLicense`,
    body: { addLicenses: change.addLicenses, removeLicenses: change.removeLicenses },
  }),
  revokeSignInSessions: (userId: string): GraphRequestSpec => ({ method: 'POST', url: `/users/${seg(userId)}/revokeSignInSessions` }),
  /** Lookup before create (SPEC section 7): by onPremisesImmutableId, then by UPN. */
  findByImmutableId: (immutableId: string, select: string[]): GraphRequestSpec => ({
    method: 'GET',
    url: `/users?$filter=${encodeURIComponent(`onPremisesImmutableId eq '${odataString(immutableId)}'`)}&$select=${select.join(',')}`,
  }),
  findByUpn: (userPrincipalName: string, select: string[]): GraphRequestSpec => ({
    method: 'GET',
    url: `/users?$filter=${encodeURIComponent(`userPrincipalName eq '${odataString(userPrincipalName)}'`)}&$select=${select.join(',')}`,
  }),
  /**
   * Several users in one read: `property in (...)`, at most LOOKUP_IN_LIMIT values (Graph limits
   * an `in` filter to 15 expressions by default: learn.microsoft.com/graph/filter-query-parameter).
   */
  findIn: (property: 'userPrincipalName' | 'onPremisesImmutableId', values: readonly string[], select: string[]): GraphRequestSpec => ({
    method: 'GET',
    url: `/users?$filter=${encodeURIComponent(`${property} in (${values.map((v) => `'${odataString(v)}'`).join(',')})`)}&$select=${select.join(',')}`,
  }),
};

export const LOOKUP_IN_LIMIT = 15;

export const groupRequests = {
  create: (body: GraphBody): GraphRequestSpec => ({ method: 'POST', url: '/groups', body }),
  patch: (groupId: string, body: GraphBody): GraphRequestSpec => ({ method: 'PATCH', url: `/groups/${seg(groupId)}`, body }),
  delete: (groupId: string): GraphRequestSpec => ({ method: 'DELETE', url: `/groups/${seg(groupId)}` }),
  addMember: (baseUrl: string, groupId: string, memberGraphId: string): GraphRequestSpec => ({
    method: 'POST',
    url: `/groups/${seg(groupId)}/members/$ref`,
    body: { '@odata.id': directoryObjectRef(baseUrl, memberGraphId) },
  }),
  /** Up to 20 members in one PATCH (learn.microsoft.com/graph/api/group-post-members, example 2). */
  addMembers: (baseUrl: string, groupId: string, memberGraphIds: readonly string[]): GraphRequestSpec => {
    if (memberGraphIds.length > 20) throw new RangeError('members@odata.bind takes at most 20 members per request');
    return {
      method: 'PATCH',
      url: `/groups/${seg(groupId)}`,
      body: { 'members@odata.bind': memberGraphIds.map((id) => directoryObjectRef(baseUrl, id)) },
    };
  },
  removeMember: (groupId: string, memberGraphId: string): GraphRequestSpec => ({
    method: 'DELETE',
    url: `/groups/${seg(groupId)}/members/${seg(memberGraphId)}/$ref`,
  }),
};

export const organizationRequests = {
  /** SPEC section 5: the tenant switch, only when graph.allowTenantDirSync. */
  enableDirSync: (organizationId: string): GraphRequestSpec => ({
    method: 'PATCH',
    url: `/organization/${seg(organizationId)}`,
    body: { onPremisesSyncEnabled: true },
  }),
};

/** OData string literal: a single quote is doubled. */
function odataString(value: string): string {
  return value.replace(/'/g, "''");
}
