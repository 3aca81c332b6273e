// The inbound writer's log follower (docs/inbound-writer.md, "Outcomes"): while records are in flight it
// reads the job's provisioning logs, within the reports service's budget and never waiting for it, and
// settles each record by the first entry of its externalId after its 202: success (the Graph id and what
// the record put in Graph), skipped, or failure (tried again when the service's own).
import { classifyGraphResponse } from '../graph/errors';
import { inboundRequests } from '../graph/inbound';
import { userRequests } from '../graph/requests';
import type { GraphBody } from '../graph/paths';
import { objectGuidToImmutableId } from '../rules/identity';
import type { InboundRecord } from '../store';
import { type EngineContext, appliedRow, failRow, inTransaction, progressRow } from './context';
import { inboundConfig, iso, pollMs, REPORTS_LIMIT, stateOf } from './inbound-state';
import { noteLinked } from './replication';
import type { UserSnapshot } from './user-work';

const CURSOR_KEY = 'inbound.logCursor';
const LAST_POLL_KEY = 'inbound.lastPoll';
/** Where a read not finished stopped (cut short at MAX_LOG_PAGES or by an error, or under way when the bridge stopped): the next poll goes on from there. */
const RESUME_KEY = 'inbound.logResume';
/**
 * Log entries appear minutes after processing, not necessarily in order (inbound-provisioning-api-issues:
 * 5 to 10 minutes): each read starts this far behind the newest entry already read, which covers that spread.
 */
const LOG_LAG_MS = 30 * 60_000;
/** A log entry may carry a time a little before the engine's clock saw the 202 (clocks, whole seconds). */
const CLOCK_SKEW_MS = 5_000;
/** Tries of a record the service reports as a failure of its own (errorCategory "failure") before it counts as refused. */
const SERVICE_FAILURE_TRIES = 3;
const MAX_LOG_PAGES = 20;

interface LogEntry {
  id: string;
  activityDateTime: string;
  changeId?: string;
  provisioningAction?: string;
  sourceIdentity?: { id?: string };
  targetIdentity?: { id?: string };
  provisioningStatusInfo?: { status?: string; errorInformation?: { errorCode?: string; reason?: string; errorCategory?: string } | null };
}

/**
 * Reads the provisioning logs of the job (every pollSeconds, while records are in flight) and settles
 * each record by the first entry of its externalId after its 202.
 */
export async function followInbound(ctx: EngineContext, opts: { force?: boolean } = {}): Promise<{ settled: number }> {
  const state = stateOf(ctx);
  if (ctx.store.inbound.oldestSentAt() === null) {
    state.poll = undefined;
    return { settled: 0 };
  }
  const now = ctx.clock.now();
  const last = Number(ctx.queries.getMeta(LAST_POLL_KEY) || 0);
  if (!state.poll && !opts.force && now - last < pollMs(ctx)) return { settled: 0 };
  // A poll, and each page of it, is read only when the reports service's budget has a read free now:
  // waiting for one held the engine's loop, and the urgent changes it sends, up to 10 s a page (5 reads
  // per 10 s). The page the budget does not allow now is read by a later run (state.poll).
  if (!state.reads.tryAcquire()) return { settled: 0 };
  let settled = 0;
  let poll = state.poll;
  state.poll = undefined;
  if (!poll) {
    ctx.queries.setMeta(LAST_POLL_KEY, String(now));
    settled = await resolveAwaiting(ctx);
    const oldest = ctx.store.inbound.oldestSentAt() ?? now;
    const cursor = ctx.queries.getMeta(CURSOR_KEY);
    const resume = ctx.queries.getMeta(RESUME_KEY);
    // From where the last read left off (LOG_LAG_MS behind its newest entry, or where a read cut short
    // stopped), or the first 202 still followed. (No entry of a record followed now is older than its 202.)
    const since = Math.max(oldest - CLOCK_SKEW_MS, cursor ? Date.parse(cursor) : -Infinity, resume ? Date.parse(resume) : -Infinity);
    poll = { url: inboundRequests.provisioningLogs(inboundConfig(ctx).jobId, iso(since)).url, since, newest: since, pages: 0 };
  }
  // This run's first read was taken above; each further page takes one of its own.
  for (let first = true; poll.url !== null && poll.pages < MAX_LOG_PAGES; first = false) {
    if (!first && !state.reads.tryAcquire()) {
      state.poll = poll;
      break;
    }
    const res = await ctx.graph.send({ method: 'GET', url: poll.url, write: false });
    const outcome = classifyGraphResponse(res, { nowMs: ctx.clock.now(), secrets: ctx.secrets });
    if (!outcome.ok && outcome.throttled) {
      // Another reader of the same app's budget (a second bridge, a script): the same page once the service allows.
      state.reads.pause(outcome.retryAfterMs ?? REPORTS_LIMIT.perSeconds * 1000);
      state.poll = poll;
      break;
    }
    poll.pages++;
    if (!outcome.ok) {
      ctx.logger.warn(
        { status: outcome.status, err: outcome.message },
        'inbound writer: the provisioning logs could not be read; tried again on the next poll',
      );
      break;
    }
    const body = res.body as { value?: LogEntry[]; '@odata.nextLink'?: string };
    for (const entry of body.value ?? []) {
      const at = Date.parse(entry.activityDateTime);
      if (Number.isFinite(at)) poll.newest = Math.max(poll.newest, at);
      if (await settleEntry(ctx, entry, at)) settled++;
    }
    const next = body['@odata.nextLink'];
    poll.url = next ? next.replace(/^https?:\/\/[^/]+/i, '').replace(/^\/v1\.0/i, '') : null;
  }
  const { url, since, newest } = poll;
  if (url === null) {
    // Entries are written minutes after processing: the next read starts LOG_LAG_MS before the newest seen.
    const cursor = ctx.queries.getMeta(CURSOR_KEY);
    const nextCursor = Math.max(cursor ? Date.parse(cursor) : 0, Math.min(newest, now) - LOG_LAG_MS);
    ctx.queries.setMeta(CURSOR_KEY, iso(nextCursor));
    ctx.queries.setMeta(RESUME_KEY, '');
  } else if (newest > since) {
    // Not finished (under way in state.poll, or cut short at MAX_LOG_PAGES or by an error): LOG_LAG_MS behind
    // the newest entry read may be where this read began (a backlog of many pages), so the next poll that
    // starts afresh (after the cut, or a restart) goes on from the newest entry read instead.
    ctx.queries.setMeta(RESUME_KEY, iso(newest));
  }
  return { settled };
}

