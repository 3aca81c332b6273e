// Checks that the baseline reads with the very SQL the store prepares for the benchmarked
// requests: the store is opened on the seeded file with better-sqlite3's prepare() recorded,
// its list and getUser run once for a userName filter and a middle page, and every recorded
// statement is compared, whitespace aside, with bench/baseline-scim.ts READ_SQL.
import Database from 'better-sqlite3';
import { parseFilter } from '../../src/scim/filter';
import { resourceTypes } from '../../src/scim/schema';
import { openStore } from '../../src/store';
import { READ_SQL } from '../baseline-scim';
import { BENCH_MODE } from './scim-seed';

const norm = (sql: string) => sql.replace(/\s+/g, ' ').trim();

export function sqlParity(database: string, sourceId: string, users: number, userName: string): string {
  const recorded: string[] = [];
  const proto = Database.prototype as unknown as { prepare: (sql: string) => unknown };
  const original = proto.prepare;
  proto.prepare = function (this: unknown, sql: string) {
    recorded.push(norm(sql));
    return original.call(this, sql);
  };
  const store = openStore(database, { mode: BENCH_MODE, sources: [{ id: sourceId, directories: [], contributes: [], seesAll: false }] });
  try {
    const before = recorded.length;
    const filter = parseFilter(resourceTypes.User, `userName eq "${userName}"`);
    const { resources } = store.queries.list('User', { filter, startIndex: 1, count: 100, ownerId: sourceId });
    store.queries.list('User', { startIndex: Math.floor(users / 2), count: 100, ownerId: sourceId });
    if (resources[0]) store.queries.getUser(resources[0].id);
    const used = new Set(recorded.slice(before));
    const prepared = new Set(recorded);
    const missing = Object.entries(READ_SQL).filter(([, sql]) => !prepared.has(norm(sql)));
    if (!missing.length) return `SQL parity: the baseline's ${Object.keys(READ_SQL).length} read statements are the store's own`;
    const ours = new Set(Object.values(READ_SQL).map(norm));
    return [
      `SQL parity: DIFFERENT, update bench/baseline-scim.ts READ_SQL (${missing.map(([k]) => k).join(', ')})`,
      ...[...used].filter((s) => !ours.has(s)).map((s) => `  store prepared: ${s}`),
    ].join('\n');
  } finally {
    store.close();
    proto.prepare = original;
  }
}
