// The inbound writer's queue (graph.writer "inbound"; migration 12): user records for the inbound
// provisioning app, from staged to reported. A record is stored before its bulkUpload is sent; the
// 202 marks it sent; the provisioning log's entry settles it. Nothing here talks to Graph.
import type { Database } from 'better-sqlite3';

export type InboundRecordState = 'queued' | 'sent' | 'awaiting' | 'done';
/** upsert: create or update (the service decides); deprovision: a deleted user's active: false. */
export type InboundRecordKind = 'upsert' | 'deprovision';

export interface InboundRecord {
  seq: number;
  resourceId: string;
  version: number;
  kind: InboundRecordKind;
  externalId: string;
  bulkId: string;
  /** The SCIM operation as sent (never a password). */
  operation: Record<string, unknown>;
  /** What the record puts in Graph once the service reports it (the engine's snapshot of it). */
  applies: Record<string, unknown>;
  urgent: boolean;
  state: InboundRecordState;
  queuedAt: number;
  sentAt: number | null;
  attempts: number;
  logId: string | null;
  targetId: string | null;
  outcome: string | null;
}

interface Row {
  seq: number;
  resource_id: string;
  version: number;
  kind: InboundRecordKind;
  external_id: string;
  bulk_id: string;
  operation: string;
  applies: string;
  urgent: number;
  state: InboundRecordState;
  queued_at: number;
  sent_at: number | null;
  attempts: number;
  log_id: string | null;
  target_id: string | null;
  outcome: string | null;
}

const toRecord = (r: Row): InboundRecord => ({
  seq: r.seq,
  resourceId: r.resource_id,
  version: r.version,
  kind: r.kind,
  externalId: r.external_id,
  bulkId: r.bulk_id,
  operation: JSON.parse(r.operation) as Record<string, unknown>,
  applies: JSON.parse(r.applies) as Record<string, unknown>,
  urgent: r.urgent === 1,
  state: r.state,
  queuedAt: r.queued_at,
  sentAt: r.sent_at,
  attempts: r.attempts,
  logId: r.log_id,
  targetId: r.target_id,
  outcome: r.outcome,
});

