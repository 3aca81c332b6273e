// `serve` (and `npm start`): the bridge with SCIM, admin and the sync engine.
import { loadConfig } from '../config';
import { startBridge } from '../main';

export async function serve(configFile?: string): Promise<void> {
  const config = loadConfig({ file: configFile });
  const bridge = await startBridge(config);
  const out = process.stdout;
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

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    bridge.logger.info({ signal }, 'shutting down');
    bridge.close().then(
      () => process.exit(0),
      (err) => {
        bridge.logger.error({ err: (err as Error).message }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}
