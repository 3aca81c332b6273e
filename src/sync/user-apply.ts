// The update phase for users the engine holds a Graph id for: diff desired against the applied
// snapshot, turn the diff into the fewest Graph writes (PATCH, assignLicense, manager $ref,
// revokeSignInSessions) and record exactly what succeeded.
import { diffUser, type UserDiff } from '../graph/diff';
import { flatten, unflatten } from '../graph/paths';
import { dirSyncEnabledFor } from '../rules/identity';
import { userRequests } from '../graph/requests';
import { type EngineContext, appliedRow, failRow, inTransaction, progressRow, readBackDuePages, retryRow, waitRow } from './context';
import type { GraphOp, OpOutcome } from './ops';
import { type NotFoundWrite, retryReplicationMisses } from './replication';
import type { UserSnapshot, UserWork } from './user-work';
import {
  ensureLicenceGroups,
  licenceGroupId,
  partNumberOf,
  planLicences,
  reprocessOp,
  scheduleLicenceReadback,
  sendMemberships,
  type LicencePlan,
  type MembershipChange,
} from './license-groups';

const ON_PREM_MASTERED = /on-premises mastered/i;
// Graph's assignLicense answer when a SKU has no seat left (400, code CountViolation).
const NO_SEAT = /Subscription with SKU ([0-9a-f-]{36}) does not have any available licenses/i;

/** A seat shortage said so that an operator sees which SKU, and what to do (the SKU's part number is what /metrics labels). */
export function seatShortageMessage(ctx: EngineContext, graphMessage: string): string | null {
  const m = NO_SEAT.exec(graphMessage);
  if (!m) return null;
  const skuId = m[1].toLowerCase();
  const part = Object.entries(ctx.facts.skuByPart).find(([, id]) => id.toLowerCase() === skuId)?.[0] ?? skuId;
  return `${SEAT_SHORTAGE_PREFIX}${part}: ${graphMessage} Add seats or free some, then run "scim-graph-bridge retry".`;
}
export const SEAT_SHORTAGE_PREFIX = 'no free seat of SKU ';

type OpKey = 'p' | 'w' | 'l' | 'm' | 'r' | 'x';

interface MemberResult {
  sku: string;
  add: boolean;
  outcome: OpOutcome;
}

interface Planned {
  w: UserWork;
  diff: UserDiff;
  /**
   * p: profile PATCH, w: password PATCH (a request of its own), l: licenses, m: manager, r: revoke,
   * x: reprocessLicenseAssignment (group-based licences in error).
   */
  ops: Partial<Record<OpKey, GraphOp>>;
  /** Licence group memberships (licenses.assignment 'group', or the way back from it). */
  lic: LicencePlan | null;
  /** What Graph answered for each membership change. */
  members: MemberResult[];
  waitingFor?: string;
  /** The manager a manager/$ref write names. */
  managerGraphId?: string;
}

