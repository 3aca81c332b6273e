// The Graph settings that point a bridge at a running simulator, in a module of their own so that a
// process that only talks to a simulator (bench/) does not load the simulator or the e2e harness.
import type { RunningSimulator } from '../../src/simulator';

type SimulatorEndpoint = Pick<RunningSimulator, 'url' | 'authorityHost' | 'tenantId' | 'clientId' | 'clientSecret' | 'caFile'>;

/** A config file's `graph` settings that point a bridge (a spawned process) at this simulator. */
export function simulatorGraph(sim: SimulatorEndpoint) {
  return {
    baseUrl: sim.url,
    authorityHost: sim.authorityHost,
    tenantId: sim.tenantId,
    clientId: sim.clientId,
    clientSecret: sim.clientSecret,
    caFile: sim.caFile,
  };
}

/** The same settings as loadConfig overrides (`graph.baseUrl`, ...), which leave the rest of `graph` as it is. */
export function simulatorGraphOverrides(sim: SimulatorEndpoint): Record<string, string> {
  return Object.fromEntries(Object.entries(simulatorGraph(sim)).map(([key, value]) => [`graph.${key}`, value]));
}
