// One pass over the due rows: users first (match, create, then updates), deprovisions, then
// groups, so a user exists before its manager link, licenses and memberships, and a group's
// members exist before the group is filled.
import { licenceGroupSkus } from '../rules/licences';
import type { SyncRow } from '../store';
import { type EngineContext, appliedRow, failRow, failRowOnThrow, stillDue } from './context';
import { deprovisionUsers, guardDeprovisions } from './deprovision';
import { usesInbound } from './inbound-state';
import { flushInbound, inboundUsers } from './inbound-writer';
import { removeMembersFirst, syncGroups } from './group-sync';
import { resolveSku, writesGroups } from './preflight';
import { applyUsers, scheduleTokenReadback } from './user-apply';
import { createUsers, matchUsers } from './user-match';
import { prepareUser, type UserWork } from './user-work';

// Small chunks, several at a time; an urgent change waits only for the requests in flight (urgentPreemption).
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

/** A deactivation (active=false) not yet applied to a user linked in Graph: a deprovision the deletion threshold counts. */
function deactivates(ctx: EngineContext, w: UserWork): boolean {
  const s = w.snapshot;
  if (w.desired.active || !w.graphId || !s || s.deprovisioned) return false;
  // The licences the bridge gave: direct assignments, and licence group memberships (licenses.assignment group).
  if (ctx.mode === 'license-only' || s.onPremisesMastered) return s.licenses.length > 0 || Boolean(s.groupLicenses?.length);
  return s.properties.accountEnabled !== false;
}

/** Deactivations past the deletion threshold wait for approval; the others go ahead and are counted once applied. */
function guardDeactivations(ctx: EngineContext, work: UserWork[]): { work: UserWork[]; deactivating: UserWork[] } {
  const candidates = work.filter((w) => deactivates(ctx, w));
  if (!candidates.length) return { work, deactivating: [] };
  const allowed = new Set(
    guardDeprovisions(
      ctx,
      candidates.map((w) => w.row),
    ).map((r) => r.id),
  );
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
    ctx.store.audit.append({
      sourceId: w.res.sourceId,
      action: 'sync.deprovision.deactivate',
      resourceType: 'User',
      resourceId: w.row.id,
      detail: { graphId: w.graphId },
    });
  }
}