export function planUserOps(ctx: EngineContext, w: UserWork, key: string): Planned {
  const lic = planLicences(ctx, w);
  // Under group assignment the diff sees only the direct licences to keep, so it removes the rest.
  const diff = diffUser(lic ? { ...w.desired, licenses: lic.direct } : w.desired, w.snapshot, ctx.mode);
  const gid = w.graphId!;
  const ops: Planned['ops'] = {};
  let waitingFor: string | undefined;
  let managerGraphId: string | undefined;
  // The password goes alone: Graph may refuse it (User-PasswordProfile.ReadWrite.All, a federated
  // domain) while the profile is accepted.
  const { passwordProfile, ...profile } = diff.patch ?? {};
  if (Object.keys(profile).length) ops.p = { id: `${key}p`, ...userRequests.patch(gid, profile), write: true };
  // After the profile, so that one request chain p -> w -> r stays sequential within a $batch.
  if (passwordProfile) ops.w = { id: `${key}w`, ...userRequests.patch(gid, { passwordProfile }), write: true, ...(ops.p ? { dependsOn: [ops.p.id] } : {}) };
  if (diff.licenses) {
    // A license needs usageLocation (Graph 400 otherwise): after the PATCH that sets it.
    const after = ops.p && diff.patch && 'usageLocation' in diff.patch ? [ops.p.id] : undefined;
    ops.l = { id: `${key}l`, ...userRequests.assignLicense(gid, diff.licenses), write: true, ...(after ? { dependsOn: after } : {}) };
  }
  if (diff.manager && 'remove' in diff.manager) ops.m = { id: `${key}m`, ...userRequests.removeManager(gid), write: true };
  if (diff.manager && 'set' in diff.manager) {
    managerGraphId = ctx.store.sync.get('User', diff.manager.set)?.graphId ?? undefined;
    if (managerGraphId) ops.m = { id: `${key}m`, ...userRequests.setManager(ctx.graphBaseUrl, gid, managerGraphId), write: true };
    else waitingFor = `waiting for manager ${diff.manager.set} to exist in Graph`;
  }
  if (diff.revoke) {
    // A revoke that follows a password change waits for the password: refused, it revokes nothing.
    const after = ops.w ? [ops.w.id] : ops.p && diff.patch?.accountEnabled === false ? [ops.p.id] : undefined;
    ops.r = { id: `${key}r`, ...userRequests.revokeSignInSessions(gid), write: true, ...(after ? { dependsOn: after } : {}) };
  }
  if (lic?.reprocess) ops.x = reprocessOp(`${key}x`, gid);
  return { w, diff, ops, waitingFor, managerGraphId, lic, members: [] };
}

/** The objects each write names: a 404 on one just created may be a replica behind. */
function namedObjects(p: Planned): NotFoundWrite[] {
  // A manager removal answered 404 means no manager: not a replica question.
  const writes = (Object.entries(p.ops) as [OpKey, GraphOp][]).filter(([k]) => k !== 'm' || p.managerGraphId);
  return writes.map(([k, op]) => ({
    opId: op.id,
    refs: [{ set: 'users' as const, id: p.w.graphId }, ...(k === 'm' && p.managerGraphId ? [{ set: 'users' as const, id: p.managerGraphId }] : [])],
  }));
}

/** The snapshot after the writes that succeeded, and nothing that did not. */
function partialSnapshot(p: Planned, ok: (k: OpKey) => boolean): UserSnapshot {
  const before: UserSnapshot = p.w.snapshot ?? { properties: {}, licenses: [] };
  const next = p.diff.nextSnapshot as UserSnapshot;
  const properties = p.ops.p && ok('p') ? next.properties : before.properties;
  const managerDone = p.ops.m && ok('m');
  const joined = new Set(before.groupLicenses ?? []);
  const active = new Set(before.groupActive ?? []);
  let errors = before.licenseErrors ? { ...before.licenseErrors } : undefined;
  if (p.ops.x && ok('x')) errors = undefined;
  for (const m of p.members) {
    if (m.outcome.kind !== 'ok') continue;
    if (m.add) joined.add(m.sku);
    else {
      joined.delete(m.sku);
      active.delete(m.sku);
      if (errors) delete errors[m.sku];
    }
  }
  const groupFields: Partial<UserSnapshot> = joined.size || before.groupLicenses ? { groupLicenses: [...joined].sort(), groupActive: [...active].sort() } : {};
  const { licenseErrors: _dropped, ...rest } = before;
  return {
    ...rest,
    ...groupFields,
    ...(errors && Object.keys(errors).length ? { licenseErrors: errors } : {}),
    properties: p.ops.p ? properties : unflatten([...flatten(before.properties), ...flatten(next.properties)]),
    licenses: !p.ops.l || ok('l') ? next.licenses : before.licenses,
    ...(managerDone ? { manager: next.manager ?? null } : before.manager !== undefined ? { manager: before.manager } : {}),
    ...((!p.diff.revoke || (p.ops.r && ok('r'))) && next.tokensValidFrom ? { tokensValidFrom: next.tokensValidFrom } : {}),
  };
}

