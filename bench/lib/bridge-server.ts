// Child-process entry of the bridge for the SCIM benchmark, as `npm start` runs it: startBridge
// with the default configuration (embedded Graph simulator, sync engine on, access log at info),
// on the seeded file, on 127.0.0.1 with an ephemeral port. Its log goes to the child's stdout,
// which the parent discards (the lines are still written, as in production).
import { loadConfig } from '../../src/config';
import { startBridge } from '../../src/main';
import { reportListening, reportStartFailure } from './child-server';
import { BENCH_MODE } from './scim-seed';

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2]) as { database: string; token: string; sourceId: string };
  const config = loadConfig({
    env: {},
    overrides: { database: args.database, mode: BENCH_MODE, host: '127.0.0.1', port: 0, sources: [{ id: args.sourceId, token: args.token }] },
  });
  const bridge = await startBridge(config);
  reportListening(Number(new URL(bridge.scimUrl).port));
  // A bounded shutdown, so that a profile (--cpu-prof) is written before the parent's SIGKILL.
  process.on('SIGTERM', () => {
    setTimeout(() => process.exit(0), 3_000).unref();
    void bridge.close().then(() => process.exit(0));
  });
}

main().catch(reportStartFailure);
