// The Graph permissions each kind of bridge request needs, for preflight, `scim-graph-bridge
// permissions` and docs/graph-app.md. Which permissions grant a request comes from
// schemas/graph-permissions.json, generated from Microsoft's permission table by
// scripts/gen-graph-permissions.js; this file only says which requests the bridge sends in which
// mode, and which one permission it asks the admin to grant for them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config, Mode } from '../config';
import { dirSyncEnabledFor, syncedThroughAd } from '../rules/identity';

interface RouteEntry {
  method: string;
  path: string;
  permissions: string[];
  least: string[];
  source?: string;
}

interface PermissionFile {
  routes: RouteEntry[];
  propertyScoped: Record<string, { properties: string[]; description: string }>;
}

const file = JSON.parse(readFileSync(join(__dirname, '..', '..', 'schemas', 'graph-permissions.json'), 'utf8')) as PermissionFile;

export interface RequestKey {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** As the permission table spells it: lower case, {id}, no $ref. */
  path: string;
  /** Only this property of the body (PATCH /users/{id} passwordProfile). */
  property?: string;
}

export interface PermissionNeed {
  id: string;
  /** What the bridge does with these requests. */
  what: string;
  /** What stops while the permission is missing. */
  stops: string;
  requests: RequestKey[];
  /** The permission the bridge asks for (granted by every request above, per the table). */
  grant: string;
  /** Missing: a preflight warning, not a block (the rest of the sync works without it). */
  optional?: boolean;
  applies(config: Config, mode: Mode): boolean;
}

const ALL = () => true;
const sync = (_c: Config, mode: Mode) => dirSyncEnabledFor(mode);
const writesUsers = (_c: Config, mode: Mode) => mode !== 'license-only';
/** graph.writer "inbound": user profiles go through an API-driven inbound provisioning app. */
const inbound = (c: Config, mode: Mode) => c.graph.writer === 'inbound' && mode !== 'license-only';
export const writesGroupsIn = (config: Config, mode: Mode): boolean => mode === 'universal-sync' || (mode !== 'license-only' && config.groups.push);

const r = (method: RequestKey['method'], path: string, property?: string): RequestKey => ({ method, path, ...(property ? { property } : {}) });