/** A 404 on the user's own PATCH, license or revoke: the Graph user was deleted outside the bridge. */
function goneFromGraph(p: Planned, out: Map<string, OpOutcome>): boolean {
  return (['p', 'w', 'l', 'r'] as const).some((k) => {
    const o = p.ops[k] ? out.get(p.ops[k]!.id) : undefined;
    return o?.kind === 'failed' && o.status === 404;
  });
}

function settle(ctx: EngineContext, p: Planned, out: Map<string, OpOutcome>): void {
  const outcome = (k: OpKey) => (p.ops[k] ? out.get(p.ops[k]!.id) : undefined);
  const ok = (k: OpKey) => outcome(k)?.kind === 'ok';
  const keys = Object.keys(p.ops) as OpKey[];
  const failedKey = keys.find((k) => outcome(k)?.kind === 'failed');
  const memberFailed = p.members.find((m) => m.outcome.kind === 'failed');
  const failed = failedKey ? outcome(failedKey) : memberFailed?.outcome;
  const retry = [...keys.map(outcome), ...p.members.map((m) => m.outcome)].find((o) => o?.kind === 'retry');
  const snapshot = partialSnapshot(p, ok);
  const revoked = p.ops.r && ok('r') ? p.w.desired.tokensValidFrom : undefined;
  const row = p.w.row;
  const tokens = revoked ? { appliedTokensValidFrom: revoked } : {};
  if (!failed && !retry && !p.waitingFor) {
    appliedRow(ctx, row, { appliedSnapshot: snapshot, graphId: p.w.graphId, ...tokens });
    return;
  }
  // The snapshot says exactly what Graph holds, so the version can count as applied (which
  // consumes the pending password) unless the password itself still has to be sent.
  const passwordWritten = !p.ops.w || ok('w');
  const record = passwordWritten
    ? (o: Parameters<typeof progressRow>[2]) => ctx.store.sync.markApplied(row.type, row.id, row.desiredVersion, o)
    : (o: Parameters<typeof progressRow>[2]) => progressRow(ctx, row, o);
  ctx.store.transaction(() => {
    record({ appliedSnapshot: snapshot, graphId: p.w.graphId, ...tokens });
    if (failed?.kind === 'failed' && failed.status === 400 && ON_PREM_MASTERED.test(failed.message) && !snapshot.onPremisesMastered) {
      // Entra Connect masters this user (SPEC section 6): from now on licenses only.
      record({ appliedSnapshot: { ...snapshot, onPremisesMastered: true }, graphId: p.w.graphId });
      waitRow(ctx, row, failed.message);
    } else if (failed?.kind === 'failed' && failedKey === 'w') failRow(ctx, row, passwordNotSet(failed));
    else if (failed?.kind === 'failed' && !failedKey && memberFailed)
      failRow(
        ctx,
        row,
        `licence group of ${partNumberOf(ctx, memberFailed.sku)}: ${memberFailed.add ? 'adding' : 'removing'} the user refused: ${failed.message}`,
      );
    else if (failed?.kind === 'failed') {
      const license = outcome('l');
      const seat = license?.kind === 'failed' ? seatShortageMessage(ctx, license.message) : null;
      failRow(ctx, row, seat ?? failed.message);
    } else if (retry?.kind === 'retry') retryRow(ctx, row, retry.message, retry.retryAfterMs);
    else waitRow(ctx, row, p.waitingFor!);
  });
}

/**
 * A refused password: the profile is synced, the password is kept pending and the row waits in
 * `error` for the next change or `retry` (never retried on every pass).
 */
function passwordNotSet(failed: { status: number; code: string; message: string }): string {
  const hint =
    failed.status === 403
      ? '; the app needs User-PasswordProfile.ReadWrite.All or a directory role that may reset passwords (docs/graph-app.md), then run retry'
      : '';
  return `password not set: Graph refused it (${failed.code}: ${failed.message})${hint}; the profile is synced`;
}

