// Security groups and memberships (SPEC section 2: universal-sync, or groups.push in profile-sync
// and user-sync). Groups come after their members: a member without a Graph id yet keeps the
// group pending until it has one. Memberships are applied from the store's pending member
// changes, so a group of 10,000 members is never loaded whole; adds travel 20 to a write
// (member-sync.ts).
import type { SyncRow } from '../store';
import { diffGroup, translateGroup, type AppliedGroupSnapshot, type ScimGroup } from '../graph/diff';
import type { DesiredGroup } from '../graph/group';
import { groupRequests } from '../graph/requests';
import { type EngineContext, appliedRow, failRow, failRowOnThrow, progressRow, retryRow, settleRefused, waitRow } from './context';
import { decideGroupLink } from './adoption';
import { confirmed, graphIdOf, MEMBER_CHANGES_PER_PASS, NO_ANSWER, planMembers, removeWrite, settleMembers, type MemberWrite } from './member-sync';
import { noteLinked, retryReplicationMisses } from './replication';
import type { GraphOp, OpOutcome } from './ops';

interface GroupWork {
  row: SyncRow;
  sourceId: string;
  graphId: string | null;
  snapshot: AppliedGroupSnapshot | null;
  scim: ScimGroup;
  done: boolean;
}

function odataString(value: string): string {
  return value.replace(/'/g, "''");
}

async function matchOrCreate(ctx: EngineContext, all: GroupWork[]): Promise<void> {
  // A displayName Graph cannot be asked about (a lone surrogate stored before ingress checked it): that group only.
  const work: GroupWork[] = [];
  const desired: DesiredGroup[] = [];
  const lookupOps: GraphOp[] = [];
  for (const w of all) {
    try {
      const d = translateGroup(ctx.mode, w.scim, { resourceId: w.row.id, groupsPush: ctx.config.groups.push })!;
      // Idempotent create: a group with this mailNickname and displayName (ours after a crash, or the tenant's) is matched.
      const filter = `mailNickname eq '${odataString(d.properties.mailNickname)}' and displayName eq '${odataString(d.properties.displayName)}'`;
      const url = `/groups?$filter=${encodeURIComponent(filter)}&$select=id,displayName,mailNickname,description,securityEnabled,mailEnabled`;
      lookupOps.push({ id: `${work.length}g`, method: 'GET' as const, url, write: false });
      work.push(w);
      desired.push(d);
    } catch (err) {
      failRowOnThrow(ctx, w.row, err);
      w.done = true;
    }
  }
  const lookups = await ctx.exec.run(lookupOps);
  const creates: GraphOp[] = [];
  const sent: [string, string][] = [];
  const keyOf = (i: number) => `${desired[i].properties.mailNickname}\n${desired[i].properties.displayName}`;
  work.forEach((w, i) => {
    const o = lookups.get(`${i}g`)!;
    if (o.kind === 'retry') return void (retryRow(ctx, w.row, o.message, o.retryAfterMs), (w.done = true));
    const found = o.kind === 'ok' ? ((o.body as { value?: { id: string }[] }).value ?? [])[0] : undefined;
    // Adoption is a decision (adoption.ts): a group found is the engine's own lost create, or a tenant group
    // the source's adopt.groups allows; one linked to another resource is never taken over.
    const own = ctx.queries.createUnanswered('Group', w.row.id);
    const decision = decideGroupLink(ctx, { id: w.row.id, sourceId: w.sourceId }, found, desired[i].properties, own);
    if (decision && 'refuse' in decision) {
      failRow(ctx, w.row, decision.refuse);
      w.done = true;
      return;
    }
    if (decision && found) {
      const snapshot: AppliedGroupSnapshot = { properties: { ...found }, members: [] };
      delete snapshot.properties.id;
      noteLinked(ctx, found.id);
      progressRow(ctx, w.row, { graphId: found.id, appliedSnapshot: snapshot });
      if (own !== null) ctx.queries.createsSettled('Group', [w.row.id]);
      if (decision.link === 'adopt')
        ctx.store.audit.append({ sourceId: w.sourceId, action: 'sync.adopt', resourceType: 'Group', resourceId: w.row.id, detail: { graphId: found.id } });
      Object.assign(w, { graphId: found.id, snapshot });
    } else {
      sent.push([w.row.id, keyOf(i)]);
      creates.push({ id: `${i}c`, ...groupRequests.create(diffGroup(desired[i], null).create!), write: true });
    }
  });
  // Recorded before the POSTs go out: a crash before their answers is healed as the engine's own groups.
  if (sent.length) ctx.queries.createsSent('Group', sent);
  const out = await ctx.exec.run(creates);
  const settled: string[] = [];
  work.forEach((w, i) => {
    const o = out.get(`${i}c`);
    if (!o) return;
    if (o.kind === 'ok') {
      const id = (o.body as { id: string }).id;
      const snapshot: AppliedGroupSnapshot = { properties: { ...desired[i].properties }, members: [] };
      noteLinked(ctx, id);
      progressRow(ctx, w.row, { graphId: id, appliedSnapshot: snapshot });
      Object.assign(w, { graphId: id, snapshot });
      settled.push(w.row.id);
      ctx.emit({ type: 'created', resourceType: 'Group', id: w.row.id, graphId: id, at: new Date(ctx.clock.now()).toISOString() });
    } else {
      if (o.kind === 'failed') settled.push(w.row.id);
      settleRefused(ctx, w, o);
    }
  });
  if (settled.length) ctx.queries.createsSettled('Group', settled);
}

async function applyGroups(ctx: EngineContext, work: GroupWork[]): Promise<void> {
  const planned = work.map((w, i) => {
    const desired = translateGroup(ctx.mode, w.scim, { resourceId: w.row.id, groupsPush: ctx.config.groups.push })!;
    const diff = diffGroup({ ...desired, members: [] }, { properties: w.snapshot?.properties ?? {}, members: [] });
    const patch = diff.patch ? { id: `${i}p`, ...groupRequests.patch(w.graphId!, diff.patch), write: true } : undefined;
    return { w, diff, patch, members: planMembers(ctx, w.row.id, w.graphId!, String(i)) };
  });
  const out = await ctx.exec.run(planned.flatMap((p) => [...(p.patch ? [p.patch] : []), ...p.members.writes.map((m) => m.op)]));
  await retryReplicationMisses(
    ctx,
    planned.flatMap((p) => (p.patch ? [{ opId: p.patch.id, refs: [{ set: 'groups' as const, id: p.w.graphId }] }] : [])),
    out,
  );
  for (const p of planned) settleMembers(ctx, p.members, out);
  // Chunks Graph refused whole, member by member: one more round in the same pass.
  const again = planned.filter((p) => p.members.writes.length);
  if (again.length) {
    const out2 = await ctx.exec.run(again.flatMap((p) => p.members.writes.map((m) => m.op)));
    for (const p of again) settleMembers(ctx, p.members, out2);
  }
  for (const p of planned) {
    const patchOutcome: OpOutcome | undefined = p.patch ? (out.get(p.patch.id) ?? NO_ANSWER) : undefined;
    const patchOk = !patchOutcome || patchOutcome.kind === 'ok';
    const snapshot = { properties: patchOk ? p.diff.nextSnapshot.properties : (p.w.snapshot?.properties ?? {}), members: [] };
    const bad = [...(patchOk ? [] : [patchOutcome!]), ...p.members.problems][0];
    if (!bad && !p.members.waiting.length && !p.members.more) {
      appliedRow(ctx, p.w.row, { appliedSnapshot: snapshot, graphId: p.w.graphId });
      continue;
    }
    ctx.store.transaction(() => {
      progressRow(ctx, p.w.row, { appliedSnapshot: snapshot, graphId: p.w.graphId });
      if (bad?.kind === 'failed') failRow(ctx, p.w.row, bad.message);
      else if (bad?.kind === 'retry') retryRow(ctx, p.w.row, bad.message, bad.retryAfterMs);
      else if (p.members.waiting.length) retryRow(ctx, p.w.row, `waiting for ${p.members.waiting.length} member(s) to exist in Graph`, 1000);
      else waitRow(ctx, p.w.row, 'more member changes pending');
    });
  }
}

async function deleteGroups(ctx: EngineContext, rows: SyncRow[]): Promise<void> {
  const withId = rows.filter((r) => r.graphId);
  for (const r of rows.filter((x) => !x.graphId)) appliedRow(ctx, r, { appliedSnapshot: r.appliedSnapshot });
  const out = await ctx.exec.run(withId.map((r, i) => ({ id: `${i}d`, ...groupRequests.delete(r.graphId!), write: true })));
  withId.forEach((r, i) => {
    const o = out.get(`${i}d`)!;
    if (o.kind === 'ok' || (o.kind === 'failed' && o.status === 404)) appliedRow(ctx, r, { appliedSnapshot: r.appliedSnapshot });
    else if (o.kind === 'failed') failRow(ctx, r, o.message);
    else retryRow(ctx, r, o.message, o.retryAfterMs);
  });
}

export async function syncGroups(ctx: EngineContext, rows: SyncRow[]): Promise<void> {
  const live: GroupWork[] = [];
  const deleted: SyncRow[] = [];
  for (const row of rows) {
    const res = ctx.store.groups.getForSync(row.id);
    if (!res) continue;
    if (res.deleted) deleted.push(row);
    else
      live.push({
        row,
        sourceId: res.sourceId,
        graphId: row.graphId,
        snapshot: row.appliedSnapshot as AppliedGroupSnapshot | null,
        scim: res.resource as unknown as ScimGroup,
        done: false,
      });
  }
  if (deleted.length) await deleteGroups(ctx, deleted);
  const unmatched = live.filter((w) => !w.graphId);
  if (unmatched.length) await matchOrCreate(ctx, unmatched);
  const ready = live.filter((w) => w.graphId && !w.done);
  if (ready.length) await applyGroups(ctx, ready);
}

/**
 * The urgent part of groups already in Graph: their pending member removals, sent ahead of the
 * pass's creations. Nothing else is decided here: the groups phase still syncs each group whole
 * (properties, adds, whatever removal Graph did not confirm) and sets its state.
 */
export async function removeMembersFirst(ctx: EngineContext, rows: SyncRow[]): Promise<void> {
  const writes: { groupId: string; w: MemberWrite }[] = [];
  for (const row of rows) {
    if (!row.graphId || row.deleted) continue;
    for (const member of ctx.store.groups.pendingRemoves(row.id, MEMBER_CHANGES_PER_PASS)) {
      const gid = graphIdOf(ctx, member);
      if (gid) writes.push({ groupId: row.id, w: removeWrite(row.graphId, `${writes.length}r`, member, gid) });
    }
  }
  const out = await ctx.exec.run(writes.map((x) => x.w.op));
  const removed = new Map<string, string[]>();
  for (const { groupId, w } of writes) if (confirmed(w, out.get(w.op.id) ?? NO_ANSWER)) removed.set(groupId, [...(removed.get(groupId) ?? []), ...w.members]);
  for (const [groupId, members] of removed) ctx.store.groups.markMembersApplied(groupId, [], members);
}
