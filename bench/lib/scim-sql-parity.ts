// Checks that the baseline does the bridge's SQL work: the bridge's own user service
// (src/scim/users-service.ts, what the HTTP routes call) runs a create (rolled back), a userName
// filter and a middle page on the seeded file with every executed statement recorded, and each
// set is compared, whitespace aside, with the statements bench/baseline-scim.ts executes.
import Database from 'better-sqlite3';
import { loadConfig } from '../../src/config';
import { fromQuery } from '../../src/scim/list-params';
import { createUserService } from '../../src/scim/users-service';
import { openStore } from '../../src/store';
import { READ_SQL, WRITE_SQL } from '../baseline-scim';
import { BENCH_MODE } from './scim-seed';
import { benchUser } from './scim-users';

const norm = (sql: string) => sql.replace(/\s+/g, ' ').trim();
type Method = (...args: unknown[]) => unknown;

/** Records the source of every statement executed while `fn` runs. */
function recording(fn: () => void): Set<string> {
  const probe = new Database(':memory:');
  const proto = Object.getPrototypeOf(probe.prepare('SELECT 1')) as Record<string, Method>;
  probe.close();
  const seen = new Set<string>();
  const originals = Object.fromEntries(['run', 'get', 'all', 'iterate'].map((m) => [m, proto[m]]));
  for (const [name, original] of Object.entries(originals)) {
    proto[name] = function (this: { source: string }, ...args: unknown[]) {
      // Transaction control (better-sqlite3's own BEGIN/SAVEPOINT) is the same on both sides.
      if (!/^(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b/i.test(this.source.trim())) seen.add(norm(this.source));
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

function compare(what: string, bridge: Set<string>, baseline: string[]): string[] {
  const ours = new Set(baseline.map(norm));
  const onlyBridge = [...bridge].filter((s) => !ours.has(s));
  const onlyBaseline = [...ours].filter((s) => !bridge.has(s));
  if (!onlyBridge.length && !onlyBaseline.length) return [`SQL parity ${what}: same ${ours.size} statements`];
  return [
    `SQL parity ${what}: DIFFERENT, update bench/baseline-scim.ts`,
    ...onlyBridge.map((s) => `  only the bridge runs: ${s.slice(0, 300)}`),
    ...onlyBaseline.map((s) => `  only the baseline runs: ${s.slice(0, 300)}`),
  ];
}

export function sqlParity(database: string, sourceId: string, users: number, userName: string): string {
  const config = loadConfig({ env: {}, overrides: { database, mode: BENCH_MODE, logLevel: 'silent', sources: [{ id: sourceId, token: 'parity-token-0123456789' }] } });
  const store = openStore(database, { mode: config.mode, sources: config.sources });
  try {
    const service = createUserService({ config, store });
    const principal = { source: store.sources.get(sourceId)! };
    const rollback = new Error('rollback');
    const post = recording(() => {
      try {
        store.transaction(() => {
          service.create(principal, benchUser('parity'));
          throw rollback;
        });
      } catch (err) {
        if (err !== rollback) throw err;
      }
    });
    const filter = recording(() => service.list(principal, fromQuery({ filter: `userName eq "${userName}"` })));
    const page = recording(() => service.list(principal, fromQuery({ startIndex: String(Math.floor(users / 2)), count: '100' })));
    return [
      ...compare('POST /Users', post, [...Object.values(WRITE_SQL), READ_SQL.getUser]),
      ...compare('filter userName eq', filter, [READ_SQL.filterCount, READ_SQL.filterPage]),
      ...compare('list page', page, [READ_SQL.listCount, READ_SQL.listPage]),
    ].join('\n');
  } finally {
    store.close();
  }
}
