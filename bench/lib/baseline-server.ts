// Child-process entry of the baseline server (bench/baseline-scim.ts) on 127.0.0.1, ephemeral port,
// on a file of its own seeded with the same users as the bridge's.
import Database from 'better-sqlite3';
import { createBaselineApp, seedBaseline } from '../baseline-scim';
import { reportListening, reportStartFailure } from './child-server';

try {
  const args = JSON.parse(process.argv[2]) as { database: string; token: string; users: number };
  const db = new Database(args.database);
  // The same connection settings as the store (src/store/index.ts).
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('temp_store = MEMORY');
  seedBaseline(db, args.users);
  db.pragma('wal_checkpoint(TRUNCATE)');
  const app = createBaselineApp(db, { token: args.token });
  const server = app.listen(0, '127.0.0.1', () => reportListening((server.address() as { port: number }).port));
  process.on('SIGTERM', () => server.close(() => (db.close(), process.exit(0))));
} catch (err) {
  reportStartFailure(err);
}
