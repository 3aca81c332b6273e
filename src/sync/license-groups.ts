// Group-based licensing (config licenses.assignment 'group', docs/licensing.md): one security group
// per SKU that the bridge creates (or finds again by its marker) and licenses once with
// POST /groups/{id}/assignLicense; a user's licence is then a membership, added 20 to a
// PATCH members@odata.bind. Entra works the licence out asynchronously and records the outcome in
// the user's licenseAssignmentStates (learn.microsoft.com/graph/api/resources/licenseassignmentstate),
// which the engine reads back, 15 users to a read, and reports per user as it reports a seat shortage.
//
// The groups are the bridge's own: the mailNickname and description carry a marker generated once
// per database, and a group found under that nickname without the marker is never used.
// Moving from direct to group assignment keeps each direct licence until Graph reports the group's
// licence Active for that user, and only then removes the direct one; moving back assigns directly
// first and leaves the group after that write succeeded: a user is never left without the licence.
import { randomBytes } from 'node:crypto';
import { groupRequests } from '../graph/requests';
import { type EngineContext, readBackDuePages } from './context';
import type { GraphOp, OpOutcome } from './ops';
import { MEMBER_BIND_MAX, type MemberWrite, NO_ANSWER, addWrite, confirmed, removeWrite, splitRefused } from './member-sync';
import { softenReferenceMissing } from './replication';
import { SEAT_SHORTAGE_PREFIX } from './user-apply';
import type { UserSnapshot, UserWork } from './user-work';

const GROUPS_KEY = 'licenses.groups';
/** Graph's limit on the values of one `in` filter (learn.microsoft.com/graph/filter-query-parameter). */
const READ_IN_LIMIT = 15;
/** Users one step of a read-back reads (20 reads of 15): a load's read-back never holds every user at once. */
const READBACK_PAGE = READ_IN_LIMIT * 20;

interface GroupsMeta {
  /** Generated once per database; names the bridge's own groups. */
  marker: string;
  groups: Record<string, { graphId?: string; licensed?: boolean }>;
}

function loadMeta(ctx: EngineContext): GroupsMeta {
  const raw = ctx.queries.getMeta(GROUPS_KEY);
  if (raw) return JSON.parse(raw) as GroupsMeta;
  const meta: GroupsMeta = { marker: randomBytes(6).toString('hex'), groups: {} };
  ctx.queries.setMeta(GROUPS_KEY, JSON.stringify(meta));
  return meta;
}

const saveMeta = (ctx: EngineContext, meta: GroupsMeta) => ctx.queries.setMeta(GROUPS_KEY, JSON.stringify(meta));

export const partNumberOf = (ctx: EngineContext, skuId: string): string =>
  Object.entries(ctx.facts.skuByPart).find(([, id]) => id.toLowerCase() === skuId.toLowerCase())?.[0] ?? skuId;

/** The licence group's mailNickname: the marker and the skuId, so it names one database's group for one SKU. */
export const licenceGroupNickname = (marker: string, skuId: string) => `sgb-licence-${marker}-${skuId.replace(/-/g, '').toLowerCase()}`;
export const licenceGroupName = (part: string) => `scim-graph-bridge licence ${part}`;
const description = (marker: string, part: string, skuId: string) =>
  `Licence group of scim-graph-bridge (${marker}) for ${part} (${skuId}): members get the licence through group-based licensing. Managed by the bridge.`;

/** The Graph id of the licence group of a SKU, once created or found. */
export function licenceGroupId(ctx: EngineContext, skuId: string): string | undefined {
  const raw = ctx.queries.getMeta(GROUPS_KEY);
  return raw ? (JSON.parse(raw) as GroupsMeta).groups[skuId.toLowerCase()]?.graphId : undefined;
}

type Readiness = { ready: Map<string, string>; notReady: Map<string, string> };
// Chunks of a pass run concurrently: one of them creates a group, the others wait for it.
const inFlight = new WeakMap<object, Promise<unknown>>();

/**
 * Makes sure each SKU has its group, licensed once. Returns the groups ready for members, and for
 * the others why not (they are tried again on the next pass).
 */
export function ensureLicenceGroups(ctx: EngineContext, skuIds: string[]): Promise<Readiness> {
  const run = (inFlight.get(ctx.queries) ?? Promise.resolve()).then(() => ensureOnce(ctx, skuIds));
  inFlight.set(
    ctx.queries,
    run.catch(() => undefined),
  );
  return run;
}

