// Deprovisioning a SCIM-deleted user (SPEC sections 2 and 7): license-only removes the licenses the
// bridge assigned (and leaves its licence groups); other modes disable and revoke (deprovision: disable, the default) or soft
// delete (deprovision: delete). The deletion guard holds mass deletes for operator approval.
import type { SyncRow } from '../store';
import { groupRequests, userRequests } from '../graph/requests';
import { usesInbound } from './inbound-state';
import { inboundDeprovision } from './inbound-writer';
import { licenceGroupId } from './license-groups';
import { type EngineContext, appliedRow, failRow, retryRow } from './context';
import type { GraphOp } from './ops';
import type { UserSnapshot } from './user-work';

const HOLD_RECHECK_MS = 60_000;

function opsFor(ctx: EngineContext, gid: string, snapshot: UserSnapshot, key: string): GraphOp[] {
  if (ctx.mode === 'license-only') {
    // Group-based licences go with the membership of the licence group (license-groups.ts).
    const leaves = (snapshot.groupLicenses ?? []).flatMap((sku, i) => {
      const group = licenceGroupId(ctx, sku);
      return group ? [{ id: `${key}g${i}`, ...groupRequests.removeMember(group, gid), write: true }] : [];
    });
    if (!snapshot.licenses.length) return leaves;
    return [{ id: `${key}l`, ...userRequests.assignLicense(gid, { addLicenses: [], removeLicenses: [...snapshot.licenses] }), write: true }, ...leaves];
  }
  if (ctx.config.deprovision === 'delete') return [{ id: `${key}d`, ...userRequests.delete(gid), write: true }];
  const ops: GraphOp[] = [];
  if (snapshot.properties.accountEnabled !== false) ops.push({ id: `${key}p`, ...userRequests.disable(gid), write: true });
  ops.push({ id: `${key}r`, ...userRequests.revokeSignInSessions(gid), write: true, ...(ops.length ? { dependsOn: [`${key}p`] } : {}) });
  return ops;
}

function deprovisioned(snapshot: UserSnapshot, ctx: EngineContext): UserSnapshot {
  if (ctx.mode === 'license-only') {
    const { licenseErrors: _gone, ...rest } = snapshot;
    return { ...rest, licenses: [], ...(snapshot.groupLicenses ? { groupLicenses: [], groupActive: [] } : {}), deprovisioned: true };
  }
  return { ...snapshot, properties: { ...snapshot.properties, accountEnabled: false }, deprovisioned: true };
}

/**
 * The deletion threshold over due rows that deprovision (deletes, or deactivations): every pending
 * deprovision of each source counts, whether due in this pass or not. Held rows are put back with
 * the reason; the allowed ones are returned.
 */
export function guardDeprovisions(ctx: EngineContext, rows: SyncRow[]): SyncRow[] {
  const due = new Map(rows.map((r) => [r.id, r]));
  const bySource = new Map<string, string[]>();
  for (const d of ctx.queries.pendingDeletions(ctx.mode === 'license-only')) {
    if (!bySource.has(d.sourceId)) bySource.set(d.sourceId, []);
    bySource.get(d.sourceId)!.push(d.id);
  }
  const allowed: SyncRow[] = [];
  for (const [sourceId, ids] of bySource) {
    const decision = ctx.guard.decide(sourceId, ids);
    for (const id of decision.allowed) if (due.has(id)) allowed.push(due.get(id)!);
    if (decision.held.length) {
      const reason = `deprovisioning paused: ${decision.held.length} deletions from source ${sourceId} within an hour exceed deletionThreshold ${ctx.config.deletionThreshold}; an operator approves with approve-deletions`;
      for (const id of decision.held) if (due.has(id)) retryRow(ctx, due.get(id)!, reason, HOLD_RECHECK_MS);
      ctx.emit({ type: 'deletions-held', sourceId, pending: decision.held.length, at: new Date(ctx.clock.now()).toISOString() });
    }
  }
  return allowed;
}

/**
 * Deprovisions of deleted users, within the deletion threshold: through the inbound provisioning app
 * (a disabling record) under the inbound writer, except a delete of a cloud user, which only Graph
 * can make (the app does not delete).
 */
export async function deprovisionUsers(ctx: EngineContext, rows: SyncRow[]): Promise<void> {
  const allowed = guardDeprovisions(ctx, rows);
  const graphDeletes = ctx.config.deprovision === 'delete' && ctx.config.graph.inbound?.target === 'entra';
  if (usesInbound(ctx) && !graphDeletes) {
    if (allowed.length) await inboundDeprovision(ctx, allowed);
    return;
  }
  const planned = allowed.map((row, i) => {
    const snapshot = (row.appliedSnapshot as UserSnapshot | null) ?? { properties: {}, licenses: [] };
    const ops = row.graphId && !snapshot.deprovisioned ? opsFor(ctx, row.graphId, snapshot, String(i)) : [];
    return { row, snapshot, ops };
  });
  const out = await ctx.exec.run(planned.flatMap((p) => p.ops));
  for (const p of planned) {
    const results = p.ops.map((op) => out.get(op.id)!);
    // Already gone from Graph is what a delete wants.
    const bad = results.find((o) => o.kind !== 'ok' && !(o.kind === 'failed' && o.status === 404));
    const res = ctx.store.users.getForSync(p.row.id);
    if (!bad) {
      appliedRow(ctx, p.row, { appliedSnapshot: deprovisioned(p.snapshot, ctx) });
      ctx.guard.record(res?.sourceId ?? '', p.row.id);
      if (p.ops.length) {
        ctx.counters.deprovisioned++;
        ctx.store.audit.append({
          sourceId: res?.sourceId,
          action: `sync.deprovision.${ctx.mode === 'license-only' ? 'licenses' : ctx.config.deprovision}`,
          resourceType: 'User',
          resourceId: p.row.id,
          detail: { graphId: p.row.graphId },
        });
        ctx.emit({ type: 'deprovisioned', resourceType: 'User', id: p.row.id, graphId: p.row.graphId!, at: new Date(ctx.clock.now()).toISOString() });
      }
    } else if (bad.kind === 'failed') failRow(ctx, p.row, bad.message);
    else if (bad.kind === 'retry') retryRow(ctx, p.row, bad.message, bad.retryAfterMs);
  }
}
