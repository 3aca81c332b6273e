// Replication delay. Entra is eventually consistent across directory replicas: a write that names
// an object the bridge has just created can land on a replica that has not seen it yet and fail
// with 404 Request_ResourceNotFound ("Resource '<id>' does not exist or one of its queried
// reference-property objects are not present."), or, for a member add, 400 Request_BadRequest
// ("The source resource object or one of the objects being referenced do not exist."). Microsoft
// documents both as replication delay to be retried after a brief wait (learn.microsoft.com/graph/
// api/group-post-members and group-update, note on recently created groups; "Designing for
// eventual consistency for Microsoft Entra"). Such a failure is transient while an object the
// write names was created or matched within REPLICATION_WINDOW_MS, permanent after that. A 404 is
// also what a deletion outside the bridge gives, so within the window the engine asks Graph by id
// before calling it a replica behind (retryReplicationMisses).
import type { EngineContext } from './context';
import type { OpOutcome } from './ops';

/**
 * How long after a create or match a "not found" counts as replication delay. Microsoft calls the
 * delay "typically brief" (seconds); ten minutes is ample and still bounds the retries.
 */
export const REPLICATION_WINDOW_MS = 10 * 60_000;

const SOURCE_MISSING = /source resource object or one of the objects being referenced do not exist/i;

/** Remembers (across restarts) that the engine just created or matched this Graph object. */
export function noteLinked(ctx: EngineContext, graphId: string): void {
  if (ctx.linkedBuffer) return void ctx.linkedBuffer.push(graphId);
  const now = ctx.clock.now();
  ctx.queries.recordLinked(graphId, now, now - REPLICATION_WINDOW_MS);
}

/** Any of these Graph objects was created or matched within the window. */
export function recentlyLinked(ctx: EngineContext, graphIds: readonly (string | null | undefined)[]): boolean {
  const now = ctx.clock.now();
  return graphIds.some((id) => {
    if (id && ctx.linkedBuffer?.includes(id)) return true;
    const at = id ? ctx.queries.linkedAt(id) : null;
    return at !== null && now - at < REPLICATION_WINDOW_MS;
  });
}

/** 404 Request_ResourceNotFound: the object a write names is not on the replica it reached (or is gone). */
export function isNotFound(o: OpOutcome | undefined): boolean {
  return o?.kind === 'failed' && o.status === 404 && o.code === 'Request_ResourceNotFound';
}

/** 400 with the message Microsoft documents for a member add naming a recently created object. */
export function isReferenceMissing(o: OpOutcome | undefined): boolean {
  return o?.kind === 'failed' && o.status === 400 && SOURCE_MISSING.test(o.message);
}

export function asRetry(o: OpOutcome): OpOutcome {
  if (o.kind !== 'failed') return o;
  return { kind: 'retry', status: o.status, message: `${o.code}: ${o.message} (replication delay after create; retrying)`, throttled: false };
}

/** A member add refused with the documented replication-delay 400 while the group or a member is recent: a retry. */
export function softenReferenceMissing(ctx: EngineContext, o: OpOutcome, graphIds: readonly (string | null | undefined)[]): OpOutcome {
  return isReferenceMissing(o) && recentlyLinked(ctx, graphIds) ? asRetry(o) : o;
}

export interface NotFoundWrite {
  /** The op whose outcome is looked at, and rewritten to a retry when replication explains it. */
  opId: string;
  /** The objects the write names, by collection. */
  refs: { set: 'users' | 'groups'; id: string | null | undefined }[];
}

/**
 * A 404 on a write naming a recently linked object is replication delay or a deletion outside the
 * bridge (drift: restore or create again). GET by id tells them apart: when Graph still finds every
 * object the write names, the 404 was a replica behind and the write is retried; when it does not,
 * the 404 stands. Rewrites the outcomes in `out` in place.
 */
export async function retryReplicationMisses(ctx: EngineContext, writes: NotFoundWrite[], out: Map<string, OpOutcome>): Promise<void> {
  const suspects = writes.filter(
    (w) =>
      isNotFound(out.get(w.opId)) &&
      recentlyLinked(
        ctx,
        w.refs.map((r) => r.id),
      ),
  );
  if (!suspects.length) return;
  const probes = new Map<string, { set: string; id: string }>();
  for (const w of suspects) for (const r of w.refs) if (r.id) probes.set(`${r.set}/${r.id}`, { set: r.set, id: r.id });
  const keys = [...probes.keys()];
  const found = await ctx.exec.run(
    keys.map((k, i) => ({
      id: `${i}x`,
      method: 'GET' as const,
      url: `/${probes.get(k)!.set}/${encodeURIComponent(probes.get(k)!.id)}?$select=id`,
      write: false,
    })),
  );
  // A probe that itself failed transiently proves nothing either way: the write is retried.
  const exists = (set: string, id: string) => found.get(`${keys.indexOf(`${set}/${id}`)}x`)?.kind !== 'failed';
  for (const w of suspects) {
    if (w.refs.every((r) => !r.id || exists(r.set, r.id))) {
      ctx.logger.info({ op: w.opId, refs: w.refs }, 'write answered 404 for an object Graph still has: replication delay, retrying');
      out.set(w.opId, asRetry(out.get(w.opId)!));
    }
  }
}
