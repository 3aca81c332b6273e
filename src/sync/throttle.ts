// Write-budget scheduler: Microsoft's identity limit is 3,000 writes per 150 s per app and
// tenant (learn.microsoft.com/graph/throttling-limits, "Identity and access service limits"),
// enforced as a token bucket: `writes` tokens, refilled continuously at writes/perSeconds. The
// engine keeps its own bucket of the same size, refilled a little slower (`margin`), and spends a
// token per write (each item of a $batch) before sending, so it never asks for more than the
// budget allows over any interval. Retry-After and per-item 429s pause every acquisition until
// the time Graph named (a restart may find Graph's bucket emptier than ours, another app of the
// tenant may share it, or the configured budget may be larger than the tenant's). Graph's bucket is
// empty then: the first 429 of an episode also empties ours and halves its refill rate, which
// grows back by a tenth of the configured rate for every RECOVERY_MS without a 429, so the engine
// settles near what Graph grants instead of overrunning it again after each pause. Waiters are served
// in arrival order, except that an urgent one (a change to a resource already in Graph) takes the
// next free tokens before any other waiter, without waiting for a larger batch ahead of it; after
// URGENT_STREAK urgent grants in a row a waiting ordinary one goes first, so neither side starves.
import type { Clock } from './clock';

export interface WriteBudget {
  writes: number;
  perSeconds: number;
}

export interface Throttle {
  /** Waits until `n` writes fit in the budget and no pause is in force, then spends them; `urgent` goes ahead of the others. */
  acquire(n: number, urgent?: boolean): Promise<void>;
  /** Graph answered 429 (or Retry-After): spend nothing until `ms` from now. */
  pause(ms: number): void;
  /** Writes that would be sent now without waiting. */
  available(): number;
  /** Writes spent since the start. */
  spent(): number;
  pausedUntil(): number;
}

/** Urgent grants in a row before an ordinary waiter is served (an urgent grant is a write or two, an ordinary one up to 20). */
const URGENT_STREAK = 4;
/** The refill rate after 429s never falls below this share of the configured one. */
const MIN_RATE_SHARE = 1 / 4;
/** Time without a 429 after which the refill rate grows back by a tenth of the configured one. */
const RECOVERY_MS = 15_000;

