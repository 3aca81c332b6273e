// Ownership moves only by an operator command (SPEC section 3): one transaction that changes
// the owner and records who owned it before.
import type { Database } from 'better-sqlite3';

export function createOwnershipStore(db: Database) {
  const q = {
    owner: db.prepare(`SELECT source_id FROM users WHERE id = ? AND deleted = 0`).pluck(),
    source: db.prepare(`SELECT id FROM sources WHERE id = ? UNION SELECT id FROM source_tokens WHERE id = ?`).pluck(),
    ensureSource: db.prepare(`INSERT INTO sources (id, configured, created_at, updated_at) VALUES (?, 0, ?, ?) ON CONFLICT (id) DO NOTHING`),
    move: db.prepare(`UPDATE users SET source_id = ? WHERE id = ?`),
    audit: db.prepare(`INSERT INTO audit (at, source_id, action, resource_type, resource_id, detail) VALUES (?, NULL, 'user.transfer', 'User', ?, ?)`),
  };
  return {
    /** Moves a user to another source; throws with a reason an operator can act on. */
    transferUser(id: string, toSource: string): { from: string; to: string } {
      return db.transaction(() => {
        const from = q.owner.get(id) as string | undefined;
        if (!from) throw new Error(`no user with id ${id}`);
        if (!q.source.get(toSource, toSource)) throw new Error(`no source named ${toSource}`);
        if (from === toSource) return { from, to: toSource };
        const now = new Date().toISOString();
        q.ensureSource.run(toSource, now, now);
        q.move.run(toSource, id);
        q.audit.run(now, id, JSON.stringify({ from, to: toSource }));
        return { from, to: toSource };
      })();
    },
  };
}
