// Sources added with `sources add` rather than config: their token hashes (never the tokens)
// and directories. The composition root merges them into the configured sources at start.
import type { Database } from 'better-sqlite3';
import type { DirectoryConfig } from '../config';

export interface ManagedSource {
  id: string;
  tokenSha256: string;
  directories: DirectoryConfig[];
  createdAt: string;
  rotatedAt: string | null;
}

interface Row {
  id: string;
  token_sha256: string;
  directories: string;
  created_at: string;
  rotated_at: string | null;
}

const toSource = (r: Row): ManagedSource => ({
  id: r.id,
  tokenSha256: r.token_sha256,
  directories: JSON.parse(r.directories),
  createdAt: r.created_at,
  rotatedAt: r.rotated_at,
});

export function createSourceTokenStore(db: Database) {
  const q = {
    all: db.prepare('SELECT id, token_sha256, directories, created_at, rotated_at FROM source_tokens ORDER BY id'),
    insert: db.prepare(`INSERT INTO source_tokens (id, token_sha256, directories, created_at) VALUES (?, ?, ?, ?)`),
    rotate: db.prepare(`UPDATE source_tokens SET token_sha256 = ?, rotated_at = ? WHERE id = ?`),
    audit: db.prepare(`INSERT INTO audit (at, action, resource_type, resource_id, detail) VALUES (?, ?, 'Source', ?, ?)`),
  };
  return {
    list(): ManagedSource[] {
      return (q.all.all() as Row[]).map(toSource);
    },
    /** False when a source with that id is already managed here. */
    add(id: string, tokenSha256: string, directories: DirectoryConfig[]): boolean {
      const now = new Date().toISOString();
      return db.transaction(() => {
        if (this.list().some((s) => s.id === id)) return false;
        q.insert.run(id, tokenSha256, JSON.stringify(directories), now);
        q.audit.run(now, 'source.add', id, JSON.stringify({ directories: directories.map((d) => d.id) }));
        return true;
      })();
    },
    /** False when no such managed source exists. */
    rotate(id: string, tokenSha256: string): boolean {
      const now = new Date().toISOString();
      return db.transaction(() => {
        const changed = q.rotate.run(tokenSha256, now, id).changes === 1;
        if (changed) q.audit.run(now, 'source.rotate', id, null);
        return changed;
      })();
    },
  };
}
