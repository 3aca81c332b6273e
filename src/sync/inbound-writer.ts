// The inbound writer (graph.writer "inbound", docs/inbound-writer.md). User profiles, deactivations
// and deprovisions go to an API-driven inbound provisioning app as SCIM bulk records; the Entra
// provisioning service applies them minutes later and reports each in the provisioning logs.
// Licences, the password of a cloud user and token revocation stay on Graph, once the user exists.
//
// A record's life: staged (stored in store.inbound before anything is sent) -> sent (the 202) ->
// reported (the log entry of its externalId after the 202: success, skipped or failure). The row of
// the user waits meanwhile; a success records the Graph id and what the record put in Graph, and the
// next pass does the Graph side. A stop at any point resumes from the store.
import { classifyGraphResponse } from '../graph/errors';
import { BULK_MAX_OPERATIONS, inboundBulkRequest, inboundKey, inboundOperation, inboundRequests, type InboundOperation } from '../graph/inbound';
import { userRequests } from '../graph/requests';
import type { GraphBody } from '../graph/paths';
import { objectGuidToImmutableId } from '../rules/identity';
import type { InboundRecord, SyncRow } from '../store';
import { type EngineContext, appliedRow, failRow, inTransaction, progressRow } from './context';
import { createWindowLimit, type WindowLimit } from './throttle';
import { noteLinked } from './replication';
import type { GraphOp } from './ops';
import type { UserSnapshot, UserWork } from './user-work';

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
/**
 * The identity and access reports service, which serves /auditLogs/provisioning: 5 requests per 10 s
 * per app and tenant (learn.microsoft.com/graph/throttling-limits). A read of many pages is paced to it.
 */
const REPORTS_LIMIT = { requests: 5, perSeconds: 10 };

export interface InboundState {
  /** bulkUpload calls, within graph.inbound.rate in any window of its length. */
  rate: WindowLimit;
  /** Provisioning-log reads, within the reports service's limit. */
  reads: WindowLimit;
  /** When the partial request last logged as waiting goes: logged once, not at every run. */
  loggedWait?: number;
  /**
   * A poll of the provisioning logs under way: the next page (the service's nextLink), read by a later run
   * once the reports service's budget has a read free. In memory: after a restart the next poll starts
   * from RESUME_KEY instead.
   */
  poll?: { url: string; since: number; newest: number; pages: number };
}

const states = new WeakMap<EngineContext['store'], InboundState>();

/** The inbound writer is in use for this mode (license-only writes no profile). */
export function usesInbound(ctx: EngineContext): boolean {
  return ctx.config.graph.writer === 'inbound' && Boolean(ctx.config.graph.inbound) && ctx.mode !== 'license-only';
}

function inboundConfig(ctx: EngineContext) {
  return ctx.config.graph.inbound!;
}

function stateOf(ctx: EngineContext): InboundState {
  let s = states.get(ctx.store);
  if (!s) {
    s = { rate: createWindowLimit(inboundConfig(ctx).rate, ctx.clock), reads: createWindowLimit(REPORTS_LIMIT, ctx.clock) };
    states.set(ctx.store, s);
  }
  return s;
}

const pollMs = (ctx: EngineContext) => inboundConfig(ctx).pollSeconds * 1000;
const iso = (ms: number) => new Date(ms).toISOString();

/** What a user's record sends, and what it puts in Graph once reported. */
interface Outgoing {
  properties: GraphBody;
  /** SCIM id of the manager (the snapshot's form), null: none, undefined: not managed. */
  manager?: string | null;
}

function outgoingOf(ctx: EngineContext, w: UserWork): Outgoing {
  const properties = { ...w.desired.properties };
  // AD sets the immutableId (the objectGUID) of a user the app creates there.
  if (inboundConfig(ctx).target === 'ad') delete properties.onPremisesImmutableId;
  return { properties, ...(w.desired.manager !== undefined ? { manager: w.desired.manager } : {}) };
}

