// Group commit for SCIM writes. Each write (a create, replace, patch or delete: its reads, checks
// and store write) is still one unit that holds or goes as a whole with its attribution, audit row
// and dirty mark, but the writes that reach the routes in the same turn of the event loop share one
// COMMIT: each runs, whole, as a savepoint of one transaction taken at the end of that turn, so it
// reads what the writes before it in the group left (two PATCHes of one user in one turn apply one
// after the other, as they would alone). Each caller hears its outcome only after that COMMIT: no
// answer goes out before its data is in the database. A commit writes every page the transaction
// changed to the WAL; writes one after another change many of the same pages (the tail of each table
// and of each index on an increasing key: rowids, times, dirty_seq, audit ids), which a shared commit
// writes once.
import type { Database } from 'better-sqlite3';

interface Outcome {
  ok: boolean;
  value: unknown;
}

interface Pending {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

export interface CommitGroup {
  /** Runs `write` (synchronous: reads and store writes) with the others queued in the same event-loop turn; settles after their COMMIT. */
  run<T>(write: () => T): Promise<T>;
}

export interface CommitGroupBounds {
  maxWrites?: number;
  maxMs?: number;
  /** The clock that measures maxMs (milliseconds). */
  now?: () => number;
}

/**
 * One group ends at `maxWrites` writes or once its writes have taken `maxMs` (whichever comes first):
 * the event loop is never held much longer than by the longest single write, and the rest of the
 * queue goes on in the next turn.
 */
export function createCommitGroup(db: Database, { maxWrites = 64, maxMs = 10, now = () => performance.now() }: CommitGroupBounds = {}): CommitGroup {
  const queue: Pending[] = [];
  // Nested in the group's transaction, each write is a savepoint: one that throws (a userName
  // taken, a stale If-Match) is rolled back alone and the others go on. Both wrappers are made
  // once, not for each group and each write.
  const savepoint = db.transaction((write: () => unknown) => write());
  const attempt = (write: () => unknown): Outcome => {
    try {
      return { ok: true, value: savepoint(write) };
    } catch (err) {
      return { ok: false, value: err };
    }
  };
  /** Moves writes from the queue to `batch` and runs them, until a bound or the end of the queue. */
  const group = db.transaction((batch: Pending[], outcomes: Outcome[]) => {
    const started = now();
    while (queue.length > 0 && batch.length < maxWrites) {
      const p = queue.shift()!;
      batch.push(p);
      outcomes.push(attempt(p.run));
      if (now() - started >= maxMs) break;
    }
  });

  function flush(): void {
    const batch: Pending[] = [];
    let outcomes: Outcome[] = [];
    try {
      group(batch, outcomes);
    } catch (err) {
      // The COMMIT itself failed (a full disk, a lock held past busy_timeout): nothing of the group is in.
      outcomes = batch.map(() => ({ ok: false, value: err }));
    } finally {
      if (queue.length > 0) setImmediate(flush);
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