/** Applies the diffs of users that have a Graph id. Returns the ids whose tokens were revoked. */
export async function applyUsers(ctx: EngineContext, work: UserWork[]): Promise<string[]> {
  const planned = work.map((w, i) => planUserOps(ctx, w, String(i)));
  const groups = await licenceGroupsFor(ctx, planned);
  const ops = planned.flatMap((p) => Object.values(p.ops) as GraphOp[]);
  const out = ops.length ? await ctx.exec.run(ops) : new Map<string, OpOutcome>();
  await retryReplicationMisses(ctx, planned.flatMap(namedObjects), out);
  await applyMemberships(ctx, planned, groups, out);
  const revoked: string[] = [];
  const gone: UserWork[] = [];
  inTransaction(ctx, () => {
    for (const p of planned) {
      if (goneFromGraph(p, out)) {
        gone.push(p.w);
        continue;
      }
      settle(ctx, p, out);
      if (p.ops.r && out.get(p.ops.r.id)?.kind === 'ok') revoked.push(p.w.row.id);
    }
    const processing = planned.filter((p) => p.members.some((m) => m.add && m.outcome.kind === 'ok') || (p.ops.x && out.get(p.ops.x.id)?.kind === 'ok'));
    scheduleLicenceReadback(
      ctx,
      processing.map((p) => p.w.row.id),
    );
  });
  if (gone.length) await recoverDeleted(ctx, gone);
  return revoked;
}

/** The licence groups this chunk's joins need; a user whose group is not ready waits for it. */
async function licenceGroupsFor(ctx: EngineContext, planned: Planned[]): Promise<Map<string, string>> {
  const skus = planned.flatMap((p) => p.lic?.joins ?? []);
  if (!skus.length) return new Map();
  const { ready, notReady } = await ensureLicenceGroups(ctx, skus);
  for (const p of planned) {
    const missing = p.lic?.joins.find((s) => !ready.has(s));
    if (missing) p.waitingFor ??= notReady.get(missing) ?? `waiting for the licence group of ${partNumberOf(ctx, missing)}`;
  }
  return ready;
}

/**
 * Joins go now (Entra processes them asynchronously; the states are read back later); leaves go
 * once this pass's direct licence write, if any, succeeded, so a user moving from group to direct
 * assignment holds the direct licence before leaving the group.
 */
async function applyMemberships(ctx: EngineContext, planned: Planned[], groups: Map<string, string>, out: Map<string, OpOutcome>): Promise<void> {
  const changes: MembershipChange[] = [];
  const owners: { p: Planned; sku: string; add: boolean }[] = [];
  for (const p of planned) {
    if (!p.lic) continue;
    for (const sku of p.lic.joins) {
      const group = groups.get(sku);
      if (!group) continue;
      changes.push({ userGraphId: p.w.graphId!, groupGraphId: group, add: true });
      owners.push({ p, sku, add: true });
    }
    const directDone = !p.ops.l || out.get(p.ops.l.id)?.kind === 'ok';
    if (!directDone) continue;
    for (const sku of p.lic.leaves) {
      const group = licenceGroupId(ctx, sku);
      if (!group) {
        p.members.push({ sku, add: false, outcome: { kind: 'ok', status: 204 } });
        continue;
      }
      changes.push({ userGraphId: p.w.graphId!, groupGraphId: group, add: false });
      owners.push({ p, sku, add: false });
    }
  }
  if (!changes.length) return;
  const results = await sendMemberships(ctx, changes);
  owners.forEach((o, i) => o.p.members.push({ sku: o.sku, add: o.add, outcome: results[i] }));
}

