// Time as the engine sees it. Injectable so tests and the benchmark can run Graph's
// 150-second budget window on a scaled clock (the simulator scales its own the same way).
export interface Clock {
  now(): number;
  /** Resolves after `ms` of this clock's time; once `signal` aborts, the wait is dropped (never resolves, holds no timer). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

// A timer that an aborted wait clears, so a dropped wait keeps no process alive.
function timerSleep(realMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, Math.max(0, realMs));
    signal?.addEventListener('abort', () => clearTimeout(timer), { once: true });
  });
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => timerSleep(ms, signal),
};

/** A clock that runs `scale` times faster than wall time, starting from wall time now. */
export function scaledClock(scale: number): Clock {
  const origin = Date.now();
  return {
    now: () => origin + (Date.now() - origin) * scale,
    sleep: (ms, signal) => timerSleep(ms / scale, signal),
  };
}

/** A manual clock for unit tests: sleep resolves when advance() moves time past the deadline. */
export interface ManualClock extends Clock {
  advance(ms: number): Promise<void>;
  pending(): number;
}

export function manualClock(start = 0): ManualClock {
  let now = start;
  let sleepers: { at: number; resolve: () => void }[] = [];
  // A macrotask turn lets every chained promise settle before time moves on.
  const flush = () => new Promise<void>((resolve) => setImmediate(resolve));
  return {
    now: () => now,
    sleep(ms, signal) {
      return new Promise<void>((resolve) => {
        const sleeper = { at: now + Math.max(0, ms), resolve };
        sleepers.push(sleeper);
        signal?.addEventListener('abort', () => (sleepers = sleepers.filter((s) => s !== sleeper)), { once: true });
      });
    },
    async advance(ms) {
      const target = now + ms;
      for (;;) {
        await flush();
        const due = sleepers.filter((s) => s.at <= target).sort((a, b) => a.at - b.at)[0];
        if (!due) break;
        now = Math.max(now, due.at);
        sleepers = sleepers.filter((s) => s !== due);
        due.resolve();
      }
      now = target;
      await flush();
    },
    pending: () => sleepers.length,
  };
}
