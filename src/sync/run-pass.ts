// One pass over the due rows: users first (match, create, then updates), deprovisions, then
// groups, so a user exists before its manager link, licenses and memberships, and a group's
// members exist before the group is filled.
import type { SyncRow } from '../store';
import { type EngineContext, appliedRow, failRow } from './context';
import { deprovisionUsers } from './deprovision';
import { syncGroups } from './group-sync';
import { resolveSku, writesGroups } from './preflight';
import { applyUsers, scheduleTokenReadback } from './user-apply';
import { createUsers, matchUsers } from './user-match';
import { prepareUser, type UserWork } from './user-work';

const USER_CHUNK = 100;
/** Rows prepared between two yields to the event loop, which the SCIM ingress shares. */
const SLICE = 20;

/** Lets queued I/O (SCIM requests) run before the engine's next slice of synchronous work. */
export const yieldToIngress = () => new Promise<void>((resolve) => setImmediate(resolve));

async function syncUserChunk(ctx: EngineContext, rows: SyncRow[]): Promise<void> {
  const work: UserWork[] = [];
  for (const [i, row] of rows.entries()) {
    if (i && i % SLICE === 0) await yieldToIngress();
    const w = prepareUser(ctx, row);
    if (!w) continue;
    if (w.desired.unknownLicenses.length) {
      failRow(ctx, row, `unknown license(s) ${w.desired.unknownLicenses.join(', ')}: not in the tenant's /subscribedSkus or not allowed by licenses.skus`);
      continue;
    }
    work.push(w);
  }
  await yieldToIngress();
  const unmatched = work.filter((w) => !w.graphId || !w.snapshot);
  if (unmatched.length) await matchUsers(ctx, unmatched);
  const toCreate = unmatched.filter((w) => !w.graphId && !w.done);
  if (toCreate.length) await createUsers(ctx, toCreate);
  const ready = work.filter((w) => w.graphId && w.snapshot && !w.done);
  const revoked = ready.length ? await applyUsers(ctx, ready) : [];
  if (revoked.length) scheduleTokenReadback(ctx, revoked);
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
  // Groups the mode does not push: nothing to write, nothing left pending.
  else for (const g of groups) appliedRow(ctx, g, { appliedSnapshot: g.appliedSnapshot });
}
