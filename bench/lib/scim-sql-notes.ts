// Before the servers start: the query plans and times of the statements that dominate the
// benchmarked requests, on the seeded file, so that a low absolute figure points at its SQL.
// The statements are the store's (src/store/sync-state.ts nextSeq; reads as the baseline's
// READ_SQL, which bench/lib/scim-sql-parity.ts checks against the store).
import Database from 'better-sqlite3';
import { READ_SQL } from '../baseline-scim';
import { table, fmt } from './stats';

export function sqlNotes(database: string, sourceId: string, users: number, userName: string): string {
  const db = new Database(database, { readonly: true });
  try {
    const statements: [string, string, unknown[]][] = [
      ['POST: dirty mark sequence', 'SELECT coalesce(max(dirty_seq), 0) + 1 FROM sync_state', []],
      ['filter: count', READ_SQL.filterCount, [sourceId, userName]],
      ['filter: page', READ_SQL.filterPage, [sourceId, userName, 100, 0]],
      ['list: count', READ_SQL.listCount, [sourceId]],
      ['list: page (middle)', READ_SQL.listPage, [sourceId, 100, Math.floor(users / 2)]],
    ];
    const rows = statements.map(([name, sql, params]) => {
      const stmt = db.prepare(sql);
      stmt.all(...params);
      const started = performance.now();
      for (let i = 0; i < 3; i++) stmt.all(...params);
      const ms = (performance.now() - started) / 3;
      const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail).join('; ');
      return [name, fmt(ms, 2), plan];
    });
    return table(['statement', 'ms', 'plan'], rows);
  } finally {
    db.close();
  }
}
