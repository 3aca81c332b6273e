// Child-process entry of the bridge's SCIM ingress for the benchmark: config through loadConfig
// (no file, no environment), the store on the seeded file, the express app from createApp, on
// 127.0.0.1 with an ephemeral port. Log level warn: per-request info lines are not what is measured.
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/log';
import { createApp } from '../../src/scim/app';
import { openStore } from '../../src/store';
import { reportListening, reportStartFailure } from './child-server';
import { BENCH_MODE } from './scim-seed';

try {
  const args = JSON.parse(process.argv[2]) as { database: string; token: string; sourceId: string };
  const config = loadConfig({
    env: {},
    overrides: { database: args.database, mode: BENCH_MODE, logLevel: 'warn', sources: [{ id: args.sourceId, token: args.token }] },
  });
  const store = openStore(config.database, { mode: config.mode, sources: config.sources });
  const app = createApp({ config, store, logger: createLogger(config.logLevel) });
  const server = app.listen(0, '127.0.0.1', () => reportListening((server.address() as { port: number }).port));
  process.on('SIGTERM', () => server.close(() => (store.close(), process.exit(0))));
} catch (err) {
  reportStartFailure(err);
}
