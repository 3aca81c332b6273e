// Sources (SPEC section 3) mirrored from config at open, so resources can reference their owner.
// Tokens stay in config and are checked by scim/; only identity and rights are stored here.
import type { Database } from 'better-sqlite3';
import type { SourceConfig } from '../config';
import type { SourceRecord } from './types';

interface Row {
  id: string;
  directories: string;
  contributes: string;
  sees_all: number;
  configured: number;
}

const toRecord = (r: Row): SourceRecord => ({
  id: r.id,
  directories: JSON.parse(r.directories),
  contributes: JSON.parse(r.contributes),
  seesAll: r.sees_all === 1,
  configured: r.configured === 1,
});

export function createSourceStore(db: Database) {
  const upsert = db.prepare(`INSERT INTO sources (id, directories, contributes, sees_all, configured, created_at, updated_at)
    VALUES (@id, @directories, @contributes, @seesAll, 1, @now, @now)
    ON CONFLICT (id) DO UPDATE SET directories = excluded.directories, contributes = excluded.contributes,
      sees_all = excluded.sees_all, configured = 1, updated_at = excluded.updated_at`);
  const unconfigureAll = db.prepare('UPDATE sources SET configured = 0');
  const all = db.prepare('SELECT id, directories, contributes, sees_all, configured FROM sources ORDER BY id');
  const one = db.prepare('SELECT id, directories, contributes, sees_all, configured FROM sources WHERE id = ?');
  let cache = new Map<string, SourceRecord>();

  function reload(): void {
    cache = new Map((all.all() as Row[]).map((r) => [r.id, toRecord(r)]));
  }

  return {
    /** Mirrors the configured sources; sources no longer configured stay (they own resources) but are marked. */
    /** Writes nothing when the store already says so (commands that only look must not write). */
    sync(sources: readonly Pick<SourceConfig, 'id' | 'directories' | 'contributes' | 'seesAll'>[]): void {
      const now = new Date().toISOString();
      const wanted = sources.map((s) => ({
        id: s.id,
        directories: JSON.stringify(s.directories ?? []),
        contributes: JSON.stringify(s.contributes ?? []),
        seesAll: s.seesAll ? 1 : 0,
      }));
      const rows = new Map((all.all() as Row[]).map((r) => [r.id, r]));
      const ids = new Set(wanted.map((w) => w.id));
      const same =
        wanted.every((w) => {
          const r = rows.get(w.id);
          return r && r.configured === 1 && r.directories === w.directories && r.contributes === w.contributes && r.sees_all === w.seesAll;
        }) && [...rows.values()].every((r) => ids.has(r.id) || r.configured === 0);
      if (!same) {
        db.transaction(() => {
          unconfigureAll.run();
          for (const w of wanted) upsert.run({ ...w, now });
        })();
      }
      reload();
    },
    /** Every source known to the store, configured or not. */
    list(): SourceRecord[] {
      return [...cache.values()];
    },
    get(id: string): SourceRecord | null {
      const hit = cache.get(id);
      if (hit) return hit;
      const r = one.get(id) as Row | undefined;
      return r ? toRecord(r) : null;
    },
  };
}
