// Seeds the bridge's SQLite file with N users exactly as POST /Users stores them: the body goes
// through the ingress's own normalisation (normaliseResource) and attribution keys
// (changedAttributes), then the store's own write path (store.users.create: row, multi-valued
// index rows, attribution, audit, dirty mark), batched 5,000 users per transaction.
// The store numbers each dirty mark with max(dirty_seq) + 1 over sync_state, a full scan per
// write (quadratic over 100,000 seeded users: about 6 minutes); a temporary index on
// sync_state(dirty_seq) makes that max an index lookup while seeding, and is dropped before the
// servers start, so they run on the store's own schema.
import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { dirSyncEnabledFor } from '../../src/graph/identity';
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
  db.exec(create ? `CREATE INDEX IF NOT EXISTS ${SEED_INDEX} ON sync_state(dirty_seq)` : `DROP INDEX IF EXISTS ${SEED_INDEX}; PRAGMA wal_checkpoint(TRUNCATE)`);
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
