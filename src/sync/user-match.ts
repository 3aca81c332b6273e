// Matching and idempotent create (SPEC section 7). Before any POST /users the engine looks the
// user up by onPremisesImmutableId, then by UPN; a Graph user found is adopted unless another
// bridge resource already holds it. The Graph id is committed the moment it is known, so a crash
// between POST and commit is healed by the next lookup, which finds the user and adopts it.
import { diffUser } from '../graph/diff';
import { managedGraphProperties } from '../graph/mapping';
import { flatten, unflatten } from '../graph/paths';
import { LOOKUP_IN_LIMIT, userRequests } from '../graph/requests';
import { type EngineContext, failRow, inTransaction, progressRow, retryRow } from './context';
import { checkPrivileged } from './privileged';
import { noteLinked } from './replication';
import type { GraphOp, OpOutcome } from './ops';
import { desiredUser, type UserSnapshot, type UserWork } from './user-work';

const BASE_SELECT = ['id', 'userPrincipalName', 'onPremisesImmutableId', 'onPremisesSyncEnabled', 'assignedLicenses'];

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

function adopt(ctx: EngineContext, w: UserWork, found: GraphUser, how: 'matched' | 'created'): boolean {
  const other = ctx.queries.linkedElsewhere('User', found.id, w.row.id);
  if (other) {
    failRow(ctx, w.row, `Graph user ${String(found.userPrincipalName ?? found.id)} (${found.id}) is already linked to bridge resource ${other}; refusing to manage it twice`);
    w.done = true;
    return false;
  }
  // What Graph lets the bridge write depends on where the user is mastered: decide it before the snapshot.
  const mastering = { onPremisesMastered: found.onPremisesSyncEnabled === true, formerlySynced: found.onPremisesSyncEnabled === false };
  if (mastering.onPremisesMastered || mastering.formerlySynced) w.desired = desiredUser(ctx, w.row, w.res, { properties: {}, licenses: [], ...mastering });
  const snapshot = snapshotOf(found, w);
  noteLinked(ctx, found.id);
  progressRow(ctx, w.row, { graphId: found.id, appliedSnapshot: snapshot });
  w.graphId = found.id;
  w.snapshot = snapshot;
  if (how === 'matched') ctx.counters.matched++;
  ctx.emit({ type: how, resourceType: 'User', id: w.row.id, graphId: found.id, at: new Date(ctx.clock.now()).toISOString() });
  return true;
}

type Lookup = GraphUser | null | { retry: string; retryAfterMs?: number };

// UPNs compare without case in Entra; immutableIds (base64) are compared exactly.
const keyFor = (property: 'userPrincipalName' | 'onPremisesImmutableId', v: string) => (property === 'userPrincipalName' ? v.toLowerCase() : v);

/**
 * Reads for `values` of one property, LOOKUP_IN_LIMIT to a request (`in`), answered per value:
 * the user found, null (none, or the read was refused), or what to retry with.
 */
async function lookUp(ctx: EngineContext, property: 'userPrincipalName' | 'onPremisesImmutableId', values: string[], select: string[]): Promise<Map<string, Lookup>> {
  const unique = [...new Map(values.map((v) => [keyFor(property, v), v])).values()];
  const ops: GraphOp[] = [];
  for (let i = 0; i < unique.length; i += LOOKUP_IN_LIMIT) ops.push({ id: `${property[0]}${i}`, ...userRequests.findIn(property, unique.slice(i, i + LOOKUP_IN_LIMIT), select), write: false });
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
  const imms = work.map((w) => w.desired.match.onPremisesImmutableId).filter((v): v is string => Boolean(v));
  const upns = work.map((w) => w.desired.match.userPrincipalName).filter((v): v is string => Boolean(v));
  const [byImmutableId, byUpnName] = await Promise.all([
    imms.length ? lookUp(ctx, 'onPremisesImmutableId', imms, select) : new Map<string, Lookup>(),
    upns.length ? lookUp(ctx, 'userPrincipalName', upns, select) : new Map<string, Lookup>(),
  ]);
  const adoptions: { w: UserWork; found: GraphUser }[] = [];
  work.forEach((w) => {
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
      adoptions.push({ w, found });
      return;
    }
    if (ctx.mode === 'license-only') {
      failRow(ctx, w.row, `license-only matches existing users only: no Graph user has onPremisesImmutableId ${w.desired.match.onPremisesImmutableId ?? '(none)'} or userPrincipalName ${w.desired.match.userPrincipalName}`);
      w.done = true;
    }
  });
  await adoptUnlessPrivileged(ctx, adoptions);
}

