// Exponential backoff with full jitter for 5xx and network errors (AWS architecture blog,
// "Exponential Backoff And Jitter"): delay = random(0, min(cap, base * 2^attempt)).
// Graph's own Retry-After, when given, wins over the computed delay.
export interface BackoffOptions {
  baseMs?: number;
  capMs?: number;
  random?: () => number;
}

export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const base = options.baseMs ?? 1000;
  const cap = options.capMs ?? 5 * 60_000;
  const random = options.random ?? Math.random;
  const ceiling = Math.min(cap, base * 2 ** Math.max(0, Math.min(attempt, 30)));
  // Never zero: a retry in the same tick would hit the same failure.
  return Math.max(Math.min(base, ceiling) / 10, Math.floor(random() * ceiling));
}

/** The delay before retry `attempt` of an error: Retry-After when Graph named one, else backoff. */
export function retryDelay(attempt: number, retryAfterMs: number | undefined, options: BackoffOptions = {}): number {
  if (retryAfterMs !== undefined && retryAfterMs >= 0) return retryAfterMs;
  return backoffDelay(attempt, options);
}
