// Memberships of one group as Graph writes: adds in PATCH /groups/{id} with members@odata.bind, up
// to 20 members a write (learn.microsoft.com/graph/api/group-post-members, example 2), a lone add as
// POST members/$ref, removals one DELETE members/{id}/$ref each (Graph has no bulk remove).
// Graph refuses a members@odata.bind write whole when one member is already there (400 "One or
// more added object references already exist for the following modified properties: 'members'.",
// as after a crash between the write and markMembersApplied) or when one reference is bad, without
// saying which member: such a chunk is sent again member by member, where "already exists" is
// success and a bad reference fails alone. Only members Graph confirmed are marked applied.
import { groupRequests } from '../graph/requests';
import type { EngineContext } from './context';
import type { GraphOp, OpOutcome } from './ops';
import { softenReferenceMissing } from './replication';

/** Graph's limit on members@odata.bind references in one request. */
export const MEMBER_BIND_MAX = 20;
/** Pending member changes read per group and pass: a full $batch of 20-member PATCHes. */
export const MEMBER_CHANGES_PER_PASS = MEMBER_BIND_MAX * 20;
const ALREADY_MEMBER = /already exist/i;
/** The outcome of a write that came back without an answer: tried again later. */
export const NO_ANSWER: OpOutcome = { kind: 'retry', status: 0, message: 'no answer for this write', throttled: false };

export interface MemberWrite {
  op: GraphOp;
  add: boolean;
  groupGraphId: string;
  /** SCIM ids of the members this write carries, in the order of gids. */
  members: string[];
  gids: string[];
}

export interface MemberPlan {
  groupId: string;
  groupGraphId: string;
  /** The writes of the current round. */
  writes: MemberWrite[];
  /** Adds whose member has no Graph id yet. */
  waiting: string[];
  /** More pending changes than one pass reads. */
  more: boolean;
  /** Outcomes that left members unapplied (retry later, or a permanent failure). */
  problems: OpOutcome[];
}

/** A member's Graph id (a user's, else a nested group's), null while it has none. */
export const graphIdOf = (ctx: EngineContext, member: string) =>
  ctx.store.sync.get('User', member)?.graphId ?? ctx.store.sync.get('Group', member)?.graphId ?? null;

/** Adds of up to MEMBER_BIND_MAX members to one group: one PATCH members@odata.bind, or a lone POST members/$ref. */
export function addWrite(ctx: EngineContext, groupGraphId: string, id: string, members: string[], gids: string[]): MemberWrite {
  const spec =
    gids.length === 1 ? groupRequests.addMember(ctx.graphBaseUrl, groupGraphId, gids[0]) : groupRequests.addMembers(ctx.graphBaseUrl, groupGraphId, gids);
  return { op: { id, ...spec, write: true }, add: true, groupGraphId, members, gids };
}

export function removeWrite(groupGraphId: string, id: string, member: string, gid: string): MemberWrite {
  return { op: { id, ...groupRequests.removeMember(groupGraphId, gid), write: true }, add: false, groupGraphId, members: [member], gids: [gid] };
}

/** The first round of member writes for a group; removals of members never linked to Graph are recorded at once. */
export function planMembers(ctx: EngineContext, groupId: string, groupGraphId: string, key: string): MemberPlan {
  const pending = ctx.store.groups.pendingMemberChanges(groupId, MEMBER_CHANGES_PER_PASS);
  const plan: MemberPlan = {
    groupId,
    groupGraphId,
    writes: [],
    waiting: [],
    more: pending.adds.length + pending.removes.length >= MEMBER_CHANGES_PER_PASS,
    problems: [],
  };
  const ready: { member: string; gid: string }[] = [];
  for (const member of pending.adds) {
    const gid = graphIdOf(ctx, member);
    if (gid) ready.push({ member, gid });
    else plan.waiting.push(member);
  }
  for (let i = 0; i < ready.length; i += MEMBER_BIND_MAX) {
    const chunk = ready.slice(i, i + MEMBER_BIND_MAX);
    plan.writes.push(
      addWrite(
        ctx,
        groupGraphId,
        `${key}a${plan.writes.length}`,
        chunk.map((c) => c.member),
        chunk.map((c) => c.gid),
      ),
    );
  }
  // A member never linked to Graph leaves nothing to remove there.
  const gone: string[] = [];
  for (const member of pending.removes) {
    const gid = graphIdOf(ctx, member);
    if (!gid) gone.push(member);
    else plan.writes.push(removeWrite(groupGraphId, `${key}x${plan.writes.length}`, member, gid));
  }
  if (gone.length) ctx.store.groups.markMembersApplied(groupId, [], gone);
  return plan;
}

/** Adding a member already there, or removing one already gone, is the state wanted. */
export function confirmed(w: MemberWrite, o: OpOutcome): boolean {
  if (o.kind === 'ok') return true;
  if (o.kind !== 'failed') return false;
  return w.add ? w.members.length === 1 && o.status === 400 && ALREADY_MEMBER.test(o.message) : o.status === 404;
}

/** A multi-member add Graph refused whole (400 or 404): its members, one write each, `null` otherwise. */
export function splitRefused(ctx: EngineContext, w: MemberWrite, o: OpOutcome): MemberWrite[] | null {
  if (!w.add || w.members.length < 2 || o.kind !== 'failed' || (o.status !== 400 && o.status !== 404)) return null;
  return w.members.map((m, i) => addWrite(ctx, w.groupGraphId, `${w.op.id}m${i}`, [m], [w.gids[i]]));
}

/**
 * Records what one round confirmed (markMembersApplied) and sets plan.writes to the next round:
 * the members of every multi-member add Graph refused with 400 or 404, one request each.
 */
export function settleMembers(ctx: EngineContext, plan: MemberPlan, out: Map<string, OpOutcome>): void {
  const adds: string[] = [];
  const removes: string[] = [];
  const next: MemberWrite[] = [];
  for (const w of plan.writes) {
    // A group or member created moments ago may not have reached every replica yet: retried whole.
    const answer: OpOutcome = out.get(w.op.id) ?? NO_ANSWER;
    const o = w.add ? softenReferenceMissing(ctx, answer, [plan.groupGraphId, ...w.gids]) : answer;
    if (confirmed(w, o)) {
      (w.add ? adds : removes).push(...w.members);
      continue;
    }
    const split = splitRefused(ctx, w, o);
    if (!split) {
      plan.problems.push(o);
      continue;
    }
    ctx.logger.info(
      { group: plan.groupId, members: w.members.length, status: o.status, err: o.kind === 'failed' ? o.message : undefined },
      'member chunk refused whole; adding its members one by one',
    );
    next.push(...split);
  }
  ctx.store.groups.markMembersApplied(plan.groupId, adds, removes);
  plan.writes = next;
}
