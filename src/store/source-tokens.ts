// Sources added with `sources add` (and the `default` source `serve` makes on a new data
// directory): their token hashes (never the tokens) and directories. The SCIM authenticator asks
// for them at most every SOURCE_TOKENS_RECHECK_MS: they are kept in memory and read again only when the database changed
// (`PRAGMA data_version` moves when another connection, such as the CLI's `sources add` or `rotate`,
// commits; this connection's own writes drop the copy), so adding or rotating a source takes effect
// without a restart; after a rotation the previous token stays valid until its grace period ends.
import type { Database } from 'better-sqlite3';
import type { DirectoryConfig } from '../config';

/**
 * How often, at most, the SCIM authenticator asks whether the managed tokens changed. Asking
 * is a read transaction of its own (`PRAGMA data_version`), which cost a filtered GET about a
 * twentieth of its time when done on every request. The CLI commands that change a token wait
 * twice this long before they return, so the change is in force in a running bridge by then.
 */
export const SOURCE_TOKENS_RECHECK_MS = 100;

export interface ManagedSource {
  id: string;
  tokenSha256: string;
  directories: DirectoryConfig[];
  createdAt: string;
  rotatedAt: string | null;
  /** The token before the last rotation, while its grace period lasts (epoch ms), else null. */
  previousValidUntil: number | null;
}

interface Row {
  id: string;
  token_sha256: string;
  directories: string;
  created_at: string;
  rotated_at: string | null;
  previous_token_sha256: string | null;
  previous_valid_until: number | null;
}

const toSource = (r: Row, nowMs: number): ManagedSource => ({
  id: r.id,
  tokenSha256: r.token_sha256,
  directories: JSON.parse(r.directories),
  createdAt: r.created_at,
  rotatedAt: r.rotated_at,
  previousValidUntil: r.previous_token_sha256 && r.previous_valid_until !== null && r.previous_valid_until > nowMs ? r.previous_valid_until : null,
});

/** A token hash accepted for a source: the current one (`until` null) or the previous one until its grace period ends (epoch ms). */
export interface AcceptedHash {
  id: string;
  sha256: string;
  until: number | null;
}

export function createSourceTokenStore(db: Database) {
  const cols = 'id, token_sha256, directories, created_at, rotated_at, previous_token_sha256, previous_valid_until';
  const q = {
    all: db.prepare(`SELECT ${cols} FROM source_tokens ORDER BY id`),
    one: db.prepare(`SELECT ${cols} FROM source_tokens WHERE id = ?`),
    insert: db.prepare(`INSERT INTO source_tokens (id, token_sha256, directories, created_at) VALUES (?, ?, ?, ?)`),
    // The source row itself, so a running bridge knows the source without a restart.
    source: db.prepare(`INSERT INTO sources (id, directories, configured, created_at, updated_at) VALUES (?, ?, 1, ?, ?)
      ON CONFLICT (id) DO UPDATE SET directories = excluded.directories, configured = 1, updated_at = excluded.updated_at`),
    rotate: db.prepare(`UPDATE source_tokens SET previous_token_sha256 = CASE WHEN @validUntil IS NULL THEN NULL ELSE token_sha256 END,
        previous_valid_until = @validUntil, token_sha256 = @sha, rotated_at = @now WHERE id = @id`),
    revokeOld: db.prepare(`UPDATE source_tokens SET previous_token_sha256 = NULL, previous_valid_until = NULL
      WHERE id = ? AND previous_token_sha256 IS NOT NULL`),
    audit: db.prepare(`INSERT INTO audit (at, action, resource_type, resource_id, detail) VALUES (?, ?, 'Source', ?, ?)`),
    // Moves when another connection committed since this one last looked (not on this connection's own commits).
    dataVersion: db.prepare('PRAGMA data_version').pluck(),
  };
  // This connection's own writes below drop the copy: data_version does not move for them.
  let accepted: { dataVersion: number; hashes: readonly AcceptedHash[] } | null = null;
  return {
    list(nowMs = Date.now()): ManagedSource[] {
      return (q.all.all() as Row[]).map((r) => toSource(r, nowMs));
    },
    get(id: string, nowMs = Date.now()): ManagedSource | null {
      const r = q.one.get(id) as Row | undefined;
      return r ? toSource(r, nowMs) : null;
    },
    /**
     * Every token hash (hex) that may be accepted, by source: the current one, and the previous one with
     * the end of its grace period (the caller compares `until` with its clock). The same array while
     * nothing changed, so a caller can keep what it derives from it; one `PRAGMA data_version` per call.
     */
    acceptedHashes(): readonly AcceptedHash[] {
      const dataVersion = q.dataVersion.get() as number;
      if (accepted?.dataVersion === dataVersion) return accepted.hashes;
      const hashes: AcceptedHash[] = [];
      for (const r of q.all.all() as Row[]) {
        hashes.push({ id: r.id, sha256: r.token_sha256, until: null });
        if (r.previous_token_sha256 && r.previous_valid_until !== null)
          hashes.push({ id: r.id, sha256: r.previous_token_sha256, until: r.previous_valid_until });
      }
      accepted = { dataVersion, hashes };
      return hashes;
    },
    /** False when a source with that id is already managed here. */
    add(id: string, tokenSha256: string, directories: DirectoryConfig[]): boolean {
      const now = new Date().toISOString();
      accepted = null;
      return db.transaction(() => {
        if (q.one.get(id)) return false;
        q.insert.run(id, tokenSha256, JSON.stringify(directories), now);
        q.source.run(id, JSON.stringify(directories), now, now);
        q.audit.run(now, 'source.add', id, JSON.stringify({ directories: directories.map((d) => d.id) }));
        return true;
      })();
    },
    /**
     * A new token; the previous one stays valid for graceMs (0: it stops at once). Only one
     * previous token is kept: rotating again ends the grace of the one before. False when no
     * such managed source exists.
     */
    rotate(id: string, tokenSha256: string, opts: { graceMs: number; nowMs?: number }): boolean {
      const nowMs = opts.nowMs ?? Date.now();
      const now = new Date(nowMs).toISOString();
      const validUntil = opts.graceMs > 0 ? nowMs + opts.graceMs : null;
      accepted = null;
      return db.transaction(() => {
        const changed = q.rotate.run({ id, sha: tokenSha256, now, validUntil }).changes === 1;
        if (changed)
          q.audit.run(now, 'source.rotate', id, JSON.stringify({ previousValidUntil: validUntil === null ? null : new Date(validUntil).toISOString() }));
        return changed;
      })();
    },
    /** Ends the grace period of the previous token now; false when there was none. */
    revokeOld(id: string): boolean {
      const now = new Date().toISOString();
      accepted = null;
      return db.transaction(() => {
        const changed = q.revokeOld.run(id).changes === 1;
        if (changed) q.audit.run(now, 'source.revoke-old', id, null);
        return changed;
      })();
    },
  };
}