/** Every kind of request the bridge sends, in the order the least grant is built. */
export const PERMISSION_NEEDS: PermissionNeed[] = [
  {
    id: 'tenant.read',
    what: 'read the tenant (organization, subscribedSkus)',
    stops: 'every Graph write (preflight cannot read the tenant)',
    requests: [r('GET', '/organization'), r('GET', '/subscribedskus')],
    grant: 'Organization.Read.All',
    applies: ALL,
  },
  {
    id: 'users.write',
    what: 'look up, create, update, disable and revoke users, and set their manager',
    stops: 'all user provisioning and deprovisioning',
    requests: [
      r('GET', '/users'),
      r('GET', '/users/{id}'),
      r('POST', '/users'),
      r('PATCH', '/users/{id}'),
      r('PUT', '/users/{id}/manager'),
      r('DELETE', '/users/{id}/manager'),
      r('POST', '/users/{id}/revokesigninsessions'),
    ],
    grant: 'User.ReadWrite.All',
    applies: writesUsers,
  },
  {
    id: 'users.read',
    what: 'look up existing users to license',
    stops: 'all user matching',
    requests: [r('GET', '/users'), r('GET', '/users/{id}')],
    grant: 'User.Read.All',
    applies: (c, m) => m === 'license-only',
  },
  {
    id: 'users.revoke',
    what: 'revoke sign-in sessions after a password change',
    stops: 'session revocation on password changes',
    requests: [r('POST', '/users/{id}/revokesigninsessions')],
    grant: 'User.RevokeSessions.All',
    applies: (c, m) => m === 'license-only',
  },
  {
    id: 'users.delete',
    what: 'delete deprovisioned users (deprovision: delete)',
    stops: 'deprovisioning',
    requests: [r('DELETE', '/users/{id}')],
    grant: 'User.ReadWrite.All',
    applies: (c, m) => m !== 'license-only' && c.deprovision === 'delete',
  },
  {
    id: 'users.drift',
    what: 'track changes made to users in Entra (users/delta)',
    stops: 'drift detection',
    requests: [r('GET', '/users/delta')],
    grant: 'User.ReadWrite.All',
    applies: sync,
  },
  {
    id: 'users.restore',
    what: 'restore users deleted outside the bridge from the recycle bin',
    optional: true,
    stops: 'restoring users deleted outside the bridge (they are matched or created again instead)',
    requests: [r('POST', '/directory/deleteditems/{id}/restore')],
    grant: 'User.ReadWrite.All',
    applies: sync,
  },
  {
    id: 'licenses.assign',
    what: 'assign and remove licenses',
    stops: 'license assignment',
    requests: [r('POST', '/users/{id}/assignlicense')],
    grant: 'LicenseAssignment.ReadWrite.All',
    applies: ALL,
  },
  {
    id: 'licenses.groups',
    what: 'keep one licence group per SKU and its members (licenses.assignment: group)',
    stops: 'group-based licence assignment',
    requests: [
      r('GET', '/groups'),
      r('POST', '/groups'),
      r('PATCH', '/groups/{id}'),
      r('POST', '/groups/{id}/members'),
      r('DELETE', '/groups/{id}/members/{id}'),
    ],
    grant: 'Group.ReadWrite.All',
    applies: (c) => c.licenses.assignment === 'group',
  },
  {
    id: 'licenses.groupAssign',
    what: 'assign each SKU to its licence group once (licenses.assignment: group)',
    stops: 'group-based licence assignment',
    requests: [r('POST', '/groups/{id}/assignlicense')],
    // Group.ReadWrite.All grants it too (Microsoft's table), and the licence groups need it anyway.
    grant: 'Group.ReadWrite.All',
    applies: (c) => c.licenses.assignment === 'group',
  },
  {
    id: 'licenses.reprocess',
    what: 'have Entra work out again the group-based licences of a user in error, on retry (licenses.assignment: group)',
    optional: true,
    stops: 'retrying group-based licence errors (Entra retries when the user joins or leaves a licensed group)',
    requests: [r('POST', '/users/{id}/reprocesslicenseassignment')],
    grant: 'User.ReadWrite.All',
    applies: (c) => c.licenses.assignment === 'group',
  },
  {
    id: 'roles.read',
    what: 'read directory role assignments, so administrators are never matched or modified',
    stops: 'matching existing tenant users',
    requests: [r('GET', '/rolemanagement/directory/roleassignments')],
    grant: 'RoleManagement.Read.Directory',
    applies: ALL,
  },
  {
    id: 'tenant.switch',
    what: 'turn on the tenant switch organization.onPremisesSyncEnabled (graph.allowTenantDirSync)',
    stops: 'user-sync and universal-sync (the switch cannot be set)',
    requests: [r('PATCH', '/organization/{id}')],
    grant: 'Organization.ReadWrite.All',
    applies: (c, m) => dirSyncEnabledFor(m) && c.graph.allowTenantDirSync && !syncedThroughAd(c, m),
  },
  {
    id: 'devices.read',
    what: 'check for hybrid-joined devices',
    stops: 'user-sync and universal-sync (preflight cannot check devices)',
    requests: [r('GET', '/devices')],
    grant: 'Device.Read.All',
    applies: (c, m) => dirSyncEnabledFor(m) && !c.graph.hybridJoin && !syncedThroughAd(c, m),
  },
  {
    id: 'groups.write',
    what: 'create, update and delete security groups and their memberships',
    stops: 'group push',
    requests: [
      r('GET', '/groups'),
      r('GET', '/groups/{id}'),
      r('POST', '/groups'),
      r('PATCH', '/groups/{id}'),
      r('DELETE', '/groups/{id}'),
      r('POST', '/groups/{id}/members'),
      r('DELETE', '/groups/{id}/members/{id}'),
    ],
    grant: 'Group.ReadWrite.All',
    applies: writesGroupsIn,
  },
  {
    id: 'groups.drift',
    what: 'track changes made to groups in Entra (groups/delta)',
    stops: 'group drift detection',
    requests: [r('GET', '/groups/delta')],
    grant: 'Group.ReadWrite.All',
    applies: (c, m) => m === 'universal-sync',
  },
  {
    id: 'inbound.upload',
    what: 'send user records to the inbound provisioning app (bulkUpload, graph.writer "inbound")',
    stops: 'all user provisioning through the inbound provisioning app',
    requests: [r('POST', '/serviceprincipals/{id}/synchronization/jobs/{id}/bulkupload')],
    grant: 'SynchronizationData-User.Upload',
    applies: inbound,
  },
  {
    id: 'inbound.logs',
    what: 'read the provisioning logs for the outcome of each record sent (graph.writer "inbound")',
    stops: 'learning the outcome and Graph id of users sent to the inbound provisioning app',
    requests: [r('GET', '/auditlogs/provisioning')],
    grant: 'ProvisioningLog.Read.All',
    applies: inbound,
  },
  {
    id: 'inbound.job',
    what: "read the inbound provisioning job's status (running, paused, quarantined) for preflight",
    optional: true,
    stops: "preflight's check that the inbound provisioning job is running",
    requests: [r('GET', '/serviceprincipals/{id}/synchronization/jobs/{id}')],
    grant: 'Synchronization.Read.All',
    applies: inbound,
  },
  {
    id: 'users.password',
    what: 'set the password of existing users (passwordProfile in PATCH /users/{id})',
    optional: true,
    stops: 'password changes of existing users (each such user reports the password as not set; profiles still sync)',
    requests: [r('PATCH', '/users/{id}', 'passwordProfile')],
    grant: 'User-PasswordProfile.ReadWrite.All',
    applies: writesUsers,
  },
];

