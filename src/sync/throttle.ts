// Write-budget scheduler: Microsoft's identity limit is 3,000 writes per 150 s per app and
// tenant (learn.microsoft.com/graph/throttling-limits, "Identity and access service limits").
// A token bucket whose tokens come back exactly `perSeconds` after they were spent: in any
// window of that length at most `writes` are sent, so the budget is never exceeded (a bucket
// refilled continuously from full could spend twice its size in one window). Each write of a
// $batch spends one token. Retry-After and per-item 429s pause every acquisition until the time
// Graph named.
import type { Clock } from './clock';

export interface WriteBudget {
  writes: number;
  perSeconds: number;
}

export interface Throttle {
  /** Waits until `n` writes fit in the budget and no pause is in force, then spends them. */
  acquire(n: number): Promise<void>;
  /** Graph answered 429 (or Retry-After): spend nothing until `ms` from now. */
  pause(ms: number): void;
  /** Writes that would be sent now without waiting. */
  available(): number;
  /** Writes spent within the current window. */
  spent(): number;
  pausedUntil(): number;
}

export function createThrottle(budget: WriteBudget, clock: Clock, options: { marginMs?: number } = {}): Throttle {
  if (!(budget.writes > 0) || !(budget.perSeconds > 0)) throw new RangeError('write budget must be positive');
  const windowMs = budget.perSeconds * 1000 + (options.marginMs ?? 0);
  // Timestamps of spent writes, oldest first; a ring would be leaner, an array of 3,000 is fine.
  const spentAt: number[] = [];
  let head = 0;
  let pauseUntil = 0;
  let queue: Promise<void> = Promise.resolve();

  const expire = (now: number) => {
    while (head < spentAt.length && spentAt[head] + windowMs <= now) head++;
    if (head > 4096) {
      spentAt.splice(0, head);
      head = 0;
    }
  };
  const inWindow = () => spentAt.length - head;

  async function take(n: number): Promise<void> {
    const want = Math.min(n, budget.writes);
    for (;;) {
      const now = clock.now();
      if (pauseUntil > now) {
        await clock.sleep(pauseUntil - now);
        continue;
      }
      expire(now);
      const free = budget.writes - inWindow();
      if (free >= want) {
        for (let i = 0; i < want; i++) spentAt.push(now);
        return;
      }
      // The (want - free)-th oldest spent write frees the last token we need.
      const freedAt = spentAt[head + (want - free) - 1] + windowMs;
      await clock.sleep(Math.max(1, freedAt - now));
    }
  }

  return {
    acquire(n) {
      // FIFO: one waiter at a time, so a large batch is not starved by single writes.
      const turn = queue.then(() => take(n));
      queue = turn.catch(() => undefined);
      return turn;
    },
    pause(ms) {
      pauseUntil = Math.max(pauseUntil, clock.now() + Math.max(0, ms));
    },
    available() {
      const now = clock.now();
      if (pauseUntil > now) return 0;
      expire(now);
      return budget.writes - inWindow();
    },
    spent() {
      expire(clock.now());
      return inWindow();
    },
    pausedUntil: () => pauseUntil,
  };
}
