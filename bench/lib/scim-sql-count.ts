// Before the servers start: how many SQL statements the bridge's own user service
// (src/scim/users-service.ts, what the HTTP routes call) executes for each benchmarked request on
// the seeded file (a create is rolled back), next to the baseline's one statement, so that a low
// ratio points at the SQL when it is the SQL.
import Database from 'better-sqlite3';
import { loadConfig } from '../../src/config';
import { fromQuery } from '../../src/scim/list-params';
import { createUserService } from '../../src/scim/users-service';
import { openStore } from '../../src/store';
import { BENCH_MODE } from './scim-seed';
import { benchUser } from './scim-users';
import { table } from './stats';

type Method = (...args: unknown[]) => unknown;

/** The statements executed while `fn` runs, in order (transaction control aside). */
function recording(fn: () => void): string[] {
  const probe = new Database(':memory:');
  const proto = Object.getPrototypeOf(probe.prepare('SELECT 1')) as Record<string, Method>;
  probe.close();
  const seen: string[] = [];
  const originals = Object.fromEntries(['run', 'get', 'all', 'iterate'].map((m) => [m, proto[m]]));
  for (const [name, original] of Object.entries(originals)) {
    proto[name] = function (this: { source: string }, ...args: unknown[]) {
      if (!/^(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b/i.test(this.source.trim())) seen.push(this.source.replace(/\s+/g, ' ').trim());
      return original.apply(this, args);
    };
  }
  try {
    fn();
  } finally {
    Object.assign(proto, originals);
  }
  return seen;
}

export function sqlCount(database: string, sourceId: string, users: number, userName: string): string {
  const config = loadConfig({
    env: {},
    overrides: { database, mode: BENCH_MODE, logLevel: 'silent', sources: [{ id: sourceId, token: 'count-token-0123456789' }] },
  });
  const store = openStore(database, { mode: config.mode, sources: config.sources });
  try {
    const service = createUserService({ config, store });
    const principal = { source: store.sources.get(sourceId)! };
    const rollback = new Error('rollback');
    const post = recording(() => {
      try {
        store.transaction(() => {
          service.create(principal, benchUser('sql-count'));
          throw rollback;
        });
      } catch (err) {
        if (err !== rollback) throw err;
      }
    });
    const filter = recording(() => service.list(principal, fromQuery({ filter: `userName eq "${userName}"` })));
    const page = recording(() => service.list(principal, fromQuery({ startIndex: String(Math.floor(users / 2)), count: '100' })));
    // The total of an unfiltered list is kept until the collection changes (src/store/queries.ts): the next page does not count.
    const next = recording(() => service.list(principal, fromQuery({ startIndex: String(Math.floor(users / 2) + 100), count: '100' })));
    const row = (what: string, stmts: string[], baseline: number) => [
      what,
      String(stmts.length),
      String(baseline),
      stmts.map((s) => s.slice(0, 60)).join(' | '),
    ];
    return table(
      ['request', 'bridge statements', 'baseline', 'bridge statements (start)'],
      [row('POST /Users', post, 1), row('filter userName eq', filter, 1), row('list page', page, 2), row('next list page', next, 2)],
    );
  } finally {
    store.close();
  }
}
