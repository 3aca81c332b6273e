// A discrete-event clock for the sync bench: time stands still while the bridge works or a Graph
// request is in flight, and jumps to the next due timer once every party is waiting on the clock
// (no request in flight, the engine and the bench asleep on a timer, the simulator idle). The
// simulated time of a run is then the sum of the waits the budget imposes, whatever the CPU's speed
// or the machine's load: the ratio to the budget minimum is exact (the bridge's CPU time counts 0).
import type { Clock } from '../../src/sync/clock';
import type { SyncGraph } from '../../src/sync/graph-port';

export interface VirtualClock extends Clock {
  /** The time without counting as the bridge's activity (for the bench's own polling). */
  peek(): number;
  /** The Graph port with every request counted as in flight until it answers. */
  track(graph: SyncGraph): SyncGraph;
  /** Starts jumping; `onJump` tells the other parties (the simulator) the new time before any sleeper wakes. */
  start(onJump: (now: number) => Promise<void>): void;
  stop(): void;
  /** Jumps made so far. */
  jumps(): number;
}

/** Event-loop turns with nothing in flight and no activity before the clock moves on. */
const QUIET_TURNS = 3;

export function virtualClock(startMs: number): VirtualClock {
  let now = startMs;
  let sleepers: { at: number; resolve: () => void }[] = [];
  let inFlight = 0;
  let activity = 0;
  let jumps = 0;
  let running = false;
  /** Resolved when something changes that may make the clock free to move (a request answered, a sleeper added). */
  let changed: (() => void) | null = null;
  const poke = () => {
    activity++;
    changed?.();
  };
  const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
  const waitForChange = () => new Promise<void>((resolve) => (changed = resolve)).finally(() => (changed = null));

  async function drive(onJump: (now: number) => Promise<void>): Promise<void> {
    while (running) {
      if (inFlight > 0 || !sleepers.length) {
        await waitForChange();
        continue;
      }
      // Quiet for a few turns: the bridge is not between two steps of synchronous work.
      const seen = activity;
      let quiet = true;
      for (let i = 0; i < QUIET_TURNS && quiet; i++) {
        await turn();
        quiet = activity === seen && inFlight === 0;
      }
      if (!quiet || !running || !sleepers.length) continue;
      const next = sleepers.reduce((a, b) => (b.at < a.at ? b : a));
      now = Math.max(now, next.at);
      jumps++;
      await onJump(now);
      const due = sleepers.filter((s) => s.at <= now);
      sleepers = sleepers.filter((s) => s.at > now);
      activity++;
      for (const s of due) s.resolve();
    }
  }

  return {
    now: () => {
      activity++;
      return now;
    },
    peek: () => now,
    sleep(ms) {
      return new Promise<void>((resolve) => {
        sleepers.push({ at: now + Math.max(0, ms), resolve });
        poke();
      });
    },
    track(graph) {
      const counted = async <T>(p: () => Promise<T>): Promise<T> => {
        inFlight++;
        activity++;
        try {
          return await p();
        } finally {
          inFlight--;
          poke();
        }
      };
      return {
        send: (op) => counted(() => graph.send(op)),
        batch: (ops) => counted(() => graph.batch(ops)),
        tokenRoles: () => counted(() => graph.tokenRoles()),
      };
    },
    start(onJump) {
      if (running) return;
      running = true;
      void drive(onJump);
    },
    stop() {
      running = false;
      changed?.();
    },
    jumps: () => jumps,
  };
}