async function syncUserChunk(ctx: EngineContext, rows: SyncRow[]): Promise<void> {
  let work: UserWork[] = [];
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
  const guarded = guardDeactivations(ctx, work);
  work = guarded.work;
  if (usesInbound(ctx)) {
    // The provisioning service matches and writes profiles; Graph keeps licences, passwords and revocation.
    const revoked = await inboundUsers(ctx, work, applyUsers);
    if (revoked.length) scheduleTokenReadback(ctx, revoked);
    return;
  }
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
  const name = String(ctx.store.groups.getForSync(groupId)?.resource.displayName ?? '');
  return licenceGroupSkus(ctx.config.licenses.groups, groupId, name)
    .map((s) => resolveSku(ctx.facts, s))
    .filter((s): s is string => Boolean(s));
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
 * Urgent rows of a pass or of a preemption: users' changes, then their deprovisions, then the member
 * removals of groups (the groups phase of a pass still syncs those groups whole).
 */
async function runUrgentRows(ctx: EngineContext, rows: SyncRow[], release: (done: SyncRow[]) => void = () => undefined): Promise<void> {
  const live = rows.filter((r) => r.type === 'User' && !r.deleted);
  const gone = rows.filter((r) => r.type === 'User' && r.deleted);
  const groups = rows.filter((r) => r.type === 'Group');
  const urgent = urgentContext(ctx);
  for (let i = 0; i < live.length; i += USER_CHUNK) {
    const chunk = live.slice(i, i + USER_CHUNK);
    await isolating(urgent, chunk, (rows) => syncUserChunk(urgent, rows));
    release(chunk);
  }
  if (gone.length) await isolating(urgent, gone, (rows) => deprovisionUsers(urgent, rows));
  if (groups.length) await isolating(urgent, groups, (rows) => removeMembersFirst(urgent, rows));
}

/**
 * The engine's context with the urgent executor: everything else is read through to `ctx` itself
 * (its counters and facts as they are now), and what the urgent work sets on it stays its own.
 */
function urgentContext(ctx: EngineContext): EngineContext {
  return Object.create(ctx, { exec: { value: ctx.exec.urgent, enumerable: true } }) as EngineContext;
}

/**
 * Whether urgent work on resources of this type goes ahead of the rest: only under `sync.order:
 * priority`, and for groups only where the mode writes them (the engine wakes for the same).
 */
export const urgentGoesFirst = (ctx: EngineContext, type: SyncRow['type']) =>
  ctx.config.sync.order !== 'fifo' && (type === 'User' || writesGroups(ctx.config, ctx.mode));
const takesUrgent = (ctx: EngineContext, r: SyncRow) => isUrgent(r) && urgentGoesFirst(ctx, r.type);

/**
 * Urgent changes that arrived since the pass began (a deactivation or a member removal during an
 * initial load) go at once, not after the pass's chunk or the whole pass: the executor calls this
 * before each request of the pass, and the engine when an urgent change is accepted; their writes
 * take the next free budget (the throttle serves urgent waiters first, and a waiting request of the
 * pass after a few of them, so neither side starves). One chunk of urgent rows at a time; a change
 * that arrives while one runs goes right after it.
 */
function urgentPreemption(ctx: EngineContext, claimed: Set<string>): { run: () => Promise<void>; settled: () => Promise<void> } {
  let current: Promise<void> | null = null;
  let again = false;
  async function work(): Promise<void> {
    do {
      again = false;
      const fresh = ctx.store.sync.listUrgent(ctx.clock.now(), USER_CHUNK).filter((r) => takesUrgent(ctx, r) && !claimed.has(keyOf(r)));
      if (!fresh.length) break;
      for (const r of fresh) claimed.add(keyOf(r));
      try {
        await runUrgentRows(ctx, fresh);
      } finally {
        // A group stays claimed: its removals are sent, and the rest of it waits for the next pass.
        for (const r of fresh) if (r.type === 'User') claimed.delete(keyOf(r));
      }
    } while (again);
  }
  return {
    run() {
      if (current) {
        again = true;
        return Promise.resolve();
      }
      current = work().finally(() => (current = null));
      return current;
    },
    /** The pass ends only once urgent work it started is done: the next pass may list the same rows. */
    settled: async () => {
      while (current) await current.catch(() => undefined);
    },
  };
}

/**
 * Splits due rows by kind and runs them in dependency order; user chunks run a few at a time.
 * Urgent rows (listDue puts them first) go before the rest of the pass: their users' changes and
 * deprovisions and their groups' member removals, then the users to create or update, then groups.
 */
export async function runPass(ctx: EngineContext, rows: SyncRow[]): Promise<void> {
  const priority = ctx.config.sync.order !== 'fifo';
  const urgent: SyncRow[] = [];
  const users: SyncRow[] = [];
  const deleted: SyncRow[] = [];
  const groups: SyncRow[] = [];
  for (const row of rows) {
    const early = takesUrgent(ctx, row);
    if (early) urgent.push(row);
    // An urgent group's removals go early, and the group itself still goes in the groups phase.
    if (row.type === 'Group') groups.push(row);
    else if (!early) (row.deleted ? deleted : users).push(row);
  }
  // Rows of this pass not yet done: the pass holds them as read, so nothing else may take them. A
  // row whose chunk is done is released, and a newer urgent change of it can go at once.
  const claimed = new Set(rows.map(keyOf));
  const release = (done: SyncRow[]) => done.forEach((r) => claimed.delete(keyOf(r)));
  await runUrgentRows(ctx, urgent, release);
  const preemption = priority ? urgentPreemption(ctx, claimed) : null;
  ctx.exec.preempt(preemption?.run ?? null);
  try {
    await restOfPass(ctx, users, deleted, groups, release);
  } finally {
    ctx.exec.preempt(null);
    await preemption?.settled();
  }
}

async function restOfPass(ctx: EngineContext, users: SyncRow[], deleted: SyncRow[], groups: SyncRow[], release: (done: SyncRow[]) => void): Promise<void> {
  const chunks: SyncRow[][] = [];
  for (let i = 0; i < users.length; i += USER_CHUNK) chunks.push(users.slice(i, i + USER_CHUNK));
  let next = 0;
  const worker = async () => {
    while (next < chunks.length) {
      const chunk = chunks[next++];
      await isolating(ctx, chunk, (rows) => syncUserChunk(ctx, rows));
      release(chunk);
    }
  };
  await Promise.all(Array.from({ length: USER_WORKERS }, worker));
  if (deleted.length) await isolating(ctx, deleted, (rows) => deprovisionUsers(ctx, rows));
  // Records staged in this pass go out now, within Microsoft's rate: full requests and urgent records
  // (the daily quota counts calls); the end of the run decides about the rest.
  if (usesInbound(ctx)) await flushInbound(ctx, 'full');
  if (!groups.length) return;
  for (const g of groups) touchLicensedMembers(ctx, g.id);
  if (writesGroups(ctx.config, ctx.mode)) await isolating(ctx, groups, (rows) => syncGroups(ctx, rows));
  else {
    // Groups the mode does not push: nothing to write, nothing left pending, and not called synced.
    const reason = ctx.mode === 'license-only' ? 'license-only does not push groups to Graph' : `${ctx.mode} pushes groups only with groups.push: true`;
    for (const g of groups) {
      if (g.deleted) appliedRow(ctx, g, { appliedSnapshot: g.appliedSnapshot });
      else {
        ctx.store.sync.markSkipped('Group', g.id, g.desiredVersion, reason);
        ctx.counters.applied++;
      }
    }
  }
}
