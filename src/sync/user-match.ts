// Matching and idempotent create (SPEC section 7). Before any POST /users the engine looks the
// user up by onPremisesImmutableId, then by UPN; what a Graph user found may become is decided in
// adoption.ts (the engine's own lost create, an allowed adoption, or a refusal), and no user holding a
// directory role is ever adopted (privileged.ts). Each create is recorded before it is sent and its
// Graph id committed the moment it is known, so a crash between POST and commit is healed by the next
// lookup, which finds the user and links it as the engine's own.
import { diffUser } from '../graph/diff';
import { managedGraphProperties } from '../graph/mapping';
import { flatten, unflatten } from '../graph/paths';
import { LOOKUP_IN_LIMIT, userRequests } from '../graph/requests';
import { createKey, decideLink, type LinkDecision } from './adoption';
import { type EngineContext, failRow, failRowOnThrow, inTransaction, progressRow, retryRow, settleRefused } from './context';
import { checkPrivileged } from './privileged';
import { noteLinked } from './replication';
import type { GraphOp, OpOutcome } from './ops';
import { desiredUser, type UserSnapshot, type UserWork } from './user-work';

const BASE_SELECT = ['id', 'userPrincipalName', 'accountEnabled', 'onPremisesImmutableId', 'onPremisesSyncEnabled', 'assignedLicenses'];

function selectFor(ctx: EngineContext): string[] {
  const managed = ctx.mode === 'license-only' ? [] : managedGraphProperties(ctx.mode).map((p) => p.split('.')[0]);
  return [...new Set([...BASE_SELECT, ...managed])];
}

type GraphUser = Record<string, unknown> & { id: string; assignedLicenses?: { skuId: string }[] };

/** What Graph holds now, as the snapshot the diff starts from: only differences get written. */
function snapshotOf(found: GraphUser, w: UserWork): UserSnapshot {
  const have = flatten(found);
  const properties = unflatten([...flatten(w.desired.properties).keys()].filter((p) => have.has(p)).map((p) => [p, have.get(p) ?? null]));
  const assigned = new Set((found.assignedLicenses ?? []).map((l) => String(l.skuId).toLowerCase()));
  const tvf = w.row.appliedTokensValidFrom ?? w.row.tokensValidFrom;
  return {
    properties,
    licenses: w.desired.licenses.filter((s) => assigned.has(s.toLowerCase())),
    ...(tvf ? { tokensValidFrom: tvf } : {}),
    ...(found.onPremisesSyncEnabled === true ? { onPremisesMastered: true } : {}),
    ...(found.onPremisesSyncEnabled === false ? { formerlySynced: true } : {}),
  };
}

function firstUser(outcome: OpOutcome | undefined): GraphUser | null | 'retry' {
  if (!outcome || outcome.kind === 'retry') return 'retry';
  if (outcome.kind === 'failed') return null;
  const list = (outcome.body as { value?: GraphUser[] })?.value ?? [];
  return list[0] ?? null;
}

/** Links the found user as `decision` says (decideLink said yes, privileged.ts found no role). */
function link(
  ctx: EngineContext,
  w: UserWork,
  found: GraphUser,
  decision: Exclude<LinkDecision, { refuse: string }>,
  by: 'immutableId' | 'userPrincipalName',
): void {
  // What Graph lets the bridge write depends on where the user is mastered: decide it before the snapshot.
  const mastering = { onPremisesMastered: found.onPremisesSyncEnabled === true, formerlySynced: found.onPremisesSyncEnabled === false };
  if (mastering.onPremisesMastered || mastering.formerlySynced) w.desired = desiredUser(ctx, w.row, w.res, { properties: {}, licenses: [], ...mastering });
  let snapshot = snapshotOf(found, w);
  if (decision.link === 'adopt') {
    // Adopting writes no password and leaves the account as enabled or disabled as it is, until the
    // source sends a change after the adoption (user-work.ts).
    snapshot = { ...snapshot, adopted: { version: w.row.desiredVersion, accountEnabled: found.accountEnabled !== false } };
    ctx.store.audit.append({ sourceId: w.res.sourceId, action: 'sync.adopt', resourceType: 'User', resourceId: w.row.id, detail: { graphId: found.id, by } });
  }
  noteLinked(ctx, found.id);
  progressRow(ctx, w.row, { graphId: found.id, appliedSnapshot: snapshot });
  w.graphId = found.id;
  w.snapshot = snapshot;
  w.desired = desiredUser(ctx, w.row, w.res, snapshot);
  ctx.counters.matched++;
  ctx.emit({ type: 'matched', resourceType: 'User', id: w.row.id, graphId: found.id, at: new Date(ctx.clock.now()).toISOString() });
}