// Deleted in Entra behind the bridge's back. Where Entra is not the source of truth (user-sync,
// universal-sync: drift is reverted) the soft-deleted user is restored; otherwise, or when it is
// gone for good, the link is dropped and the next pass matches or creates the user again.
async function recoverDeleted(ctx: EngineContext, work: UserWork[]): Promise<void> {
  const restore = dirSyncEnabledFor(ctx.mode);
  const out = restore
    ? await ctx.exec.run(
        work.map((w, i) => ({
          id: `${i}`,
          method: 'POST' as const,
          url: `/directory/deletedItems/${encodeURIComponent(w.graphId!)}/restore`,
          body: {},
          write: true,
        })),
      )
    : new Map<string, OpOutcome>();
  work.forEach((w, i) => {
    const restored = out.get(`${i}`)?.kind === 'ok';
    const at = new Date(ctx.clock.now()).toISOString();
    ctx.store.audit.append({
      action: 'sync.drift',
      resourceType: 'User',
      resourceId: w.row.id,
      detail: { graphId: w.graphId, attributes: ['deleted'], changedBy: 'outside the bridge (Graph answered 404)', detectedAt: at, reverted: restored },
    });
    if (restored) ctx.emit({ type: 'drift', resourceType: 'User', id: w.row.id, graphId: w.graphId!, attributes: ['deleted'], at });
    else ctx.queries.unlink('User', w.row.id);
    ctx.counters.recovered++;
    waitRow(
      ctx,
      w.row,
      restored ? 'restored after deletion outside the bridge' : 'the Graph user was deleted outside the bridge; matching or creating it again',
    );
  });
}

/** Users whose tokens one step of a read-back reads (one GET each, 20 to a $batch). */
const TOKEN_READBACK_PAGE = 200;

/**
 * SPEC section 4: what Graph reports as signInSessionsValidFromDateTime is read back after Graph's
 * documented delay ("there might be a small delay of a few minutes before tokens are revoked",
 * user-revokesigninsessions), not right after the revoke. Due read-backs are kept in the store
 * (`sync_engine_readback`), so a restart does not lose them.
 */
export function scheduleTokenReadback(ctx: EngineContext, ids: string[]): void {
  if (ids.length) ctx.queries.scheduleReadback('tokens', ids, ctx.clock.now() + ctx.tokenReadbackDelayMs);
}

/** Reads back the users whose delay has passed, a page at a time; a failed read is tried again on a later run. */
export function readBackDueTokens(ctx: EngineContext): Promise<void> {
  return readBackDuePages(ctx, 'tokens', TOKEN_READBACK_PAGE, async (ids) => ctx.queries.readbacksDone('tokens', await recordGraphTokens(ctx, ids)));
}

/** Records what Graph reports now; returns the ids settled (read, or gone from the store or Graph). */
async function recordGraphTokens(ctx: EngineContext, ids: string[]): Promise<string[]> {
  const rows = ids.map((id) => ctx.store.sync.get('User', id));
  const settled = ids.filter((_, i) => !rows[i]?.graphId);
  const live = rows.filter((r) => r?.graphId);
  const out = await ctx.exec.run(
    live.map((r, i) => ({
      id: `${i}t`,
      method: 'GET' as const,
      url: `/users/${encodeURIComponent(r!.graphId!)}?$select=id,signInSessionsValidFromDateTime`,
      write: false,
    })),
  );
  live.forEach((r, i) => {
    const o = out.get(`${i}t`);
    if (o?.kind === 'failed') settled.push(r!.id);
    const value = o?.kind === 'ok' ? (o.body as { signInSessionsValidFromDateTime?: string })?.signInSessionsValidFromDateTime : undefined;
    if (!value || !r) return;
    settled.push(r.id);
    // Re-applies the version the row is at: only graphTokensValidFrom changes.
    const current = ctx.store.sync.get('User', r.id)!;
    ctx.store.sync.markApplied('User', r.id, current.appliedVersion, { appliedSnapshot: current.appliedSnapshot, graphTokensValidFrom: value });
  });
  return settled;
}
