// Write-budget scheduler: Microsoft's identity limit is 3,000 writes per 150 s per app and
// tenant (learn.microsoft.com/graph/throttling-limits, "Identity and access service limits"),
// enforced as a token bucket: `writes` tokens, refilled continuously at writes/perSeconds. The
// engine keeps its own bucket of the same size, refilled a little slower (`margin`), and spends a
// token per write (each item of a $batch) before sending, so it never asks for more than the
// budget allows over any interval. Retry-After and per-item 429s pause every acquisition until
// the time Graph named (a restart may find Graph's bucket emptier than ours).
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
  /** Writes spent since the start. */
  spent(): number;
  pausedUntil(): number;
}

export function createThrottle(budget: WriteBudget, clock: Clock, options: { margin?: number } = {}): Throttle {
  if (!(budget.writes > 0) || !(budget.perSeconds > 0)) throw new RangeError('write budget must be positive');
  const capacity = budget.writes;
  const ratePerMs = (budget.writes / (budget.perSeconds * 1000)) * (1 - (options.margin ?? 0));
  let tokens = capacity;
  let updated = clock.now();
  let pauseUntil = 0;
  let spentTotal = 0;
  let queue: Promise<void> = Promise.resolve();

  const refill = (now: number) => {
    tokens = Math.min(capacity, tokens + (now - updated) * ratePerMs);
    updated = now;
  };

  async function take(n: number): Promise<void> {
    const want = Math.min(n, capacity);
    for (;;) {
      const now = clock.now();
      if (pauseUntil > now) {
        await clock.sleep(pauseUntil - now);
        continue;
      }
      refill(now);
      if (tokens >= want) {
        tokens -= want;
        spentTotal += want;
        return;
      }
      await clock.sleep(Math.max(1, Math.ceil((want - tokens) / ratePerMs)));
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
      // Only the pause: a 429 may come from a limit other than the write budget (resource units,
      // another service), and emptying the bucket on each would starve the engine for a window.
      pauseUntil = Math.max(pauseUntil, clock.now() + Math.max(0, ms));
    },
    available() {
      const now = clock.now();
      if (pauseUntil > now) return 0;
      refill(now);
      return Math.floor(tokens);
    },
    spent: () => spentTotal,
    pausedUntil: () => pauseUntil,
  };
}
