// Child-process entry of the baseline server (bench/baseline-scim.ts) on 127.0.0.1, ephemeral port.
import Database from 'better-sqlite3';
import { dirSyncEnabledFor } from '../../src/rules/identity';
import { migrate } from '../../src/store/migrations';
import { createBaselineApp } from '../baseline-scim';
import { BENCH_MODE } from './scim-seed';
import { reportListening, reportStartFailure } from './child-server';

try {
  const args = JSON.parse(process.argv[2]) as { database: string; token: string; sourceId: string };
  const db = new Database(args.database);
  // The same connection settings as the store (src/store/index.ts).
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  // The store's own migrations (DDL only), so that the tables and indexes are the bridge's even
  // if the migrations changed since the file was seeded.
  migrate(db);
  const app = createBaselineApp(db, { token: args.token, sourceId: args.sourceId, dirSyncEnabled: dirSyncEnabledFor(BENCH_MODE) });
  const server = app.listen(0, '127.0.0.1', () => reportListening((server.address() as { port: number }).port));
  process.on('SIGTERM', () => server.close(() => (db.close(), process.exit(0))));
} catch (err) {
  reportStartFailure(err);
}