interface Candidate {
  w: UserWork;
  found: GraphUser;
  by: 'immutableId' | 'userPrincipalName';
  /** The match key of a create sent earlier for this resource and never answered (null when none). */
  ownCreate: string | null;
}

/**
 * Decides each found user (adoption.ts), then asks Graph for the directory roles of those that may be
 * linked (privileged.ts): a refusal or a role leaves the row in error with the reason, a lookup Graph
 * could not answer retries it.
 */
async function adoptAllowed(ctx: EngineContext, candidates: Candidate[]): Promise<void> {
  const allowed: { c: Candidate }[] = [];
  for (const c of candidates) {
    const decision = decideLink(ctx, c.w, c.found, c.by, c.ownCreate);
    if ('refuse' in decision) {
      failRow(ctx, c.w.row, decision.refuse);
      c.w.done = true;
    } else allowed.push({ c });
  }
  const verdicts = await checkPrivileged(
    ctx,
    allowed.map(({ c }) => ({ id: c.found.id, label: String(c.found.userPrincipalName ?? c.found.id) })),
  );
  allowed.forEach(({ c }, i) => {
    const v = verdicts[i];
    // Decided again at link time: an earlier candidate of this batch may have just linked the same user.
    const decision = v.kind === 'ok' ? decideLink(ctx, c.w, c.found, c.by, c.ownCreate) : null;
    if (decision && 'refuse' in decision) {
      failRow(ctx, c.w.row, decision.refuse);
      c.w.done = true;
    } else if (decision) link(ctx, c.w, c.found, decision, c.by);
    else if (v.kind !== 'ok') {
      if (v.kind === 'refuse') failRow(ctx, c.w.row, v.reason);
      else retryRow(ctx, c.w.row, v.reason, v.retryAfterMs);
      c.w.done = true;
    }
  });
}

type Lookup = GraphUser | null | { retry: string; retryAfterMs?: number };

// UPNs compare without case in Entra; immutableIds (base64) are compared exactly.
const keyFor = (property: 'userPrincipalName' | 'onPremisesImmutableId', v: string) => (property === 'userPrincipalName' ? v.toLowerCase() : v);

/**
 * Reads for `values` of one property, LOOKUP_IN_LIMIT to a request (`in`), answered per value:
 * the user found, null (none, or the read was refused), or what to retry with.
 */
async function lookUp(
  ctx: EngineContext,
  property: 'userPrincipalName' | 'onPremisesImmutableId',
  values: string[],
  select: string[],
): Promise<Map<string, Lookup>> {
  const unique = [...new Map(values.map((v) => [keyFor(property, v), v])).values()];
  const ops: GraphOp[] = [];
  for (let i = 0; i < unique.length; i += LOOKUP_IN_LIMIT)
    ops.push({ id: `${property[0]}${i}`, ...userRequests.findIn(property, unique.slice(i, i + LOOKUP_IN_LIMIT), select), write: false });
  const out = await ctx.exec.run(ops);
  const found = new Map<string, Lookup>();
  ops.forEach((op, k) => {
    const o = out.get(op.id);
    const answer: Lookup = !o ? { retry: 'lookup failed' } : o.kind === 'retry' ? { retry: o.message, retryAfterMs: o.retryAfterMs } : null;
    for (const v of unique.slice(k * LOOKUP_IN_LIMIT, (k + 1) * LOOKUP_IN_LIMIT)) found.set(keyFor(property, v), answer);
    if (o?.kind !== 'ok') return;
    for (const u of (o.body as { value?: GraphUser[] })?.value ?? []) {
      const key = keyFor(property, String(u[property] ?? ''));
      if (found.get(key) === null) found.set(key, u);
    }
  });
  return found;
}

