// One pass over the due rows: users first (match, create, then updates), deprovisions, then
// groups, so a user exists before its manager link, licenses and memberships, and a group's
// members exist before the group is filled.
import type { SyncRow } from '../store';
import { type EngineContext, appliedRow, failRow, failRowOnThrow, stillDue } from './context';
import { deprovisionUsers } from './deprovision';
import { syncGroups } from './group-sync';
import { resolveSku, writesGroups } from './preflight';
import { applyUsers, scheduleTokenReadback } from './user-apply';
import { createUsers, matchUsers } from './user-match';
import { prepareUser, type UserWork } from './user-work';

// Small chunks, several at a time: an urgent change waits at most for the chunks in flight.
const USER_CHUNK = 20;
const USER_WORKERS = 4;
/** Rows prepared between two yields to the event loop, which the SCIM ingress shares. */
const SLICE = 20;

/** Lets queued I/O (SCIM requests) run before the engine's next slice of synchronous work. */
export const yieldToIngress = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Runs `fn` over the rows; if it throws, runs each row still due alone, so that what one row raises
 * puts that row in error and every other row still gets its attempt in this pass.
 */
export async function isolating(ctx: EngineContext, rows: SyncRow[], fn: (rows: SyncRow[]) => Promise<void>): Promise<void> {
  try {
    await fn(rows);
  } catch (err) {
    if (rows.length === 1) return failRowOnThrow(ctx, rows[0], err);
    for (const row of rows) {
      const fresh = stillDue(ctx, row);
      if (fresh) await isolating(ctx, [fresh], fn);
    }
  }
}

async function syncUserChunk(ctx: EngineContext, rows: SyncRow[]): Promise<void> {
  const work: UserWork[] = [];
  for (const [i, row] of rows.entries()) {
    if (i && i % SLICE === 0) await yieldToIngress();
    let w: UserWork | null;
    try {
      w = prepareUser(ctx, row);
    } catch (err) {
      failRowOnThrow(ctx, row, err);
      continue;
    }
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

const keyOf = (r: SyncRow) => `${r.type}:${r.id}`;
/** A change to a resource already in Graph that listDue puts ahead of creations. */
const isUrgent = (r: SyncRow) => r.urgent && r.graphId !== null;

/**
 * Between two chunks of a pass: urgent user changes that arrived since the pass began (a
 * deactivation during an initial load) go next instead of after the whole pass. At most one
 * chunk of them per chunk of the pass, so the pass itself still progresses.
 */
async function urgentSince(ctx: EngineContext, claimed: Set<string>): Promise<void> {
  if (ctx.config.sync.order === 'fifo') return;
  const fresh = ctx.store.sync
    .listDue(ctx.clock.now(), USER_CHUNK, ctx.config.sync)
    .filter((r) => isUrgent(r) && r.type === 'User' && !claimed.has(keyOf(r)));
  if (!fresh.length) return;
  for (const r of fresh) claimed.add(keyOf(r));
  const live = fresh.filter((r) => !r.deleted);
  const gone = fresh.filter((r) => r.deleted);
  if (live.length) await isolating(ctx, live, (rows) => syncUserChunk(ctx, rows));
  if (gone.length) await isolating(ctx, gone, (rows) => deprovisionUsers(ctx, rows));
  for (const r of fresh) claimed.delete(keyOf(r));
}

/**
 * Splits due rows by kind and runs them in dependency order; user chunks run a few at a time.
 * Urgent rows (listDue puts them first) go before the rest of the pass: their users' changes and
 * deprovisions, then the users to create or update, then groups.
 */
export async function runPass(ctx: EngineContext, rows: SyncRow[]): Promise<void> {
  const users: SyncRow[] = [];
  const urgentUsers: SyncRow[] = [];
  const deleted: SyncRow[] = [];
  const groups: SyncRow[] = [];
  for (const row of rows) {
    if (row.type === 'Group') groups.push(row);
    else if (row.deleted) deleted.push(row);
    else if (isUrgent(row) && ctx.config.sync.order !== 'fifo') urgentUsers.push(row);
    else users.push(row);
  }
  // Rows of this pass not yet done: the pass holds them as read, so nothing else may take them. A
  // row whose chunk is done is released, and a newer urgent change of it can go at once.
  const claimed = new Set(rows.map(keyOf));
  const release = (done: SyncRow[]) => done.forEach((r) => claimed.delete(keyOf(r)));
  for (let i = 0; i < urgentUsers.length; i += USER_CHUNK) {
    const chunk = urgentUsers.slice(i, i + USER_CHUNK);
    await isolating(ctx, chunk, (rows) => syncUserChunk(ctx, rows));
    release(chunk);
  }
  const urgentDeleted = ctx.config.sync.order === 'fifo' ? [] : deleted.filter(isUrgent);
  if (urgentDeleted.length) await isolating(ctx, urgentDeleted, (rows) => deprovisionUsers(ctx, rows));
  const chunks: SyncRow[][] = [];
  for (let i = 0; i < users.length; i += USER_CHUNK) chunks.push(users.slice(i, i + USER_CHUNK));
  let next = 0;
  const worker = async () => {
    while (next < chunks.length) {
      await urgentSince(ctx, claimed);
      if (next < chunks.length) {
        const chunk = chunks[next++];
        await isolating(ctx, chunk, (rows) => syncUserChunk(ctx, rows));
        release(chunk);
      }
    }
  };
  await Promise.all(Array.from({ length: USER_WORKERS }, worker));
  const otherDeleted = deleted.filter((r) => !urgentDeleted.includes(r));
  if (otherDeleted.length) await isolating(ctx, otherDeleted, (rows) => deprovisionUsers(ctx, rows));
  if (!groups.length) return;
  for (const g of groups) touchLicensedMembers(ctx, g.id);
  if (writesGroups(ctx.config, ctx.mode)) await isolating(ctx, groups, (rows) => syncGroups(ctx, rows));
  // Groups the mode does not push: nothing to write, nothing left pending.
  else for (const g of groups) appliedRow(ctx, g, { appliedSnapshot: g.appliedSnapshot });
}
