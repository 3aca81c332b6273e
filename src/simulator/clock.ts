// Simulated time for budgets: with timeScale X, one real second counts as X seconds, so tests
// exhaust and refill Microsoft's real budgets (e.g. 3,000 writes per 150 s) X times faster.
export interface Clock {
  /** Simulated milliseconds. */
  now(): number;
  /** Real milliseconds for a simulated duration. */
  toReal(simMs: number): number;
  readonly timeScale: number;
}

export function createClock(timeScale = 1): Clock {
  if (!(timeScale > 0)) throw new Error(`timeScale must be positive, got ${timeScale}`);
  const origin = Date.now();
  return {
    timeScale,
    now: () => origin + (Date.now() - origin) * timeScale,
    toReal: (simMs) => simMs / timeScale,
  };
}