const isRetry = (l: Lookup): l is { retry: string; retryAfterMs?: number } => l !== null && 'retry' in l;

/** Looks up every work item without a Graph id, 15 values to a read; adopts what it finds. */
export async function matchUsers(ctx: EngineContext, work: UserWork[]): Promise<void> {
  const select = selectFor(ctx);
  for (const w of work) {
    try {
      // Stored data Graph cannot be asked about (a lone surrogate in a UPN): this row only, not its read.
      for (const v of [w.desired.match.onPremisesImmutableId, w.desired.match.userPrincipalName]) if (v) encodeURIComponent(v);
    } catch (err) {
      failRowOnThrow(ctx, w.row, err);
      w.done = true;
    }
  }
  const live = work.filter((w) => !w.done);
  const imms = live.map((w) => w.desired.match.onPremisesImmutableId).filter((v): v is string => Boolean(v));
  const upns = live.map((w) => w.desired.match.userPrincipalName).filter((v): v is string => Boolean(v));
  const [byImmutableId, byUpnName] = await Promise.all([
    imms.length ? lookUp(ctx, 'onPremisesImmutableId', imms, select) : new Map<string, Lookup>(),
    upns.length ? lookUp(ctx, 'userPrincipalName', upns, select) : new Map<string, Lookup>(),
  ]);
  const candidates: Candidate[] = [];
  const settled: string[] = [];
  live.forEach((w) => {
    const imm = w.desired.match.onPremisesImmutableId;
    const upn = w.desired.match.userPrincipalName;
    const byImm = imm ? (byImmutableId.get(keyFor('onPremisesImmutableId', imm)) ?? null) : null;
    const byUpn = upn ? (byUpnName.get(keyFor('userPrincipalName', upn)) ?? null) : null;
    // The immutableId decides when it was read; the UPN otherwise.
    const found = byImm && isRetry(byImm) ? byImm : (byImm ?? byUpn);
    if (found && isRetry(found)) {
      retryRow(ctx, w.row, found.retry, found.retryAfterMs);
      w.done = true;
      return;
    }
    if (found) {
      const ownCreate = ctx.queries.createUnanswered('User', w.row.id);
      // A create of an earlier run, never answered, is settled by what this lookup found.
      if (ownCreate !== null) settled.push(w.row.id);
      candidates.push({ w, found, by: found === byImm ? 'immutableId' : 'userPrincipalName', ownCreate });
      return;
    }
    if (ctx.mode === 'license-only') {
      failRow(
        ctx,
        w.row,
        `license-only matches existing users only: no Graph user has onPremisesImmutableId ${w.desired.match.onPremisesImmutableId ?? '(none)'} or userPrincipalName ${w.desired.match.userPrincipalName}`,
      );
      w.done = true;
    }
  });
  await adoptAllowed(ctx, candidates);
  if (settled.length) ctx.queries.createsSettled('User', settled);
}

