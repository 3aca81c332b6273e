// `serve` (and `npm start`): the bridge with SCIM, admin and the sync engine, until the io says stop.
import { loadConfig } from '../config';
import { createLogger } from '../log';
import { startBridge } from '../main';
import { type CliIo, logDestination } from './io';

/** Serves until io.stopped() resolves, then closes the bridge: 0 once closed, 1 if closing failed. */
export async function serve(configFile: string | undefined, io: CliIo): Promise<number> {
  const config = loadConfig({ file: configFile, env: io.env });
  const bridge = await startBridge(config, { logger: createLogger(config.logLevel, logDestination(io, 'stdout')) });
  // Listening for the stop before the banner is out: whoever reads the banner may send SIGTERM at once.
  const stopped = io.stopped();
  const out = io.stdout;
  out.write(`scim-graph-bridge serving in ${config.mode} mode\n`);
  out.write(`SCIM base URL: ${bridge.scimUrl}\n`);
  for (const [source, token] of Object.entries(bridge.mintedTokens)) {
    out.write(`Bearer token (source "${source}"): ${token}\n`);
    out.write(`  shown once, kept only as a hash; "scim-graph-bridge sources rotate ${source}" makes a new one\n`);
  }
  for (const m of bridge.store.sourceTokens.list()) {
    if (m.id in bridge.mintedTokens || config.sources.some((s) => s.id === m.id)) continue;
    out.write(`Source "${m.id}": token exists (kept as a hash); "scim-graph-bridge sources rotate ${m.id}" makes a new one\n`);
  }
  const origin = bridge.scimUrl.replace(/\/scim\/v2$/, '');
  out.write(`Admin dashboard: ${origin}/admin/\n`);
  if (!config.adminToken) out.write(`Admin token: ${bridge.adminToken}\n`);
  out.write(`Health: ${origin}/healthz  Metrics: ${origin}/metrics\n`);
  if (bridge.simulator) {
    out.write(`Graph: embedded simulator at ${bridge.simulator.url} (CA ${bridge.simulator.caFile})\n`);
    out.write(`Simulator inspection token (${bridge.simulator.url}/_sim): ${bridge.simulator.inspectionToken}\n`);
  } else out.write(`Graph: ${bridge.graphConfig.baseUrl}${config.graph.dryRun ? ' (dry run: nothing is written)' : ''}\n`);

  const signal = await stopped;
  bridge.logger.info({ signal }, 'shutting down');
  try {
    await bridge.close();
    return 0;
  } catch (err) {
    bridge.logger.error({ err: (err as Error).message }, 'shutdown failed');
    return 1;
  }
}