/** Application permissions that grant a request, per the permission table. */
export function grantingPermissions(req: RequestKey): string[] {
  if (req.property)
    return Object.entries(file.propertyScoped)
      .filter(([, s]) => s.properties.includes(req.property!))
      .map(([name]) => name);
  const route = file.routes.find((x) => x.method === req.method && x.path === req.path);
  if (!route) throw new Error(`${req.method} ${req.path} is not in schemas/graph-permissions.json`);
  return route.permissions;
}

export function needsFor(config: Config, mode: Mode = config.mode): PermissionNeed[] {
  return PERMISSION_NEEDS.filter((n) => n.applies(config, mode));
}

const covered = (held: Set<string>, req: RequestKey) => grantingPermissions(req).some((p) => held.has(p));

/**
 * The least set of permissions that lets the bridge send every request of this config: each need
 * adds its grant only when nothing chosen covers its requests, then grants made redundant by a
 * broader one are dropped. Optional needs are left out unless asked for.
 */
export function leastGrant(config: Config, mode: Mode = config.mode, opts: { optional?: boolean } = {}): string[] {
  const needs = needsFor(config, mode).filter((n) => opts.optional || !n.optional);
  const chosen: string[] = [];
  for (const n of needs) if (!n.requests.every((req) => covered(new Set(chosen), req))) chosen.push(n.grant);
  for (const p of [...chosen]) {
    const without = new Set(chosen.filter((x) => x !== p));
    if (needs.every((n) => n.requests.every((req) => covered(without, req)))) chosen.splice(chosen.indexOf(p), 1);
  }
  return chosen;
}

export interface MissingPermission {
  need: PermissionNeed;
  /** The requests no held permission grants. */
  requests: RequestKey[];
}

/** The needs of this config that the held permissions leave uncovered. */
export function missingPermissions(held: readonly string[], config: Config, mode: Mode = config.mode): MissingPermission[] {
  const have = new Set(held);
  const out: MissingPermission[] = [];
  for (const need of needsFor(config, mode)) {
    const requests = need.requests.filter((req) => !covered(have, req));
    if (requests.length) out.push({ need, requests });
  }
  return out;
}

export const describeRequest = (req: RequestKey) => `${req.method} ${req.path}${req.property ? ` (${req.property})` : ''}`;

/** One line an operator can act on: what is missing, what it stops, what to grant. */
export function missingReason(m: MissingPermission, mode: Mode): string {
  return `the Graph token lacks ${m.need.grant} (or another permission granting ${m.requests.map(describeRequest).join(', ')}): ${m.need.stops} in ${mode}; grant ${m.need.grant} and give admin consent (docs/graph-app.md)`;
}