/** Adopts each found user unless it holds a directory role (src/sync/privileged.ts). */
async function adoptUnlessPrivileged(ctx: EngineContext, adoptions: { w: UserWork; found: GraphUser }[]): Promise<void> {
  const verdicts = await checkPrivileged(ctx, adoptions.map(({ found }) => ({ id: found.id, label: String(found.userPrincipalName ?? found.id) })));
  adoptions.forEach(({ w, found }, i) => {
    const v = verdicts[i];
    if (v.kind === 'ok') adopt(ctx, w, found, 'matched');
    else {
      if (v.kind === 'refuse') failRow(ctx, w.row, v.reason);
      else retryRow(ctx, w.row, v.reason, v.retryAfterMs);
      w.done = true;
    }
  });
}

/** POST /users for everything the lookup did not find, committing each Graph id at once. */
export async function createUsers(ctx: EngineContext, work: UserWork[]): Promise<void> {
  const ops: GraphOp[] = [];
  work.forEach((w, i) => {
    const diff = diffUser(w.desired, null, ctx.mode);
    if (diff.create) ops.push({ id: `${i}c`, ...userRequests.create(diff.create), write: true });
  });
  const out = await ctx.exec.run(ops);
  const conflicts: UserWork[] = [];
  inTransaction(ctx, () => work.forEach((w, i) => {
    const o = out.get(`${i}c`);
    if (!o) return;
    if (o.kind === 'ok') {
      const id = (o.body as { id: string }).id;
      const tvf = w.row.tokensValidFrom;
      // Creation is not a password change (SPEC section 4): its tokensValidFrom revokes nothing.
      const snapshot: UserSnapshot = { properties: w.desired.properties, licenses: [], ...(tvf ? { tokensValidFrom: tvf } : {}) };
      noteLinked(ctx, id);
      progressRow(ctx, w.row, { graphId: id, appliedSnapshot: snapshot });
      w.graphId = id;
      w.snapshot = snapshot;
      // The password went with the create.
      delete w.desired.password;
      ctx.counters.created++;
      ctx.emit({ type: 'created', resourceType: 'User', id: w.row.id, graphId: id, at: new Date(ctx.clock.now()).toISOString() });
    } else if (o.kind === 'failed' && (o.code === 'ObjectConflict' || /already exists/i.test(o.message))) {
      conflicts.push(w);
    } else if (o.kind === 'failed') {
      failRow(ctx, w.row, o.message);
      w.done = true;
    } else {
      retryRow(ctx, w.row, o.message, o.retryAfterMs);
      w.done = true;
    }
  }));
  if (conflicts.length) await resolveConflicts(ctx, conflicts);
}

// ObjectConflict: someone (or an earlier run of ours) holds the UPN; look again and match.
async function resolveConflicts(ctx: EngineContext, work: UserWork[]): Promise<void> {
  const select = selectFor(ctx);
  const out = await ctx.exec.run(work.map((w, i) => ({ id: `${i}u`, ...userRequests.findByUpn(w.desired.match.userPrincipalName, select), write: false })));
  const adoptions: { w: UserWork; found: GraphUser }[] = [];
  work.forEach((w, i) => {
    const found = firstUser(out.get(`${i}u`));
    if (found === 'retry') {
      retryRow(ctx, w.row, 'lookup after ObjectConflict failed');
      w.done = true;
    } else if (found) adoptions.push({ w, found });
    else {
      failRow(ctx, w.row, `Another object with the same value for property userPrincipalName already exists, and no user ${w.desired.match.userPrincipalName} could be found to match`);
      w.done = true;
    }
  });
  await adoptUnlessPrivileged(ctx, adoptions);
}