export function createThrottle(budget: WriteBudget, clock: Clock, options: { margin?: number } = {}): Throttle {
  if (!(budget.writes > 0) || !(budget.perSeconds > 0)) throw new RangeError('write budget must be positive');
  const capacity = budget.writes;
  const configuredRate = (budget.writes / (budget.perSeconds * 1000)) * (1 - (options.margin ?? 0));
  /** The refill rate now: the configured one, or less after 429s. */
  let ratePerMs = configuredRate;
  /** Since when no 429 arrived (the end of the last pause). */
  let calmSince = clock.now();
  let tokens = capacity;
  let updated = clock.now();
  let pauseUntil = 0;
  let spentTotal = 0;
  const waiters: { want: number; urgent: boolean; resolve: () => void }[] = [];
  let serving = false;
  /** Urgent waiters served since the last ordinary one. */
  let streak = 0;
  /** Wakes the server's sleep when an urgent waiter arrives, so it takes the next free token. */
  let kick: (() => void) | null = null;

  const refill = (now: number) => {
    tokens = Math.min(capacity, tokens + (now - updated) * ratePerMs);
    updated = now;
    // The rate grows back step by step while Graph stays quiet (a step applies from its own time on: the
    // tokens above were refilled at the rate before it, a little less than they could have been).
    if (ratePerMs < configuredRate && now - calmSince >= RECOVERY_MS) {
      const steps = Math.floor((now - calmSince) / RECOVERY_MS);
      ratePerMs = Math.min(configuredRate, ratePerMs + (steps * configuredRate) / 10);
      calmSince += steps * RECOVERY_MS;
    }
  };

  async function sleepOrKick(ms: number): Promise<void> {
    await Promise.race([clock.sleep(ms), new Promise<void>((resolve) => (kick = resolve))]);
    kick = null;
  }

  /** One server for all waiters: the first urgent waiter, else the oldest, is served next. */
  async function serve(): Promise<void> {
    serving = true;
    try {
      while (waiters.length) {
        const urgentAt = waiters.findIndex((w) => w.urgent);
        const ordinaryWaits = waiters.some((w) => !w.urgent);
        const i = urgentAt >= 0 && (streak < URGENT_STREAK || !ordinaryWaits) ? urgentAt : waiters.findIndex((w) => !w.urgent);
        const w = waiters[i];
        const now = clock.now();
        if (pauseUntil > now) {
          await sleepOrKick(pauseUntil - now);
          continue;
        }
        refill(now);
        if (tokens >= w.want) {
          tokens -= w.want;
          spentTotal += w.want;
          waiters.splice(i, 1);
          streak = w.urgent ? streak + 1 : 0;
          w.resolve();
          continue;
        }
        await sleepOrKick(Math.max(1, Math.ceil((w.want - tokens) / ratePerMs)));
      }
    } finally {
      serving = false;
    }
  }

  return {
    acquire(n, urgent = false) {
      return new Promise<void>((resolve) => {
        waiters.push({ want: Math.min(n, capacity), urgent, resolve });
        if (urgent) kick?.();
        if (!serving) void serve();
      });
    },
    pause(ms) {
      const now = clock.now();
      refill(now);
      // The parallel 429s of one overrun (every item of a $batch, the batches in flight) arrive while
      // the first one's pause is in force: only that first one empties the bucket and halves the rate.
      // A 429 from another limit (resource units) costs a window's burst and half the rate for a while, not the rate itself.
      if (pauseUntil <= now) {
        tokens = 0;
        ratePerMs = Math.max(configuredRate * MIN_RATE_SHARE, ratePerMs / 2);
      }
      pauseUntil = Math.max(pauseUntil, now + Math.max(0, ms));
      calmSince = Math.max(calmSince, pauseUntil);
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

/** At most `requests` grants in any `perSeconds` window, in arrival order. */
export interface WindowLimit {
  /** Waits until one more request fits in the window and no pause is in force, then counts it. */
  acquire(): Promise<void>;
  /** Counts a request only if one fits now and nobody waits in acquire(); never waits. */
  tryAcquire(): boolean;
  /** The service answered 429 (Retry-After): nothing is granted until `ms` from now. */
  pause(ms: number): void;
}

/**
 * A limit stated as "N requests per S seconds" where the service counts a sliding window (the inbound
 * provisioning app's bulkUpload, the reports service): a token bucket of N refilled over S seconds lets
 * 2N through in the first S seconds, and the service answers the excess with 429. This grants a request
 * only when fewer than N were granted in the last S seconds.
 */
export function createWindowLimit(limit: { requests: number; perSeconds: number }, clock: Clock): WindowLimit {
  if (!(limit.requests > 0) || !(limit.perSeconds > 0)) throw new RangeError('limit must be positive');
  const windowMs = limit.perSeconds * 1000;
  const granted: number[] = [];
  let pausedUntil = 0;
  let queue: Promise<void> = Promise.resolve();
  let waiting = 0;
  /** How long until one more request fits (0: now), having dropped the grants that left the window. */
  function waitAt(now: number): number {
    while (granted.length && granted[0] <= now - windowMs) granted.shift();
    return Math.max(pausedUntil - now, granted.length >= limit.requests ? granted[0] + windowMs - now : 0);
  }
  async function take(): Promise<void> {
    for (;;) {
      const now = clock.now();
      const wait = waitAt(now);
      if (wait <= 0) {
        granted.push(now);
        return;
      }
      await clock.sleep(wait);
    }
  }
  return {
    acquire: () => {
      waiting++;
      return (queue = queue.then(take).finally(() => waiting--));
    },
    tryAcquire() {
      const now = clock.now();
      if (waiting || waitAt(now) > 0) return false;
      granted.push(now);
      return true;
    },
    pause(ms) {
      pausedUntil = Math.max(pausedUntil, clock.now() + ms);
    },
  };
}
