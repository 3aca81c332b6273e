// One pass over the due rows: users first (match, create, then updates), deprovisions, then
// groups, so a user exists before its manager link, licenses and memberships, and a group's
// members exist before the group is filled.
import type { SyncRow } from '../store';
import { type EngineContext, appliedRow, failRow } from './context';
import { deprovisionUsers, guardDeprovisions } from './deprovision';
import { syncGroups } from './group-sync';
import { resolveSku, writesGroups } from './preflight';
import { applyUsers, scheduleTokenReadback } from './user-apply';
import { createUsers, matchUsers } from './user-match';
import { prepareUser, type UserWork } from './user-work';

const USER_CHUNK = 100;

/** A deactivation (active=false) not yet applied to a user linked in Graph: a deprovision the deletion threshold counts. */
function deactivates(ctx: EngineContext, w: UserWork): boolean {
  const s = w.snapshot;
  if (w.desired.active || !w.graphId || !s || s.deprovisioned) return false;
  if (ctx.mode === 'license-only' || s.onPremisesMastered) return s.licenses.length > 0;
  return s.properties.accountEnabled !== false;
}

/** Deactivations past the deletion threshold wait for approval; the others go ahead and are counted once applied. */
function guardDeactivations(ctx: EngineContext, work: UserWork[]): { work: UserWork[]; deactivating: UserWork[] } {
  const candidates = work.filter((w) => deactivates(ctx, w));
  if (!candidates.length) return { work, deactivating: [] };
  const allowed = new Set(guardDeprovisions(ctx, candidates.map((w) => w.row)).map((r) => r.id));
  const held = new Set(candidates.filter((w) => !allowed.has(w.row.id)).map((w) => w.row.id));
  return { work: work.filter((w) => !held.has(w.row.id)), deactivating: candidates.filter((w) => allowed.has(w.row.id)) };
}

/** Deactivations Graph now holds count towards the threshold, also after a restart (from the audit). */
function recordDeactivations(ctx: EngineContext, deactivating: UserWork[]): void {
  for (const w of deactivating) {
    const row = ctx.store.sync.get('User', w.row.id);
    const snap = row?.appliedSnapshot as UserWork['snapshot'];
    if (!row || !snap || deactivates(ctx, { ...w, snapshot: snap })) continue;
    ctx.guard.record(w.res.sourceId, w.row.id);
    ctx.counters.deprovisioned++;
    ctx.store.audit.append({ sourceId: w.res.sourceId, action: 'sync.deprovision.deactivate', resourceType: 'User', resourceId: w.row.id, detail: { graphId: w.graphId } });
  }
}

async function syncUserChunk(ctx: EngineContext, rows: SyncRow[]): Promise<void> {
  let work: UserWork[] = [];
  for (const row of rows) {
    const w = prepareUser(ctx, row);
    if (!w) continue;
    if (w.desired.unknownLicenses.length) {
      failRow(ctx, row, `unknown license(s) ${w.desired.unknownLicenses.join(', ')}: not in the tenant's /subscribedSkus or not allowed by licenses.skus`);
      continue;
    }
    work.push(w);
  }
  const guarded = guardDeactivations(ctx, work);
  work = guarded.work;
  const unmatched = work.filter((w) => !w.graphId || !w.snapshot);
  if (unmatched.length) await matchUsers(ctx, unmatched);
  const toCreate = unmatched.filter((w) => !w.graphId && !w.done);
  if (toCreate.length) await createUsers(ctx, toCreate);
  const ready = work.filter((w) => w.graphId && w.snapshot && !w.done);
  const revoked = ready.length ? await applyUsers(ctx, ready) : [];
  if (revoked.length) scheduleTokenReadback(ctx, revoked);
  if (guarded.deactivating.length) recordDeactivations(ctx, guarded.deactivating);
}

/** The skuIds config.licenses.groups maps this group to (by SCIM id or displayName). */
function licensesOfGroup(ctx: EngineContext, groupId: string): string[] {
  const name = String(ctx.store.groups.getForSync(groupId)?.resource.displayName ?? '').toLowerCase();
  const skus = Object.entries(ctx.config.licenses.groups)
    .filter(([g]) => g.toLowerCase() === groupId.toLowerCase() || g.toLowerCase() === name)
    .flatMap(([, list]) => list);
  return skus.map((s) => resolveSku(ctx.facts, s)).filter((s): s is string => Boolean(s));
}

/** A licensed group changed: its members, and whoever holds its licenses, are diffed again. */
function touchLicensedMembers(ctx: EngineContext, groupId: string): void {
  // Without a group -> SKU mapping there is nothing to look up (and no group to load) per due group.
  if (Object.keys(ctx.config.licenses.groups).length === 0) return;
  const skus = licensesOfGroup(ctx, groupId);
  if (!skus.length) return;
  for (const id of new Set([...ctx.queries.presentMembers(groupId), ...ctx.queries.usersHoldingLicense(skus)])) ctx.queries.touch('User', id);
}

/** Splits due rows by kind and runs them in dependency order; user chunks run two at a time. */
export async function runPass(ctx: EngineContext, rows: SyncRow[]): Promise<void> {
  const users: SyncRow[] = [];
  const deleted: SyncRow[] = [];
  const groups: SyncRow[] = [];
  for (const row of rows) {
    if (row.type === 'Group') groups.push(row);
    else if (row.deleted) deleted.push(row);
    else users.push(row);
  }
  const chunks: SyncRow[][] = [];
  for (let i = 0; i < users.length; i += USER_CHUNK) chunks.push(users.slice(i, i + USER_CHUNK));
  let next = 0;
  const worker = async () => {
    while (next < chunks.length) await syncUserChunk(ctx, chunks[next++]);
  };
  await Promise.all([worker(), worker()]);
  if (deleted.length) await deprovisionUsers(ctx, deleted);
  if (!groups.length) return;
  for (const g of groups) touchLicensedMembers(ctx, g.id);
  if (writesGroups(ctx.config, ctx.mode)) await syncGroups(ctx, groups);
  else {
    // Groups the mode does not push: nothing to write, nothing left pending, and not called synced.
    const reason = ctx.mode === 'license-only'
      ? 'license-only does not push groups to Graph'
      : `${ctx.mode} pushes groups only with groups.push: true`;
    for (const g of groups) {
      if (g.deleted) appliedRow(ctx, g, { appliedSnapshot: g.appliedSnapshot });
      else {
        ctx.store.sync.markSkipped('Group', g.id, g.desiredVersion, reason);
        ctx.counters.applied++;
      }
    }
  }
}
