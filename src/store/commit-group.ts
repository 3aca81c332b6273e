// Group commit for SCIM creates. A create's own transaction (row, values, attribution, audit,
// dirty mark) is still one unit that holds or goes as a whole, but the creates that arrive in the
// same turn of the event loop share one COMMIT: each runs as a savepoint of one transaction taken
// at the end of that turn, and each caller hears its outcome only after that COMMIT, so no 201 goes
// out before its data is in the database. A commit writes every page the transaction changed to the
// WAL; creates one after another change many of the same pages (the tail of each table and of each
// index on an increasing key: rowids, times, dirty_seq, audit ids), which a shared commit writes once.
//
// Only writes that read nothing outside their own transaction belong here: a create checks what it
// must (userName taken) inside its savepoint. An update reads the row it changes before its
// transaction (If-Match, the version), so two in one group would refuse each other; updates commit alone.
import type { Database } from 'better-sqlite3';

interface Pending {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

export interface CommitGroup {
  /** Runs `write` (a store write) with the writes queued in the same event-loop turn; resolves after their COMMIT. */
  run<T>(write: () => T): Promise<T>;
}

/** `maxWrites` bounds one transaction (and so the delay of the last write in it). */
export function createCommitGroup(db: Database, maxWrites = 64): CommitGroup {
  const queue: Pending[] = [];

  function flush(): void {
    const batch = queue.splice(0, maxWrites);
    if (queue.length) setImmediate(flush);
    const outcomes: { ok: boolean; value: unknown }[] = [];
    try {
      db.transaction(() => {
        for (const p of batch) {
          // Nested in the group's transaction, each write is a savepoint: one that throws (a
          // userName taken) is rolled back alone and the others go on.
          try {
            outcomes.push({ ok: true, value: db.transaction(p.run)() });
          } catch (err) {
            outcomes.push({ ok: false, value: err });
          }
        }
      })();
    } catch (err) {
      // The COMMIT itself failed (a full disk, a lock held past busy_timeout): nothing of the group is in.
      for (const p of batch) p.reject(err);
      return;
    }
    batch.forEach((p, i) => (outcomes[i].ok ? p.resolve(outcomes[i].value) : p.reject(outcomes[i].value)));
  }

  return {
    run<T>(write: () => T): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        if (queue.length === 0) setImmediate(flush);
        queue.push({ run: write, resolve: resolve as (value: unknown) => void, reject });
      });
    },
  };
}