async function ensureOnce(ctx: EngineContext, skuIds: string[]): Promise<Readiness> {
  const meta = loadMeta(ctx);
  const ready = new Map<string, string>();
  const notReady = new Map<string, string>();
  const wanted = [...new Set(skuIds.map((s) => s.toLowerCase()))];
  const entry = (s: string) => (meta.groups[s] ??= {});
  // 1. Find a group created before its id was recorded (a crash between the create and the record).
  const unknown = wanted.filter((s) => !entry(s).graphId);
  if (unknown.length) {
    const out = await ctx.exec.run(
      unknown.map((s, i) => ({
        id: `f${i}`,
        method: 'GET' as const,
        url: `/groups?$filter=${encodeURIComponent(`mailNickname eq '${licenceGroupNickname(meta.marker, s)}'`)}&$select=id,description`,
        write: false,
      })),
    );
    const create: string[] = [];
    unknown.forEach((s, i) => {
      const o = out.get(`f${i}`) ?? NO_ANSWER;
      if (o.kind !== 'ok') return notReady.set(s, `looking up the licence group of ${partNumberOf(ctx, s)}: ${o.message}`);
      const found = ((o.body as { value?: { id: string; description?: string | null }[] })?.value ?? [])[0];
      if (!found) return create.push(s);
      if (!String(found.description ?? '').includes(`(${meta.marker})`))
        return notReady.set(
          s,
          `a group named ${licenceGroupNickname(meta.marker, s)} exists that the bridge did not create; it is never used as a licence group`,
        );
      entry(s).graphId = found.id;
    });
    // 2. Create the missing ones: a security group, no mail.
    if (create.length) {
      const made = await ctx.exec.run(
        create.map((s, i) => ({
          id: `c${i}`,
          ...groupRequests.create({
            displayName: licenceGroupName(partNumberOf(ctx, s)),
            mailNickname: licenceGroupNickname(meta.marker, s),
            description: description(meta.marker, partNumberOf(ctx, s), s),
            mailEnabled: false,
            securityEnabled: true,
          }),
          write: true,
        })),
      );
      create.forEach((s, i) => {
        const o = made.get(`c${i}`) ?? NO_ANSWER;
        if (o.kind === 'ok') entry(s).graphId = (o.body as { id: string }).id;
        else notReady.set(s, `creating the licence group of ${partNumberOf(ctx, s)}: ${o.message}`);
      });
    }
    saveMeta(ctx, meta);
  }
  // 3. License each group once.
  const unlicensed = wanted.filter((s) => entry(s).graphId && !entry(s).licensed && !notReady.has(s));
  if (unlicensed.length) {
    const out = await ctx.exec.run(
      unlicensed.map((s, i) => ({
        id: `l${i}`,
        method: 'POST' as const,
        url: `/groups/${encodeURIComponent(entry(s).graphId!)}/assignLicense`,
        body: { addLicenses: [{ disabledPlans: [], skuId: s }], removeLicenses: [] },
        write: true,
      })),
    );
    unlicensed.forEach((s, i) => {
      const o = out.get(`l${i}`) ?? NO_ANSWER;
      if (o.kind === 'ok') entry(s).licensed = true;
      else notReady.set(s, `assigning ${partNumberOf(ctx, s)} to its licence group: ${o.message}`);
    });
    saveMeta(ctx, meta);
  }
  for (const s of wanted) if (!notReady.has(s) && entry(s).licensed) ready.set(s, entry(s).graphId!);
  return { ready, notReady };
}

/** What one user's licences need under the configured assignment. */
export interface LicencePlan {
  /** The direct assignments to keep (the diff removes the others the bridge made). */
  direct: string[];
  /** SKUs whose group the user joins now. */
  joins: string[];
  /** SKUs whose group the user leaves once this pass's direct writes succeeded. */
  leaves: string[];
  /** SKUs in error to have Graph work out again (reprocessLicenseAssignment). */
  reprocess: boolean;
}

export function planLicences(ctx: EngineContext, w: UserWork): LicencePlan | null {
  const snap = w.snapshot;
  const joined = snap?.groupLicenses ?? [];
  const wanted = w.desired.licenses.map((s) => s.toLowerCase());
  if (ctx.config.licenses.assignment === 'direct') {
    // Back from group assignment: the direct licence first, the membership after it.
    if (!joined.length) return null;
    return { direct: w.desired.licenses, joins: [], leaves: joined, reprocess: false };
  }
  const active = new Set(snap?.groupActive ?? []);
  const direct = (snap?.licenses ?? []).filter((s) => wanted.includes(s.toLowerCase()) && !active.has(s.toLowerCase()));
  const errors = Object.keys(snap?.licenseErrors ?? {}).filter((s) => joined.includes(s) && wanted.includes(s));
  return {
    direct,
    joins: wanted.filter((s) => !joined.includes(s)),
    leaves: joined.filter((s) => !wanted.includes(s)),
    reprocess: errors.length > 0,
  };
}