function stable(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stable).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stable((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

function sameProfile(ctx: EngineContext, snapshot: UserSnapshot, out: Outgoing): boolean {
  const props = { ...snapshot.properties };
  if (inboundConfig(ctx).target === 'ad') delete props.onPremisesImmutableId;
  return stable(props) === stable(out.properties) && (out.manager === undefined || (snapshot.manager ?? null) === out.manager);
}

function managerKey(manager: string | null | undefined): string | null | undefined {
  if (manager === undefined || manager === null) return manager;
  return inboundKey(manager);
}

/**
 * The row waits for the provisioning service: the follower makes it due again once its record is
 * reported; until then it is looked at only hourly (a large load leaves many rows waiting at once).
 */
function waitForService(ctx: EngineContext, row: SyncRow, message: string): void {
  ctx.store.sync.markRetry(row.type, row.id, message, ctx.clock.now() + WAIT_MS);
}
const WAIT_MS = 3_600_000;

function stageRecord(ctx: EngineContext, row: SyncRow, kind: 'upsert' | 'deprovision', out: Outgoing, urgent: boolean): void {
  const externalId = inboundKey(row.id);
  const bulkId = `${externalId}.${row.desiredVersion}`;
  const operation: InboundOperation = inboundOperation({ externalId, bulkId, properties: out.properties, managerExternalId: managerKey(out.manager) });
  ctx.store.inbound.stage(
    {
      resourceId: row.id,
      version: row.desiredVersion,
      kind,
      externalId,
      bulkId,
      operation: operation as unknown as Record<string, unknown>,
      applies: { properties: out.properties, ...(out.manager !== undefined ? { manager: out.manager } : {}) },
      urgent,
    },
    ctx.clock.now(),
  );
  waitForService(ctx, row, `staged for the inbound provisioning app (record ${bulkId}); waiting for the provisioning service`);
}

/**
 * The users of one chunk under the inbound writer: a profile that differs from what the service last
 * reported is staged as a record (a deactivation, or a password change, also revokes the user's
 * sessions through Graph at once); a user whose profile the service holds gets the Graph side
 * (licences, a cloud user's password, revocation). Returns the ids whose tokens were revoked.
 */
export async function inboundUsers(
  ctx: EngineContext,
  work: UserWork[],
  applyUsers: (ctx: EngineContext, work: UserWork[]) => Promise<string[]>,
): Promise<string[]> {
  const graphSide: UserWork[] = [];
  const revokeNow: UserWork[] = [];
  inTransaction(ctx, () => {
    for (const w of work) {
      const latest = ctx.store.inbound.latest(w.row.id);
      if (latest && latest.state !== 'done' && latest.version >= w.row.desiredVersion) {
        waitForService(ctx, w.row, `staged for the inbound provisioning app (record ${latest.bulkId}); waiting for the provisioning service`);
        continue;
      }
      const out = outgoingOf(ctx, w);
      if (!w.snapshot || !sameProfile(ctx, w.snapshot, out)) {
        const deactivating = w.snapshot?.properties.accountEnabled !== false && out.properties.accountEnabled === false;
        const tokens = Boolean(w.desired.tokensValidFrom) && w.desired.tokensValidFrom !== (w.snapshot?.tokensValidFrom ?? w.row.appliedTokensValidFrom);
        const urgent = Boolean(w.graphId) && (deactivating || tokens);
        stageRecord(ctx, w.row, 'upsert', out, urgent);
        if (urgent && w.snapshot) revokeNow.push(w);
        continue;
      }
      if (!w.graphId) {
        waitForService(ctx, w.row, 'the provisioning service reported the user; waiting for it to appear in Entra');
        continue;
      }
      // The profile is the service's: only licences, the password (cloud users) and revocation remain.
      w.desired = {
        ...w.desired,
        properties: w.snapshot.properties,
        ...(w.snapshot.manager !== undefined ? { manager: w.snapshot.manager } : { manager: undefined }),
      };
      if (inboundConfig(ctx).target === 'ad') delete w.desired.password;
      graphSide.push(w);
    }
  });
  const revoked: string[] = [];
  if (revokeNow.length) revoked.push(...(await revokeSessions(ctx, revokeNow)));
  if (graphSide.length) revoked.push(...(await applyUsers(ctx, graphSide)));
  return revoked;
}

/**
 * Records reach Entra minutes after the 202: a deactivation or a password change revokes the user's
 * sessions through Graph now, and the snapshot records it, so the Graph side does not revoke again.
 */
async function revokeSessions(ctx: EngineContext, work: UserWork[]): Promise<string[]> {
  const ops: GraphOp[] = work.map((w, i) => ({ id: `${i}r`, ...userRequests.revokeSignInSessions(w.graphId!), write: true }));
  const out = await ctx.exec.run(ops);
  const done: string[] = [];
  inTransaction(ctx, () =>
    work.forEach((w, i) => {
      if (out.get(`${i}r`)?.kind !== 'ok') return;
      const row = ctx.store.sync.get('User', w.row.id);
      if (!row) return;
      const tvf = w.desired.tokensValidFrom;
      const snapshot = { ...(row.appliedSnapshot as UserSnapshot), ...(tvf ? { tokensValidFrom: tvf } : {}) };
      ctx.store.sync.recordProgress('User', w.row.id, { appliedSnapshot: snapshot, graphId: w.graphId, ...(tvf ? { appliedTokensValidFrom: tvf } : {}) });
      // recordProgress makes the row due: it waits for its record again.
      waitForService(ctx, row, 'staged for the inbound provisioning app; sessions revoked through Graph; waiting for the provisioning service');
      done.push(w.row.id);
    }),
  );
  return done;
}

/**
 * SCIM-deleted users under the inbound writer: the API does not delete (inbound-provisioning-api-faqs),
 * so a record with active false disables the user, and the sessions are revoked at once. With the
 * Entra target and deprovision "delete", Graph deletes the cloud user instead (the caller's path).
 */
export async function inboundDeprovision(ctx: EngineContext, rows: SyncRow[]): Promise<void> {
  const revoke: UserWork[] = [];
  inTransaction(ctx, () => {
    for (const row of rows) {
      const snapshot = (row.appliedSnapshot as UserSnapshot | null) ?? null;
      const latest = ctx.store.inbound.latest(row.id);
      if (latest && latest.state !== 'done' && latest.version >= row.desiredVersion) {
        waitForService(ctx, row, `staged for the inbound provisioning app (record ${latest.bulkId}); waiting for the provisioning service`);
        continue;
      }
      // A record sent and not reported yet may still create the user: it is disabled after it.
      const sentBefore = latest && latest.state !== 'done' ? (latest.applies as { properties?: GraphBody }).properties : undefined;
      if (snapshot?.deprovisioned || (!snapshot && !sentBefore) || (!row.graphId && !latest)) {
        // Never provisioned (or already done): nothing to take away.
        appliedRow(ctx, row, { appliedSnapshot: snapshot ? { ...snapshot, deprovisioned: true } : null });
        continue;
      }
      const properties: GraphBody = { ...(snapshot?.properties ?? sentBefore), accountEnabled: false };
      if (inboundConfig(ctx).target === 'ad') delete properties.onPremisesImmutableId;
      stageRecord(ctx, row, 'deprovision', { properties }, true);
      if (row.graphId && snapshot) revoke.push({ row, graphId: row.graphId, snapshot, desired: { tokensValidFrom: undefined } } as unknown as UserWork);
    }
  });
  if (revoke.length) {
    const out = await ctx.exec.run(revoke.map((w, i) => ({ id: `${i}r`, ...userRequests.revokeSignInSessions(w.graphId!), write: true })));
    const failed = revoke.filter((_, i) => out.get(`${i}r`)?.kind !== 'ok');
    if (failed.length)
      ctx.logger.warn(
        { users: failed.map((w) => w.row.id) },
        'inbound writer: revoking the sessions of deprovisioned users failed; the record still disables them',
      );
  }
}

/**
 * Which requests a flush sends besides full ones and those carrying an urgent record (a deactivation,
 * a deprovision, a password or token change), which always go: `full` none (between passes), `due` a
 * partial request once its oldest record has waited graph.inbound.batchWaitSeconds (the engine's
 * loop), `all` every record queued (a run or a sync-now an operator asked for).
 */
export type FlushPolicy = 'full' | 'due' | 'all';

/**
 * When the request `batch` would make goes although fewer than 50 records fill it: its oldest record's
 * queue time plus the batch wait; null for a full request, or one with an urgent record (they never wait).
 * A partial batch is the whole queue (next() returns up to 50), so its oldest record is the queue's.
 */
function partialDueAt(ctx: EngineContext, batch: InboundRecord[]): number | null {
  if (!batch.length || batch.length >= BULK_MAX_OPERATIONS || batch.some((r) => r.urgent)) return null;
  return Math.min(...batch.map((r) => r.queuedAt)) + inboundConfig(ctx).batchWaitSeconds * 1000;
}

/** When the records queued now go although they do not fill a request (status); null when none wait for more. */
export function inboundWaitsUntil(ctx: EngineContext): number | null {
  return partialDueAt(ctx, ctx.store.inbound.next(BULK_MAX_OPERATIONS, ctx.config.sync));
}

/** Whether a partial request waits for more records under `policy` (logged once per request at debug level). */
function waitsForMore(ctx: EngineContext, batch: InboundRecord[], policy: FlushPolicy): boolean {
  const dueAt = partialDueAt(ctx, batch);
  if (dueAt === null || policy === 'all' || (policy === 'due' && ctx.clock.now() >= dueAt)) return false;
  const state = stateOf(ctx);
  if (state.loggedWait !== dueAt) {
    state.loggedWait = dueAt;
    ctx.logger.debug(
      { records: batch.length, sendAt: iso(dueAt) },
      'inbound writer: a partial bulkUpload waits for more records (the daily quota counts calls, not records)',
    );
  }
  return true;
}

/** Sends queued records, 50 to a bulkUpload, within Microsoft's rate and daily quota; which partial requests go is `policy`'s. */
export async function flushInbound(ctx: EngineContext, policy: FlushPolicy): Promise<{ requests: number; records: number; stoppedBy?: string }> {
  const cfg = inboundConfig(ctx);
  const { rate } = stateOf(ctx);
  let requests = 0;
  let records = 0;
  for (;;) {
    const batch = ctx.store.inbound.next(BULK_MAX_OPERATIONS, ctx.config.sync);
    if (!batch.length || waitsForMore(ctx, batch, policy)) return { requests, records };
    const now = ctx.clock.now();
    if (ctx.store.inbound.callsSince(now - 86_400_000) >= cfg.dailyQuota) {
      const reason = `the inbound provisioning app's daily quota of ${cfg.dailyQuota} bulkUpload calls is used up; records wait`;
      ctx.logger.warn({ dailyQuota: cfg.dailyQuota }, reason);
      return { requests, records, stoppedBy: reason };
    }
    await rate.acquire();
    const spec = inboundRequests.bulkUpload(
      cfg.servicePrincipalId,
      cfg.jobId,
      inboundBulkRequest(batch.map((r) => r.operation as unknown as InboundOperation)),
    );
    ctx.store.inbound.recordCall(ctx.clock.now());
    let res;
    try {
      res = await ctx.graph.send({ ...spec, write: false });
    } catch (err) {
      ctx.logger.warn({ err: (err as Error).message }, 'inbound writer: bulkUpload failed before an answer; records stay queued');
      return { requests, records, stoppedBy: (err as Error).message };
    }
    requests++;
    const outcome = classifyGraphResponse(res, { nowMs: ctx.clock.now(), secrets: ctx.secrets });
    if (outcome.ok) {
      ctx.store.inbound.markSent(
        batch.map((r) => r.seq),
        ctx.clock.now(),
      );
      records += batch.length;
      continue;
    }
    if (outcome.throttled) {
      rate.pause(outcome.retryAfterMs ?? 5000);
      continue;
    }
    if (outcome.retryable) {
      ctx.logger.warn({ status: outcome.status, err: outcome.message }, 'inbound writer: bulkUpload refused for now; records stay queued');
      return { requests, records, stoppedBy: outcome.message };
    }
    // Refused for good (400 Invalid Data Format, 403, 404): each user of the request shows why.
    inTransaction(ctx, () => {
      for (const r of batch) {
        ctx.store.inbound.settle(r.seq, 'done', { outcome: `refused: ${outcome.code}` });
        const row = ctx.store.sync.get('User', r.resourceId);
        if (row) failRow(ctx, row, `the inbound provisioning app refused the bulkUpload (HTTP ${outcome.status} ${outcome.code}: ${outcome.message})`);
      }
    });
  }
}

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
  const resume = ctx.queries.getMeta(RESUME_KEY);
  const under = state.poll;
  if (!under && !opts.force && now - last < pollMs(ctx)) return { settled: 0 };
  // A poll, and each page of it, is read only when the reports service's budget has a read free now:
  // waiting for one held the engine's loop, and the urgent changes it sends, up to 10 s a page (5 reads
  // per 10 s). The page the budget does not allow now is read by a later run (state.poll).
  if (!state.reads.tryAcquire()) return { settled: 0 };
  state.poll = undefined;
  let settled = 0;
  let since: number;
  let url: string | null;
  let newest: number;
  let pages: number;
  if (under) ({ url, since, newest, pages } = under);
  else {
    ctx.queries.setMeta(LAST_POLL_KEY, String(now));
    settled = await resolveAwaiting(ctx);
    const oldest = ctx.store.inbound.oldestSentAt() ?? now;
    const cursor = ctx.queries.getMeta(CURSOR_KEY);
    // From where the last read left off (LOG_LAG_MS behind its newest entry, or where a read cut short
    // stopped), or the first 202 still followed. (No entry of a record followed now is older than its 202.)
    since = Math.max(oldest - CLOCK_SKEW_MS, cursor ? Date.parse(cursor) : -Infinity, resume ? Date.parse(resume) : -Infinity);
    url = inboundRequests.provisioningLogs(inboundConfig(ctx).jobId, iso(since)).url;
    newest = since;
    pages = 0;
  }
  for (let read = 0; url && pages < MAX_LOG_PAGES; read++) {
    // (This run's first read was taken above.)
    if (read > 0 && !state.reads.tryAcquire()) {
      state.poll = { url, since, newest, pages };
      break;
    }
    const res = await ctx.graph.send({ method: 'GET', url, write: false });
    const outcome = classifyGraphResponse(res, { nowMs: ctx.clock.now(), secrets: ctx.secrets });
    if (!outcome.ok && outcome.throttled) {
      // Another reader of the same app's budget (a second bridge, a script): the same page once the service allows.
      state.reads.pause(outcome.retryAfterMs ?? REPORTS_LIMIT.perSeconds * 1000);
      state.poll = { url, since, newest, pages };
      break;
    }
    pages++;
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
      if (Number.isFinite(at)) newest = Math.max(newest, at);
      if (await settleEntry(ctx, entry, at)) settled++;
    }
    const next = body['@odata.nextLink'];
    url = next ? next.replace(/^https?:\/\/[^/]+/i, '').replace(/^\/v1\.0/i, '') : null;
  }
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