/** POST /users for everything the lookup did not find, committing each Graph id at once. */
export async function createUsers(ctx: EngineContext, work: UserWork[]): Promise<void> {
  const ops: GraphOp[] = [];
  // A create sent earlier and never answered makes a conflict on this one the engine's own user.
  const unanswered = new Map<UserWork, string | null>();
  const sent: [string, string][] = [];
  work.forEach((w, i) => {
    const diff = diffUser(w.desired, null, ctx.mode);
    if (!diff.create) return;
    // A userName stored with surrounding whitespace (before ingress refused it) becomes the UPN of another
    // resource's userName: the resource whose userName is the UPN itself keeps it.
    const upn = w.desired.match.userPrincipalName;
    if (w.res.resource.userName !== upn && ctx.queries.userNameHeldElsewhere(upn, w.row.id)) {
      failRow(
        ctx,
        w.row,
        `userName ${JSON.stringify(w.res.resource.userName)} becomes userPrincipalName ${upn} in Graph, which another resource's userName already names; not created`,
      );
      w.done = true;
      return;
    }
    unanswered.set(w, ctx.queries.createUnanswered('User', w.row.id));
    sent.push([w.row.id, createKey(w)]);
    ops.push({ id: `${i}c`, ...userRequests.create(diff.create), write: true });
  });
  // Recorded before the POSTs go out: a crash before their answers is healed as the engine's own users.
  if (sent.length) ctx.queries.createsSent('User', sent);
  const out = await ctx.exec.run(ops);
  const settled: string[] = [];
  const conflicts: { w: UserWork; ownCreate: string | null }[] = [];
  inTransaction(ctx, () =>
    work.forEach((w, i) => {
      const o = out.get(`${i}c`);
      if (!o) return;
      if (o.kind === 'ok') {
        const id = (o.body as { id: string }).id;
        const tvf = w.row.tokensValidFrom;
        // Creation is not a password change (SPEC section 4): its tokensValidFrom revokes nothing.
        const snapshot: UserSnapshot = { properties: w.desired.properties, licenses: [], ...(tvf ? { tokensValidFrom: tvf } : {}) };
        noteLinked(ctx, id);
        progressRow(ctx, w.row, { graphId: id, appliedSnapshot: snapshot });
        settled.push(w.row.id);
        w.graphId = id;
        w.snapshot = snapshot;
        // The password went with the create.
        delete w.desired.password;
        ctx.counters.created++;
        ctx.emit({ type: 'created', resourceType: 'User', id: w.row.id, graphId: id, at: new Date(ctx.clock.now()).toISOString() });
      } else if (o.kind === 'failed' && (o.code === 'ObjectConflict' || /already exists/i.test(o.message))) {
        conflicts.push({ w, ownCreate: unanswered.get(w) ?? null });
      } else {
        if (o.kind === 'failed') settled.push(w.row.id);
        settleRefused(ctx, w, o);
      }
    }),
  );
  if (settled.length) ctx.queries.createsSettled('User', settled);
  if (conflicts.length) await resolveConflicts(ctx, conflicts);
}

// ObjectConflict: someone (or an earlier run of ours) holds the UPN; look again and match.
async function resolveConflicts(ctx: EngineContext, work: { w: UserWork; ownCreate: string | null }[]): Promise<void> {
  const select = selectFor(ctx);
  const out = await ctx.exec.run(work.map(({ w }, i) => ({ id: `${i}u`, ...userRequests.findByUpn(w.desired.match.userPrincipalName, select), write: false })));
  const candidates: Candidate[] = [];
  // Graph refused these creates: the record of each is dropped, unless an earlier create, never answered, is still open.
  const settled: string[] = [];
  work.forEach(({ w, ownCreate }, i) => {
    const found = firstUser(out.get(`${i}u`));
    if (found !== 'retry' || ownCreate === null) settled.push(w.row.id);
    if (found === 'retry') {
      retryRow(ctx, w.row, 'lookup after ObjectConflict failed');
      w.done = true;
    } else if (found) {
      // This create was refused: only an earlier one, never answered, can have made the user.
      candidates.push({ w, found, by: 'userPrincipalName', ownCreate });
    } else {
      failRow(
        ctx,
        w.row,
        `Another object with the same value for property userPrincipalName already exists, and no user ${w.desired.match.userPrincipalName} could be found to match`,
      );
      w.done = true;
    }
  });
  await adoptAllowed(ctx, candidates);
  if (settled.length) ctx.queries.createsSettled('User', settled);
}