async function settleEntry(ctx: EngineContext, entry: LogEntry, at: number): Promise<boolean> {
  const key = entry.sourceIdentity?.id;
  if (!key || !entry.id || ctx.store.inbound.logSeen(entry.id)) return false;
  const record = ctx.store.inbound.oldestSentFor(key, (Number.isFinite(at) ? at : ctx.clock.now()) + CLOCK_SKEW_MS);
  if (!record) return false;
  const status = entry.provisioningStatusInfo?.status ?? '';
  const error = entry.provisioningStatusInfo?.errorInformation ?? null;
  const targetId = entry.targetIdentity?.id || null;
  if (status === 'success' || status === 'warning' || (status === 'skipped' && targetId)) {
    const found = await graphIdOf(ctx, targetId);
    if (!found) {
      ctx.store.inbound.settle(record.seq, 'awaiting', { logId: entry.id, targetId, outcome: status });
      return true;
    }
    reported(ctx, record, found, entry);
    return true;
  }
  const reason = [error?.errorCode, error?.reason].filter(Boolean).join(': ') || `status ${status || 'unknown'}`;
  inTransaction(ctx, () => {
    const row = ctx.store.sync.get('User', record.resourceId);
    if (status === 'skipped') {
      ctx.store.inbound.settle(record.seq, 'done', { logId: entry.id, outcome: `skipped: ${reason}` });
      if (!row) return;
      if (record.kind === 'deprovision') appliedRow(ctx, row, { appliedSnapshot: { ...(row.appliedSnapshot as UserSnapshot), deprovisioned: true } });
      else if (record.version >= row.desiredVersion)
        ctx.store.sync.markSkipped('User', row.id, record.version, `the provisioning service skipped the record: ${reason}`);
      else ctx.store.sync.markRetry('User', row.id, `the provisioning service skipped an earlier record: ${reason}`, ctx.clock.now());
      return;
    }
    // A failure the service owns (errorCategory "failure") is tried again a few times; one caused by the data or the target is not.
    if (error?.errorCategory === 'failure' && record.attempts < SERVICE_FAILURE_TRIES) {
      ctx.store.inbound.requeue(record.seq, entry.id);
      if (row) ctx.store.sync.markRetry('User', row.id, `the provisioning service failed on the record, sent again: ${reason}`, ctx.clock.now() + pollMs(ctx));
      return;
    }
    ctx.store.inbound.settle(record.seq, 'done', { logId: entry.id, outcome: `failure: ${reason}` });
    if (!row) return;
    if (record.version >= row.desiredVersion) failRow(ctx, row, `the provisioning service refused the record: ${reason}`);
    else ctx.store.sync.markRetry('User', row.id, `the provisioning service refused an earlier record: ${reason}`, ctx.clock.now());
  });
  return true;
}

