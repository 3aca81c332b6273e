// The inbound writer (graph.writer "inbound", docs/inbound-writer.md). User profiles, deactivations
// and deprovisions go to an API-driven inbound provisioning app as SCIM bulk records; the Entra
// provisioning service applies them minutes later and reports each in the provisioning logs.
// Licences, the password of a cloud user and token revocation stay on Graph, once the user exists.
//
// A record's life: staged (stored in store.inbound before anything is sent) -> sent (the 202) ->
// reported (the log entry of its externalId after the 202: success, skipped or failure). The row of
// the user waits meanwhile; a success records the Graph id and what the record put in Graph, and the
// next pass does the Graph side. A stop at any point resumes from the store.
// This file stages and sends records; inbound-follow.ts reads the logs and settles them; inbound-state.ts
// holds what both share.
import { classifyGraphResponse } from '../graph/errors';
import { BULK_MAX_OPERATIONS, inboundBulkRequest, inboundKey, inboundOperation, inboundRequests, type InboundOperation } from '../graph/inbound';
import { userRequests } from '../graph/requests';
import type { GraphBody } from '../graph/paths';
import type { InboundRecord, SyncRow } from '../store';
import { type EngineContext, appliedRow, failRow, inTransaction } from './context';
import { inboundConfig, iso, stateOf } from './inbound-state';
import type { GraphOp } from './ops';
import type { UserSnapshot, UserWork } from './user-work';

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
 * When the request the queue makes next goes although fewer than 50 records fill it: its oldest record's
 * queue time plus the batch wait; null when none wait, for a full request, or one with an urgent record
 * (they never wait). A partial request is the whole queue (next() returns up to 50), so the queue's head
 * answers it without reading the records (status asks on every call; the flush before each request).
 */
export function inboundWaitsUntil(ctx: EngineContext): number | null {
  const head = ctx.store.inbound.queuedHead(BULK_MAX_OPERATIONS);
  if (head.oldestQueuedAt === null || head.count >= BULK_MAX_OPERATIONS || head.urgent) return null;
  return head.oldestQueuedAt + inboundConfig(ctx).batchWaitSeconds * 1000;
}

/** Whether a partial request waits for more records under `policy` (logged once per request at debug level). */
function waitsForMore(ctx: EngineContext, batch: InboundRecord[], policy: FlushPolicy): boolean {
  const dueAt = inboundWaitsUntil(ctx);
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
