// Seeds the bridge's SQLite file with N users exactly as POST /Users stores them: the body goes
// through the ingress's own normalisation (normaliseResource) and attribution keys
// (changedAttributes), then the store's own write path (store.users.create: row, multi-valued
// index rows, attribution, audit, dirty mark), batched 5,000 users per transaction.
// Each dirty mark is numbered max(dirty_seq) + 1 over sync_state; on a schema without an index
// on dirty_seq that max is a full scan per write (seeding took 6 minutes before migration 4), so
// a temporary index is added for the seeding if none exists and dropped before the servers start,
// leaving them on the store's own schema.
import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { dirSyncEnabledFor } from '../../src/rules/identity';
import { changedAttributes } from '../../src/scim/attribution-keys';
import { normaliseResource } from '../../src/scim/resource-input';
import { resourceTypes } from '../../src/scim/schema';
import { openStore } from '../../src/store';
import { benchUser } from './scim-users';

export const BENCH_SOURCE = 'bench-idp';
export const BENCH_TOKEN = 'bench-token-0123456789abcdef0123456789';
export const BENCH_MODE = 'profile-sync' as const;
const SEED_INDEX = 'bench_seed_dirty_seq';

function withSeedIndex(database: string, create: boolean): void {
  const db = new Database(database);
  const lists = db.pragma(`index_list('sync_state')`) as { name: string; partial: number }[];
  const indexed = lists.some(
    (ix) => ix.name !== SEED_INDEX && !ix.partial && (db.pragma(`index_info('${ix.name}')`) as { seqno: number; name: string }[])[0]?.name === 'dirty_seq',
  );
  if (create && !indexed) db.exec(`CREATE INDEX IF NOT EXISTS ${SEED_INDEX} ON sync_state(dirty_seq)`);
  if (!create) db.exec(`DROP INDEX IF EXISTS ${SEED_INDEX}; PRAGMA wal_checkpoint(TRUNCATE)`);
  db.close();
}

export function seedBridgeStore(database: string, users: number): { ms: number; bytes: number } {
  const started = performance.now();
  const sources = [{ id: BENCH_SOURCE, directories: [], contributes: [], seesAll: false }];
  openStore(database, { mode: BENCH_MODE, sources }).close(); // migrations
  withSeedIndex(database, true);
  const store = openStore(database, { mode: BENCH_MODE, sources });
  const sync = { dirSyncEnabled: dirSyncEnabledFor(BENCH_MODE) };
  try {
    for (let from = 0; from < users; from += 5000) {
      store.transaction(() => {
        for (let i = from; i < Math.min(users, from + 5000); i++) {
          const { data } = normaliseResource(resourceTypes.User, benchUser(i));
          store.users.create(data, { sourceId: BENCH_SOURCE, attributes: changedAttributes(resourceTypes.User, null, data), sync });
        }
      });
    }
  } finally {
    store.close();
  }
  withSeedIndex(database, false);
  return { ms: performance.now() - started, bytes: statSync(database).size };
}
