// `scim-graph-bridge graph-sim --port N [--seed file] [--time-scale X] [--no-throttling] [--data-dir D]`:
// serves the simulator alone and prints what a client needs to reach it.
import { parseArgs } from 'node:util';
import { startSimulator, type RunningSimulator } from './index';

export interface GraphSimArgs {
  port: number;
  seed?: string;
  timeScale: number;
  throttling: boolean;
  dataDir?: string;
}

export function parseGraphSimArgs(argv: string[]): GraphSimArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '0' },
      seed: { type: 'string' },
      'time-scale': { type: 'string', default: '1' },
      'no-throttling': { type: 'boolean', default: false },
      'data-dir': { type: 'string' },
    },
    strict: true,
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: expected an integer from 0 to 65535, got "${values.port}"`);
  const timeScale = Number(values['time-scale']);
  if (!(timeScale > 0)) throw new Error(`--time-scale: expected a positive number, got "${values['time-scale']}"`);
  return { port, seed: values.seed, timeScale, throttling: !values['no-throttling'], dataDir: values['data-dir'] };
}

export function describe(sim: RunningSimulator): string {
  return [
    `Graph simulator listening on ${sim.url}`,
    `  Graph base URL:   ${sim.url}/v1.0`,
    `  authorityHost:    ${sim.authorityHost}`,
    `  token endpoint:   ${sim.authorityHost}/${sim.tenantId}/oauth2/v2.0/token`,
    `  tenant id:        ${sim.tenantId}`,
    `  client id:        ${sim.clientId}`,
    `  client secret:    ${sim.clientSecret}`,
    `  CA file:          ${sim.caFile}`,
    `  inspection:       ${sim.url}/_sim/state, ${sim.url}/_sim/requests, POST ${sim.url}/_sim/faults, POST ${sim.url}/_sim/reset`,
    `  inspection token: ${sim.inspectionToken}  (send Authorization: Bearer <token> to /_sim)`,
    ...sim.inbound
      .apps()
      .map(
        (a) => `  inbound app:      POST ${sim.url}/v1.0/servicePrincipals/${a.servicePrincipalId}/synchronization/jobs/${a.jobId}/bulkUpload (${a.target})`,
      ),
    '',
  ].join('\n');
}

/** Starts the simulator and prints how to reach it; the caller closes it (`graph-sim` on SIGINT or SIGTERM). */
export async function runGraphSim(argv: string[], out: { write(chunk: string): unknown }): Promise<RunningSimulator> {
  const args = parseGraphSimArgs(argv);
  const sim = await startSimulator({ port: args.port, seed: args.seed, timeScale: args.timeScale, throttling: args.throttling, dataDir: args.dataDir });
  out.write(describe(sim));
  return sim;
}