export const reprocessOp = (id: string, userGraphId: string): GraphOp => ({
  id,
  method: 'POST',
  url: `/users/${encodeURIComponent(userGraphId)}/reprocessLicenseAssignment`,
  write: true,
});

export interface MembershipChange {
  userGraphId: string;
  groupGraphId: string;
  add: boolean;
}

/**
 * Sends membership changes: adds 20 to a PATCH per group, removals one DELETE each. An add Graph
 * refuses whole (one member already there, say) is sent again member by member, where "already
 * exists" is success; a removal answered 404 is done. Returns the outcome of each change, by index.
 */
export async function sendMemberships(ctx: EngineContext, changes: MembershipChange[]): Promise<OpOutcome[]> {
  const result: OpOutcome[] = changes.map(() => NO_ANSWER);
  // A write's members are the indexes of its changes.
  let round: MemberWrite[] = [];
  const byGroup = new Map<string, number[]>();
  changes.forEach((c, i) => {
    if (c.add) byGroup.set(c.groupGraphId, [...(byGroup.get(c.groupGraphId) ?? []), i]);
    else round.push(removeWrite(c.groupGraphId, `r${i}`, String(i), c.userGraphId));
  });
  for (const [group, idx] of byGroup)
    for (let i = 0; i < idx.length; i += MEMBER_BIND_MAX) {
      const chunk = idx.slice(i, i + MEMBER_BIND_MAX);
      round.push(
        addWrite(
          ctx,
          group,
          `a${round.length}`,
          chunk.map(String),
          chunk.map((k) => changes[k].userGraphId),
        ),
      );
    }
  while (round.length) {
    const out = await ctx.exec.run(round.map((w) => w.op));
    const next: MemberWrite[] = [];
    for (const w of round) {
      // A user created moments ago may not have reached every replica yet: retried whole.
      const answer = out.get(w.op.id) ?? NO_ANSWER;
      const o = w.add ? softenReferenceMissing(ctx, answer, w.gids) : answer;
      const split = confirmed(w, o) ? null : splitRefused(ctx, w, o);
      if (split) next.push(...split);
      else for (const m of w.members) result[Number(m)] = confirmed(w, o) ? { kind: 'ok', status: 204 } : o;
    }
    round = next;
  }
  return result;
}

/** Users to read back once Entra has had time to process their group licences. */
export function scheduleLicenceReadback(ctx: EngineContext, ids: string[]): void {
  if (ids.length) ctx.queries.scheduleReadback('licences', ids, ctx.clock.now() + ctx.licenceReadbackDelayMs);
}

interface AssignmentState {
  skuId?: string;
  assignedByGroup?: string | null;
  state?: string;
  error?: string | null;
}

function errorMessage(ctx: EngineContext, skuId: string, groupId: string, error: string): string {
  const part = partNumberOf(ctx, skuId);
  if (error === 'CountViolation')
    return `${SEAT_SHORTAGE_PREFIX}${part}: Graph reports CountViolation for the licence inherited from the licence group ${groupId} (group-based licensing). Add seats or free some, then run "scim-graph-bridge retry".`;
  return `licence ${part} not assigned through its licence group ${groupId}: Graph reports ${error} in licenseAssignmentStates; fix the cause, then run "scim-graph-bridge retry".`;
}

/**
 * Reads back the licenseAssignmentStates of the users whose processing time has come, 15 to a
 * read: an Active state confirms the group's licence (and lets a direct one go), an Error state puts
 * the user in error with Graph's reason, no state yet is read again later.
 */
export function readBackDueLicences(ctx: EngineContext): Promise<void> {
  return readBackDuePages(ctx, 'licences', READBACK_PAGE, (ids) => readBackLicences(ctx, ids));
}