/**
 * The Entra object id of a reported user: the log's target id (Entra), or the synced user of the AD
 * objectGUID, whose onPremisesSyncEnabled becomes the user's dirSyncEnabled.
 */
async function graphIdOf(ctx: EngineContext, targetId: string | null): Promise<{ id: string; dirSync?: boolean } | null> {
  if (!targetId) return null;
  if (inboundConfig(ctx).target === 'entra') return { id: targetId };
  const immutableId = objectGuidToImmutableId(targetId);
  if (!immutableId) return null;
  const spec = userRequests.findByImmutableId(immutableId, ['id', 'onPremisesSyncEnabled']);
  const res = await ctx.graph.send({ ...spec, write: false });
  const outcome = classifyGraphResponse(res);
  if (!outcome.ok) return null;
  const user = ((res.body as { value?: { id: string; onPremisesSyncEnabled?: boolean | null }[] })?.value ?? [])[0];
  return user ? { id: user.id, dirSync: user.onPremisesSyncEnabled === true } : null;
}

/** Records whose success was logged while their AD user had not reached Entra yet: looked up again. */
async function resolveAwaiting(ctx: EngineContext): Promise<number> {
  let n = 0;
  for (const record of ctx.store.inbound.awaiting()) {
    const found = await graphIdOf(ctx, record.targetId);
    if (!found) continue;
    reported(ctx, record, found, null);
    n++;
  }
  return n;
}

/** A record the service applied: the row holds the Graph id and what the record put in Graph. */
function reported(ctx: EngineContext, record: InboundRecord, found: { id: string; dirSync?: boolean }, entry: LogEntry | null): void {
  const graphId = found.id;
  inTransaction(ctx, () => {
    ctx.store.inbound.settle(record.seq, 'done', { logId: entry?.id ?? null, targetId: entry?.targetIdentity?.id ?? null, outcome: 'success' });
    ctx.store.inbound.pruneSettled(record.resourceId, record.seq);
    const row = ctx.store.sync.get('User', record.resourceId);
    if (!row) return;
    const before = (row.appliedSnapshot as UserSnapshot | null) ?? { properties: {}, licenses: [] };
    const applies = record.applies as { properties: GraphBody; manager?: string | null };
    const snapshot: UserSnapshot = {
      ...before,
      properties: applies.properties,
      ...(applies.manager !== undefined ? { manager: applies.manager } : {}),
    };
    if (!row.graphId) noteLinked(ctx, graphId);
    if (found.dirSync !== undefined) ctx.store.sync.setDirSyncEnabled('User', row.id, found.dirSync);
    if (record.kind === 'deprovision') {
      appliedRow(ctx, row, { appliedSnapshot: { ...snapshot, deprovisioned: true }, graphId });
      const res = ctx.store.users.getForSync(row.id);
      ctx.guard.record(res?.sourceId ?? '', row.id);
      ctx.counters.deprovisioned++;
      ctx.store.audit.append({
        sourceId: res?.sourceId,
        action: 'sync.deprovision.disable',
        resourceType: 'User',
        resourceId: row.id,
        detail: { graphId, via: 'inbound' },
      });
      ctx.emit({ type: 'deprovisioned', resourceType: 'User', id: row.id, graphId, at: iso(ctx.clock.now()) });
      return;
    }
    progressRow(ctx, row, { graphId, appliedSnapshot: snapshot });
    const at = iso(ctx.clock.now());
    // A deactivation the service applied counts towards the deletion threshold, as the direct writer's does.
    if (row.graphId && before.properties.accountEnabled !== false && snapshot.properties.accountEnabled === false) {
      const sourceId = ctx.store.users.getForSync(row.id)?.sourceId ?? '';
      ctx.guard.record(sourceId, row.id);
      ctx.counters.deprovisioned++;
      ctx.store.audit.append({
        sourceId,
        action: 'sync.deprovision.deactivate',
        resourceType: 'User',
        resourceId: row.id,
        detail: { graphId, via: 'inbound' },
      });
    }
    if (entry?.provisioningAction === 'create') {
      ctx.counters.created++;
      ctx.emit({ type: 'created', resourceType: 'User', id: row.id, graphId, at });
    } else if (!row.graphId) {
      ctx.counters.matched++;
      ctx.emit({ type: 'matched', resourceType: 'User', id: row.id, graphId, at });
    } else ctx.counters.applied++;
  });
}
