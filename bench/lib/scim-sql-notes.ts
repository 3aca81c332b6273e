// Before the servers start: the query plans and times of the statements that dominate the
// benchmarked requests, on the seeded file, so that a low absolute figure points at its SQL.
// The statements are the store's (src/store/sync-state.ts nextSeq, src/store/queries.ts list).
import Database from 'better-sqlite3';
import { table, fmt } from './stats';

const USER_COLS = `u.id, u.source_id, u.data, u.version, u.created, u.last_modified,
  s.state, s.graph_id, s.last_error, s.dir_sync_enabled, s.tokens_valid_from`;
const USER_FROM = `users u LEFT JOIN sync_state s ON s.type = 'User' AND s.id = u.id`;

export function sqlNotes(database: string, sourceId: string, users: number, userName: string): string {
  const db = new Database(database, { readonly: true });
  try {
    const statements: [string, string, unknown[]][] = [
      ['POST: dirty mark sequence', 'SELECT coalesce(max(dirty_seq), 0) + 1 FROM sync_state', []],
      ['filter: count', 'SELECT count(*) FROM users u WHERE u.deleted = 0 AND u.source_id = ? AND u.user_name = ? COLLATE NOCASE', [sourceId, userName]],
      ['filter: page', `SELECT ${USER_COLS} FROM ${USER_FROM} WHERE u.deleted = 0 AND u.source_id = ? AND u.user_name = ? COLLATE NOCASE ORDER BY u.rowid LIMIT 100 OFFSET 0`, [sourceId, userName]],
      ['list: count', 'SELECT count(*) FROM users u WHERE u.deleted = 0 AND u.source_id = ?', [sourceId]],
      ['list: page', `SELECT ${USER_COLS} FROM ${USER_FROM} WHERE u.deleted = 0 AND u.source_id = ? ORDER BY u.rowid LIMIT 100 OFFSET ${Math.floor(users / 2)}`, [sourceId]],
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