async function readBackLicences(ctx: EngineContext, ids: string[]): Promise<void> {
  const rows = ids.map((id) => ctx.store.sync.get('User', id)).filter((r) => r !== null);
  const live = rows.filter((r) => r.graphId);
  // Gone from the store or never linked: nothing to read.
  const linked = new Set(live.map((r) => r.id));
  const settled = new Set(ids.filter((id) => !linked.has(id)));
  const reads: GraphOp[] = [];
  for (let i = 0; i < live.length; i += READ_IN_LIMIT) {
    const values = live.slice(i, i + READ_IN_LIMIT).map((r) => `'${r.graphId}'`);
    reads.push({
      id: `s${reads.length}`,
      method: 'GET',
      url: `/users?$filter=${encodeURIComponent(`id in (${values.join(',')})`)}&$select=id,licenseAssignmentStates`,
      write: false,
    });
  }
  const out = reads.length ? await ctx.exec.run(reads) : new Map<string, OpOutcome>();
  const states = new Map<string, AssignmentState[]>();
  let unread = false;
  for (const r of reads) {
    const o = out.get(r.id);
    if (o?.kind !== 'ok') unread = true;
    else
      for (const u of (o.body as { value?: { id: string; licenseAssignmentStates?: AssignmentState[] }[] })?.value ?? [])
        states.set(u.id, u.licenseAssignmentStates ?? []);
  }
  const again: string[] = [];
  ctx.store.transaction(() => {
    for (const row of live) {
      const list = states.get(row.graphId!);
      if (!list) {
        // Not read (a failed read, or gone from Graph: drift handles that); a failed read is tried later.
        if (unread) again.push(row.id);
        else settled.add(row.id);
        continue;
      }
      const current = ctx.store.sync.get('User', row.id)!;
      const snapBefore = current.appliedSnapshot as UserSnapshot | null;
      if (current.state === 'error' && !snapBefore?.licenseErrors) {
        // In error for another reason: that error stays; the states are read again later.
        again.push(row.id);
        continue;
      }
      const snap = (current.appliedSnapshot ?? { properties: {}, licenses: [] }) as UserSnapshot;
      const active = new Set(snap.groupActive ?? []);
      const errors: Record<string, string> = {};
      let pending = false;
      for (const sku of snap.groupLicenses ?? []) {
        const gid = licenceGroupId(ctx, sku);
        const st = list.find((s) => String(s.skuId).toLowerCase() === sku && s.assignedByGroup === gid);
        if (!st) pending = true;
        else if (st.state === 'Error') {
          errors[sku] = String(st.error ?? 'Other');
          active.delete(sku);
        } else if (st.state === 'Active' || st.state === 'ActiveWithError') active.add(sku);
      }
      if (pending) again.push(row.id);
      else settled.add(row.id);
      const next: UserSnapshot = { ...snap, groupActive: [...active].sort() };
      if (Object.keys(errors).length) next.licenseErrors = errors;
      else delete next.licenseErrors;
      const firstError = Object.entries(errors)[0];
      if (firstError) {
        ctx.store.sync.markApplied('User', row.id, current.appliedVersion, { appliedSnapshot: next });
        ctx.store.sync.markFailed('User', row.id, current.appliedVersion, errorMessage(ctx, firstError[0], licenceGroupId(ctx, firstError[0])!, firstError[1]));
        ctx.counters.failed++;
      } else if ((snap.licenses ?? []).some((s) => active.has(s.toLowerCase()))) {
        // The group's licence is active: the direct assignment it replaces can go (next pass).
        ctx.store.sync.recordProgress('User', row.id, { appliedSnapshot: next });
      } else if (JSON.stringify(next) !== JSON.stringify(snap) || (current.state === 'error' && snap.licenseErrors))
        ctx.store.sync.markApplied('User', row.id, current.appliedVersion, { appliedSnapshot: next });
    }
  });
  ctx.queries.readbacksDone('licences', [...settled]);
  if (again.length) scheduleLicenceReadback(ctx, again);
}

const ASSIGNMENT_KEY = 'licenses.assignment';

/**
 * licenses.assignment changed since the last run (a database without the record used direct
 * assignment): every synced user is diffed again, so its licences move to the new assignment.
 */
export function requeueOnAssignmentChange(ctx: EngineContext): void {
  const now = ctx.config.licenses.assignment;
  const before = ctx.queries.getMeta(ASSIGNMENT_KEY) ?? 'direct';
  if (before !== now) {
    const users = ctx.queries.touchLinkedUsers();
    ctx.logger.info({ from: before, to: now, users }, 'licence assignment changed; users are moved to it');
  }
  if (ctx.queries.getMeta(ASSIGNMENT_KEY) !== now) ctx.queries.setMeta(ASSIGNMENT_KEY, now);
}