export function createInboundQueue(db: Database) {
  const q = {
    latest: db.prepare(`SELECT * FROM inbound_records WHERE resource_id = ? ORDER BY seq DESC LIMIT 1`),
    dropQueued: db.prepare(`DELETE FROM inbound_records WHERE resource_id = ? AND state = 'queued' RETURNING queued_at`).pluck(),
    insert: db.prepare(`INSERT INTO inbound_records (resource_id, version, kind, external_id, bulk_id, operation, applies, urgent, state, queued_at)
      VALUES (@resourceId, @version, @kind, @externalId, @bulkId, @operation, @applies, @urgent, 'queued', @now)`),
    urgentQueued: db.prepare(`SELECT * FROM inbound_records WHERE state = 'queued' AND urgent = 1 ORDER BY seq LIMIT ?`),
    otherQueued: db.prepare(`SELECT * FROM inbound_records WHERE state = 'queued' AND urgent = 0 ORDER BY seq LIMIT ?`),
    // The first `limit` queued records in the queue index's order (inbound_records_queue): a count that stops there.
    queuedHead: db.prepare(`SELECT count(*) AS count, coalesce(max(urgent), 0) AS urgent, min(queued_at) AS oldest FROM
      (SELECT urgent, queued_at FROM inbound_records WHERE state = 'queued' ORDER BY urgent DESC, seq LIMIT ?)`),
    markSent: db.prepare(`UPDATE inbound_records SET state = 'sent', sent_at = ?, attempts = attempts + 1 WHERE seq = ? AND state = 'queued'`),
    requeue: db.prepare(`UPDATE inbound_records SET state = 'queued', sent_at = NULL, log_id = ? WHERE seq = ?`),
    settle: db.prepare(`UPDATE inbound_records SET state = @state, log_id = coalesce(@logId, log_id), target_id = coalesce(@targetId, target_id),
      outcome = @outcome WHERE seq = @seq`),
    // state IN (...) repeats the condition of the partial index inbound_records_key, which SQLite uses only then.
    oldestSentFor: db.prepare(`SELECT * FROM inbound_records
      WHERE external_id = ? AND state IN ('sent', 'awaiting') AND state = 'sent' AND sent_at <= ? ORDER BY seq LIMIT 1`),
    logSeen: db.prepare(`SELECT 1 FROM inbound_records WHERE log_id = ?`).pluck(),
    inFlight: db.prepare(`SELECT * FROM inbound_records WHERE state IN ('sent', 'awaiting') ORDER BY seq LIMIT ?`),
    awaiting: db.prepare(`SELECT * FROM inbound_records WHERE state = 'awaiting' ORDER BY seq`),
    oldestSent: db.prepare(`SELECT min(sent_at) FROM inbound_records WHERE state IN ('sent', 'awaiting')`).pluck(),
    counts: db.prepare(`SELECT state, count(*) AS n FROM inbound_records GROUP BY state`),
    pruneDone: db.prepare(`DELETE FROM inbound_records WHERE state = 'done' AND resource_id = ? AND seq < ?`),
    call: db.prepare(`INSERT INTO inbound_calls (at) VALUES (?)`),
    callsSince: db.prepare(`SELECT count(*) FROM inbound_calls WHERE at > ?`).pluck(),
    pruneCalls: db.prepare(`DELETE FROM inbound_calls WHERE at <= ?`),
  };
  return {
    /** The resource's newest record, whatever its state (null when it never had one). */
    latest(resourceId: string): InboundRecord | null {
      const r = q.latest.get(resourceId) as Row | undefined;
      return r ? toRecord(r) : null;
    },
    /**
     * Stores a record to send. A record of the same resource still queued is superseded (only the
     * newest state of a user is worth sending) and its queue time kept: a user changed again and again
     * still goes within the writer's batch wait of its first change. Records already sent stay and are followed.
     */
    stage(input: Omit<InboundRecord, 'seq' | 'state' | 'queuedAt' | 'sentAt' | 'attempts' | 'logId' | 'targetId' | 'outcome'>, now: number): void {
      db.transaction(() => {
        const superseded = q.dropQueued.all(input.resourceId) as number[];
        q.insert.run({
          ...input,
          operation: JSON.stringify(input.operation),
          applies: JSON.stringify(input.applies),
          urgent: input.urgent ? 1 : 0,
          now: superseded.length ? Math.min(...superseded) : now,
        });
      })();
    },
    /**
     * The next records to send, `limit` at most: urgent ones first, oldest first, with at least
     * ceil(limit / (creationEvery + 1)) of the others when both wait (the engine's priority rules).
     */
    next(limit: number, order: { order: 'priority' | 'fifo'; creationEvery: number }): InboundRecord[] {
      if (order.order === 'fifo') {
        const all = [...(q.urgentQueued.all(limit) as Row[]), ...(q.otherQueued.all(limit) as Row[])].sort((a, b) => a.seq - b.seq);
        return all.slice(0, limit).map(toRecord);
      }
      const others = q.otherQueued.all(limit) as Row[];
      const reserve = others.length ? Math.min(others.length, Math.ceil(limit / (order.creationEvery + 1))) : 0;
      const urgent = q.urgentQueued.all(limit - reserve) as Row[];
      return [...urgent, ...others.slice(0, limit - urgent.length)].map(toRecord);
    },
    /**
     * What says whether the next request is partial, without reading the records: how many are queued
     * (`limit` at most), whether any is urgent, and the oldest queue time (of the whole queue when fewer
     * than `limit` wait). For status, which asks on every call.
     */
    queuedHead(limit: number): { count: number; urgent: boolean; oldestQueuedAt: number | null } {
      const r = q.queuedHead.get(limit) as { count: number; urgent: number; oldest: number | null };
      return { count: r.count, urgent: r.urgent === 1, oldestQueuedAt: r.oldest };
    },
    /** The 202 arrived: the records are staged with the service (sent_at on the engine's clock). */
    markSent(seqs: readonly number[], at: number): void {
      db.transaction(() => {
        for (const seq of seqs) q.markSent.run(at, seq);
      })();
    },
    /** Back to the queue: the service failed on the record (its log entry, kept as seen, is `logId`). */
    requeue(seq: number, logId: string | null = null): void {
      q.requeue.run(logId, seq);
    },
    settle(seq: number, state: 'awaiting' | 'done', opts: { logId?: string | null; targetId?: string | null; outcome: string }): void {
      q.settle.run({ seq, state, logId: opts.logId ?? null, targetId: opts.targetId ?? null, outcome: opts.outcome });
    },
    /** The oldest record of this source key sent at or before `at`: the one a log entry of that time reports. */
    oldestSentFor(externalId: string, at: number): InboundRecord | null {
      const r = q.oldestSentFor.get(externalId, at) as Row | undefined;
      return r ? toRecord(r) : null;
    },
    logSeen: (logId: string): boolean => q.logSeen.get(logId) !== undefined,
    /** Records sent and not settled (sent or awaiting), oldest first. */
    inFlight: (limit = 1000): InboundRecord[] => (q.inFlight.all(limit) as Row[]).map(toRecord),
    /** Records the service reported whose user Entra did not show yet, oldest first. */
    awaiting: (): InboundRecord[] => (q.awaiting.all() as Row[]).map(toRecord),
    oldestSentAt: (): number | null => (q.oldestSent.get() as number | null) ?? null,
    counts(): Record<InboundRecordState, number> {
      const out: Record<InboundRecordState, number> = { queued: 0, sent: 0, awaiting: 0, done: 0 };
      for (const r of q.counts.all() as { state: InboundRecordState; n: number }[]) out[r.state] = r.n;
      return out;
    },
    /** Settled records older than the resource's newest are history: dropped. */
    pruneSettled(resourceId: string, beforeSeq: number): void {
      q.pruneDone.run(resourceId, beforeSeq);
    },
    /** One bulkUpload call made at `at` (Microsoft's daily quota counts calls). */
    recordCall(at: number): void {
      q.call.run(at);
    },
    callsSince(at: number): number {
      q.pruneCalls.run(at - 86_400_000);
      return q.callsSince.get(at) as number;
    },
  };
}
