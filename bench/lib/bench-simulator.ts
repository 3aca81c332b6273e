// The Graph simulator of the provisioning benchmarks (sync, inbound), in a child process of its own
// (Graph is another machine too), and the clock the bridge and the simulator share:
// - 'virtual' (the benchmarks' default): one discrete-event clock (virtual-clock.ts). The bridge's
//   Graph port is tracked, so time stands still while a request is in flight or the bridge works, and
//   jumps to the next due timer of the bridge when every party waits; the simulator is told each new
//   time over IPC before any sleeper wakes. Its own timers (the budgets' refill, the inbound service's
//   processing, log delay and quotas) run on that time, so simulated time does not depend on the CPU.
// - 'scaled': wall time sped up `timeScale` times on both sides; the bridge's CPU time counts.
// This file is also the child's entry point (startChildServer forks it with CHILD_TAG in its argument).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Agent } from 'undici';
import type { RunningSimulator, SeedObject } from '../../src/simulator';
import type { Clock as SimClock } from '../../src/simulator/clock';
import type { ThrottleUsage } from '../../src/simulator/throttle';
import { type Clock, scaledClock } from '../../src/sync/clock';
import type { SyncGraph } from '../../src/sync/graph-port';
import { reportListening, reportStartFailure, startChildServer, type ChildServer } from './child-server';
import { virtualClock } from './virtual-clock';

const CHILD_TAG = 'benchSimulatorChild';

export type ClockKind = 'virtual' | 'scaled';
export type SimInfo = Pick<RunningSimulator, 'url' | 'authorityHost' | 'tenantId' | 'clientId' | 'clientSecret' | 'caFile' | 'inspectionToken'>;

interface ChildArgs {
  dataDir: string;
  seed: SeedObject;
  timeScale: number;
  /** Set on the virtual clock: the simulator's time starts there and moves only when the bench says. */
  virtualStart?: number;
}

/** The simulator's process. On the virtual clock its time is what the bench last sent over IPC. */
async function simulatorChild(args: ChildArgs): Promise<void> {
  let virtualNow = args.virtualStart ?? 0;
  const clock: SimClock | undefined = args.virtualStart === undefined ? undefined : { timeScale: 1, now: () => virtualNow, toReal: (ms) => ms };
  // Loaded here only: the bench process, whose RSS is the bridge's figure, never holds the simulator's code.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded in the simulator's process only
  const { startSimulator } = require('../../src/simulator') as typeof import('../../src/simulator');
  const sim = await startSimulator({
    port: 0,
    timeScale: args.timeScale,
    ...(clock ? { clock } : {}),
    throttling: true,
    dataDir: args.dataDir,
    requestLogLimit: 1000,
    seed: args.seed,
  });
  // Stopped with SIGTERM: exit through Node, so that --cpu-prof (passed on to this child) writes its profile.
  process.on('SIGTERM', () => process.exit(0));
  // The bench's messages come once the child has reported listening.
  process.on('message', (msg: { type?: string; now?: number; roles?: string[] }) => {
    if (msg?.type === 'clock') {
      virtualNow = Math.max(virtualNow, Number(msg.now));
      process.send?.({ type: 'clock' });
    }
    if (msg?.type === 'grant') {
      sim.grant(msg.roles ?? []);
      process.send?.({ type: 'grant' });
    }
  });
  const info: SimInfo = {
    url: sim.url,
    authorityHost: sim.authorityHost,
    tenantId: sim.tenantId,
    clientId: sim.clientId,
    clientSecret: sim.clientSecret,
    caFile: sim.caFile,
    inspectionToken: sim.inspectionToken,
  };
  writeFileSync(path.join(args.dataDir, 'sim.json'), JSON.stringify(info));
  reportListening(Number(new URL(sim.url).port));
}

export interface BenchSimulator {
  child: ChildServer;
  sim: SimInfo;
  /** Trusts the simulator's own CA. */
  dispatcher: Agent;
  /** The time both sides start from (the virtual clock's origin). */
  startMs: number;
  /** What the simulator charged since it started: requests, writes, resource units, 429s of the Graph budgets. */
  usage(): Promise<ThrottleUsage>;
  /** Sets the app roles of the bridge's tokens. */
  grant(roles: string[]): Promise<void>;
  close(): Promise<void>;
}

export async function startBenchSimulator(opts: {
  dataDir: string;
  seed: SeedObject;
  clock: ClockKind;
  timeScale: number;
  /** A directory for a CPU profile of the simulator's process (node --cpu-prof). */
  profileDir?: string;
}): Promise<BenchSimulator> {
  const startMs = Date.now();
  const child = await startChildServer(
    __filename,
    {
      [CHILD_TAG]: true,
      dataDir: opts.dataDir,
      seed: opts.seed,
      timeScale: opts.timeScale,
      ...(opts.clock === 'virtual' ? { virtualStart: startMs } : {}),
    },
    opts.profileDir ? { execArgv: ['--cpu-prof', '--cpu-prof-interval', '2000', `--cpu-prof-dir=${opts.profileDir}`] } : {},
  );
  const sim = JSON.parse(readFileSync(path.join(opts.dataDir, 'sim.json'), 'utf8')) as SimInfo;
  const dispatcher = new Agent({ connect: { ca: readFileSync(sim.caFile, 'utf8') } });
  return {
    child,
    sim,
    dispatcher,
    startMs,
    async usage() {
      const res = await fetch(`${sim.url}/_sim/throttling`, {
        dispatcher,
        headers: { Authorization: `Bearer ${sim.inspectionToken}` },
      } as unknown as RequestInit);
      return ((await res.json()) as { usage: ThrottleUsage }).usage;
    },
    grant: async (roles) => void (await child.call('grant', { roles })),
    async close() {
      await dispatcher.close();
      await child.stop();
    },
  };
}

export interface BenchClock {
  clock: Clock;
  /** The bridge's Graph port; on the virtual clock each request counts as in flight until it answers. */
  graph: SyncGraph;
  /** The time now, without counting as the bridge's activity on the virtual clock. */
  peek(): number;
  /** Jumps the virtual clock made (0 on the scaled clock). */
  jumps(): number;
  stop(): void;
}

/** The bridge's clock for `kind`, started; on the virtual clock the simulator learns every jump first. */
export function benchClock(kind: ClockKind, timeScale: number, simulator: BenchSimulator, graph: SyncGraph): BenchClock {
  if (kind === 'scaled') {
    const clock = scaledClock(timeScale);
    return { clock, graph, peek: () => clock.now(), jumps: () => 0, stop: () => {} };
  }
  const v = virtualClock(simulator.startMs);
  // The simulator learns each new time before any sleeper wakes (nothing is in flight then).
  v.start((now) => simulator.child.call('clock', { now }));
  return { clock: v, graph: v.track(graph), peek: v.peek, jumps: v.jumps, stop: v.stop };
}

export function clockKindFrom(name: string, value: string | undefined): ClockKind {
  const kind = value ?? 'virtual';
  if (kind !== 'virtual' && kind !== 'scaled') throw new Error(`${name}: expected virtual or scaled, got ${kind}`);
  return kind;
}

const childArg = process.argv[2];
if (childArg?.includes(CHILD_TAG)) simulatorChild(JSON.parse(childArg) as ChildArgs).catch(reportStartFailure);
