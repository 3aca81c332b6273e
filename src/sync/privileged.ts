// Administrators are never matched or modified (SPEC section 3): before the engine adopts a Graph
// user it did not create, it asks Graph for that user's directory role assignments
// (GET /roleManagement/directory/roleAssignments?$filter=principalId eq '{id}', granted by
// RoleManagement.Read.Directory, the least privileged permission the table lists for it). A user
// holding any role is refused with the role named; a lookup Graph refuses refuses the match too.
import type { EngineContext } from './context';
import type { GraphOp, OpOutcome } from './ops';

// Built-in role template ids (Microsoft Entra built-in roles reference), for readable reasons.
const ROLE_NAMES: Record<string, string> = {
  '62e90394-69f5-4237-9190-012177145e10': 'Global Administrator',
  'e8611ab8-c189-46e8-94e1-60213ab1f814': 'Privileged Role Administrator',
  '7be44c8a-adaf-4e2a-84d6-ab2649e08a13': 'Privileged Authentication Administrator',
  'fe930be7-5e62-47db-91af-98c3a49a38b1': 'User Administrator',
  '729827e3-9c14-49f7-bb1b-9608f156bbb8': 'Helpdesk Administrator',
  'c4e39bd9-1100-46d3-8c65-fb160da0071f': 'Authentication Administrator',
  '194ae4cb-b126-40b2-bd5b-6091b380977d': 'Security Administrator',
  '29232cdf-9323-42fd-ade2-1d097af3e4de': 'Exchange Administrator',
};

export const roleAssignmentsOf = (graphId: string): Omit<GraphOp, 'id'> => ({
  method: 'GET',
  url: `/roleManagement/directory/roleAssignments?$filter=${encodeURIComponent(`principalId eq '${graphId.replace(/'/g, "''")}'`)}`,
  write: false,
});

export type PrivilegeVerdict = { kind: 'ok' } | { kind: 'refuse'; reason: string } | { kind: 'retry'; reason: string; retryAfterMs?: number };

function verdict(o: OpOutcome | undefined, label: string): PrivilegeVerdict {
  if (!o) return { kind: 'retry', reason: `no answer to the directory role lookup of ${label}` };
  if (o.kind === 'retry') return { kind: 'retry', reason: o.message, retryAfterMs: o.retryAfterMs };
  if (o.kind === 'failed')
    return {
      kind: 'refuse',
      reason: `cannot tell whether Graph user ${label} holds a directory role (${o.code}: ${o.message}); it is not matched (grant RoleManagement.Read.Directory, docs/graph-app.md)`,
    };
  const roles = ((o.body as { value?: { roleDefinitionId?: string }[] })?.value ?? []).map((a) => String(a.roleDefinitionId ?? ''));
  if (!roles.length) return { kind: 'ok' };
  const names = [...new Set(roles.map((r) => ROLE_NAMES[r] ?? `role ${r}`))];
  return {
    kind: 'refuse',
    reason: `Graph user ${label} holds the directory role ${names.join(', ')}: administrators are never matched or modified by the bridge`,
  };
}

/** One verdict per candidate (same order): may the engine adopt this Graph user? */
export async function checkPrivileged(ctx: EngineContext, candidates: { id: string; label: string }[]): Promise<PrivilegeVerdict[]> {
  if (!candidates.length) return [];
  const out = await ctx.exec.run(candidates.map((c, i) => ({ id: `${i}a`, ...roleAssignmentsOf(c.id) })));
  return candidates.map((c, i) => verdict(out.get(`${i}a`), c.label));
}
