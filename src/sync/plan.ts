// `plan`: the Graph writes pending now, or what a mode change would write (SPEC section 2: moving
// down from user-sync/universal-sync needs confirmation, and plan shows the change first).
// Computed from the store and the applied snapshots alone; nothing is sent.
import type { Mode } from '../config';
import { dirSyncEnabledFor } from '../rules/identity';
import { diffUser } from '../graph/diff';
import { userRequests } from '../graph/requests';
import type { EngineContext } from './context';
import { licenceGroupId, partNumberOf } from './license-groups';
import { MEMBER_BIND_MAX } from './member-sync';
import { writesGroups } from './preflight';
import { planUserOps } from './user-apply';
import { desiredUser, type UserSnapshot } from './user-work';

export interface PlannedWrite {
  resourceType: 'User' | 'Group' | 'Organization';
  id: string;
  method: string;
  url: string;
  body?: unknown;
  note?: string;
}

function redact(body: unknown): unknown {
  if (!body || typeof body !== 'object' || !('passwordProfile' in body)) return body;
  return { ...(body as object), passwordProfile: { password: '[redacted]' } };
}

function userPlan(ctx: EngineContext, id: string): PlannedWrite[] {
  const row = ctx.store.sync.get('User', id);
  const res = ctx.store.users.getForSync(id);
  if (!row || !res) return [];
  const snapshot = (row.appliedSnapshot as UserSnapshot | null) ?? null;
  if (res.deleted) {
    if (!row.graphId || snapshot?.deprovisioned) return [];
    const action = ctx.mode === 'license-only' ? 'remove bridge-assigned licenses' : ctx.config.deprovision === 'delete' ? 'DELETE' : 'disable and revoke';
    return [
      {
        resourceType: 'User',
        id,
        method: ctx.config.deprovision === 'delete' && ctx.mode !== 'license-only' ? 'DELETE' : 'PATCH',
        url: `/users/${row.graphId}`,
        note: `deprovision: ${action}`,
      },
    ];
  }
  const desired = desiredUser(ctx, row, res, snapshot);
  if (!row.graphId) {
    if (ctx.mode === 'license-only')
      return [
        {
          resourceType: 'User',
          id,
          method: 'GET',
          url: '/users',
          note: `match ${desired.match.userPrincipalName} (no create in license-only), then assign licenses`,
        },
      ];
    const create = diffUser(desired, null, ctx.mode).create!;
    const out: PlannedWrite[] = [
      {
        resourceType: 'User',
        id,
        ...userRequests.create(create),
        body: redact(create),
        note: 'unless a lookup by onPremisesImmutableId or UPN matches an existing user',
      },
    ];
    if (desired.licenses.length && ctx.config.licenses.assignment === 'group') out.push(...licenceGroupPlan(ctx, id, '{new}', desired.licenses, []));
    else if (desired.licenses.length)
      out.push({
        resourceType: 'User',
        id,
        method: 'POST',
        url: '/users/{new}/assignLicense',
        body: { addLicenses: desired.licenses.map((skuId) => ({ disabledPlans: [], skuId })), removeLicenses: [] },
      });
    if (desired.manager) out.push({ resourceType: 'User', id, method: 'PUT', url: '/users/{new}/manager/$ref', note: `manager ${desired.manager}` });
    return out;
  }
  const p = planUserOps(ctx, { row, res, desired, snapshot, graphId: row.graphId, done: false }, 'plan');
  const out: PlannedWrite[] = Object.values(p.ops).map((op) => ({
    resourceType: 'User' as const,
    id,
    method: op!.method,
    url: op!.url,
    ...(op!.body !== undefined ? { body: redact(op!.body) } : {}),
  }));
  if (p.lic) out.push(...licenceGroupPlan(ctx, id, row.graphId, p.lic.joins, p.lic.leaves));
  if (p.waitingFor) out.push({ resourceType: 'User', id, method: 'PUT', url: `/users/${row.graphId}/manager/$ref`, note: p.waitingFor });
  return out;
}

/** Licence group memberships (licenses.assignment 'group'): adds go 20 to a PATCH with other users'. */
function licenceGroupPlan(ctx: EngineContext, id: string, userGraphId: string, joins: string[], leaves: string[]): PlannedWrite[] {
  const group = (sku: string) => licenceGroupId(ctx, sku) ?? `{licence group of ${partNumberOf(ctx, sku)}}`;
  return [
    ...joins.map((sku) => ({
      resourceType: 'User' as const,
      id,
      method: 'PATCH',
      url: `/groups/${group(sku)}`,
      note: `members@odata.bind: ${userGraphId} (licence ${partNumberOf(ctx, sku)}, with up to 19 other users)`,
    })),
    ...leaves.map((sku) => ({
      resourceType: 'User' as const,
      id,
      method: 'DELETE',
      url: `/groups/${group(sku)}/members/${userGraphId}/$ref`,
      note: `licence ${partNumberOf(ctx, sku)}`,
    })),
  ];
}

function groupPlan(ctx: EngineContext, id: string): PlannedWrite[] {
  const row = ctx.store.sync.get('Group', id);
  if (!row) return [];
  const pending = ctx.store.groups.pendingMemberChanges(id, 1000);
  const out: PlannedWrite[] = [];
  if (!row.graphId) out.push({ resourceType: 'Group', id, method: 'POST', url: '/groups' });
  const gid = row.graphId ?? '{new}';
  // As group-sync writes them: up to 20 adds in one PATCH members@odata.bind, a lone add by $ref.
  for (let i = 0; i < pending.adds.length; i += MEMBER_BIND_MAX) {
    const chunk = pending.adds.slice(i, i + MEMBER_BIND_MAX);
    if (chunk.length === 1) out.push({ resourceType: 'Group', id, method: 'POST', url: `/groups/${gid}/members/$ref`, note: `member ${chunk[0]}` });
    else out.push({ resourceType: 'Group', id, method: 'PATCH', url: `/groups/${gid}`, note: `members@odata.bind: ${chunk.join(', ')}` });
  }
  for (const m of pending.removes) out.push({ resourceType: 'Group', id, method: 'DELETE', url: `/groups/${gid}/members/{${m}}/$ref`, note: `member ${m}` });
  return out;
}

export function planWrites(base: EngineContext, mode?: Mode): PlannedWrite[] {
  const ctx = mode ? { ...base, mode } : base;
  const out: PlannedWrite[] = [];
  if (dirSyncEnabledFor(ctx.mode) && !ctx.facts.tenantSyncEnabled && ctx.facts.organizationId) {
    out.push({
      resourceType: 'Organization',
      id: ctx.facts.organizationId,
      method: 'PATCH',
      url: `/organization/${ctx.facts.organizationId}`,
      body: { onPremisesSyncEnabled: true },
      note: ctx.config.graph.allowTenantDirSync ? undefined : 'blocked: graph.allowTenantDirSync is not set',
    });
  }
  const rows = mode && mode !== base.mode ? ctx.queries.userIds().map((id) => ({ type: 'User' as const, id })) : ctx.queries.behind();
  for (const r of rows) {
    if (r.type === 'User') {
      try {
        out.push(...userPlan(ctx, r.id));
      } catch (err) {
        out.push({ resourceType: 'User', id: r.id, method: '-', url: '-', note: `cannot be planned: ${(err as Error).message}` });
      }
    } else if (writesGroups(ctx.config, ctx.mode)) out.push(...groupPlan(ctx, r.id));
  }
  return out;
}
