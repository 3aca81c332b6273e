// openStore: the one SQLite database of the bridge (better-sqlite3, WAL, foreign keys,
// versioned migrations), with one factory per concept.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Mode, SourceConfig } from '../config';
import { ModeChangeRefused } from '../errors';
import { dirSyncEnabledFor } from '../rules/identity';
import { createAdminQueries } from './admin-queries';
import { createAttributionStore } from './attribution';
import { createAuditStore } from './audit';
import { createCommitGroup, type CommitGroupBounds } from './commit-group';
import { createGroupStore } from './groups';
import { createInboundQueue } from './inbound-queue';
import { startCheckpointer, type Checkpointer } from './checkpointer';
import { migrate } from './migrations';
import { createResourceQueries } from './queries';
import { createOwnershipStore } from './ownership';
import { createSourceTokenStore } from './source-tokens';
import { createSecretBox } from './secrets';
import { createSourceStore } from './sources';
import { createSyncEngineQueries } from './sync-engine-queries';
import { createSyncStore } from './sync-state';
import { createUserStore } from './users';

export type * from './types';
export type { MemberChanges, MemberView } from './groups';
export type * from './filter-types';
export type { ListedResource } from './queries';
export type { SyncEngineQueries } from './sync-engine-queries';
export type { InboundRecord } from './inbound-queue';
export type { CommitGroup } from './commit-group';
export { SOURCE_TOKENS_RECHECK_MS } from './source-tokens';

export interface OpenStoreOptions {
  mode: Mode;
  sources: readonly Pick<SourceConfig, 'id' | 'directories' | 'contributes' | 'seesAll'>[];
  /** Milliseconds a writer waits for another connection's lock (default 5000). */
  busyTimeoutMs?: number;
  /** Allows moving down from user-sync/universal-sync (SPEC section 2); refused otherwise. */
  confirmModeChange?: boolean;
  /** WAL checkpoints in a worker thread instead of inside commits (a serving bridge; ignored for :memory:). */
  backgroundCheckpoints?: boolean;
  /** The key that seals pending passwords (config secretsKey); else secrets.key next to the database (secrets.ts). */
  secretsKey?: string;
  /**
   * Record `mode` as the bridge's mode (default true): a change re-diffs every resource. Only a
   * serving bridge records; commands that only look (preflight, plan, status) and one-shot
   * commands open with false and leave the recorded mode, sync state and audit alone.
   */
  recordMode?: boolean;
  /** Bounds of one group of SCIM writes (commit-group.ts); the defaults suit a serving bridge. */
  commitGroup?: CommitGroupBounds;
}

export type Store = ReturnType<typeof openStore>;

export function openStore(path: string, options: OpenStoreOptions) {
  if (path !== ':memory:' && !path.startsWith('file:')) mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  // NORMAL in WAL mode: a power loss may lose the last commits but never corrupts; commits stay fast.
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
  // Deleted content (a password applied or superseded, even sealed) is overwritten, not left in free pages.
  db.pragma('secure_delete = ON');
  // A store write made inside a caller's transaction (the engine records a round trip's outcomes in
  // one) runs as a savepoint, which journals every page it changes; past 64 KiB SQLite spills that
  // journal to a temporary file, created and unlinked for each such write. In memory it costs a copy.
  // (A write that is itself the outermost transaction, such as a SCIM create, journals no such pages.)
  db.pragma('temp_store = MEMORY');
  let box;
  try {
    box = createSecretBox(path, options.secretsKey);
  } catch (err) {
    db.close();
    throw err;
  }
  migrate(db);

  const audit = createAuditStore(db);
  const attribution = createAttributionStore(db);
  const sync = createSyncStore(db, box, options.mode);
  const sources = createSourceStore(db);
  const users = createUserStore(db, { sync, audit, attribution });
  const groups = createGroupStore(db, { sync, audit, attribution });
  const sourceTokens = createSourceTokenStore(db);
  // Sources added with `sources add` count as configured alongside the config file's.
  const listed = new Set(options.sources.map((s) => s.id));
  sources.sync([
    ...options.sources,
    ...sourceTokens
      .list()
      .filter((m) => !listed.has(m.id))
      .map((m) => ({ id: m.id, directories: m.directories, contributes: [], seesAll: false })),
  ]);
  const onFile = path !== ':memory:' && !path.startsWith('file:');
  let checkpointer: Checkpointer | null = null;
  let previousMode: Mode | null = null;
  try {
    if (options.recordMode !== false) {
      previousMode = recordMode(db, audit, options.mode, Boolean(options.confirmModeChange));
      // A block was the previous mode's preflight verdict; the engine checks the new mode afresh.
      if (previousMode !== null) sync.unblockAll();
    }
    if (options.backgroundCheckpoints && onFile) checkpointer = startCheckpointer(db, path);
  } catch (err) {
    db.close();
    throw err;
  }
  const readRecordedMode = db.prepare(`SELECT value FROM meta WHERE key = 'mode'`).pluck();

  return {
    mode: options.mode,
    /** The mode of the previous run when it differed from this one (mode changes are recorded in audit). */
    previousMode,
    /** The mode the serving bridge last recorded (null on a new database); differs from `mode` in a what-if. */
    recordedMode(): Mode | null {
      return (readRecordedMode.get() as Mode | undefined) ?? null;
    },
    users,
    groups,
    sources,
    sync,
    audit,
    attribution,
    queries: createResourceQueries(db),
    /** Read-only views for the dashboard and the CLI. */
    admin: createAdminQueries(db),
    /** Sources added by `sources add` (token hashes only). */
    sourceTokens,
    ownership: createOwnershipStore(db),
    /** The sync engine's read models and its own state (delta links, approvals, link times). */
    engine: createSyncEngineQueries(db),
    /** The inbound writer's records, from staged to reported by the provisioning log (graph.writer "inbound"). */
    inbound: createInboundQueue(db),
    /** SCIM writes of one event-loop turn share one COMMIT (commit-group.ts). */
    commits: createCommitGroup(db, options.commitGroup),
    /** Runs fn in one transaction (nested calls become savepoints). */
    transaction<T>(fn: () => T): T {
      return db.transaction(fn)();
    },
    close(): void {
      checkpointer?.stop();
      checkpointer = null;
      if (db.open) db.close();
    },
  };
}

function recordMode(db: Database.Database, audit: ReturnType<typeof createAuditStore>, mode: Mode, confirmed: boolean): Mode | null {
  const before = db.prepare(`SELECT value FROM meta WHERE key = 'mode'`).pluck().get() as Mode | undefined;
  if (before === mode) return null;
  if (before && dirSyncEnabledFor(before) && !dirSyncEnabledFor(mode) && !confirmed) throw new ModeChangeRefused(before, mode);
  db.transaction(() => {
    db.prepare(`INSERT INTO meta (key, value) VALUES ('mode', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`).run(mode);
    // dirSyncEnabled is recorded per user by mode (SPEC section 5).
    db.prepare(`UPDATE sync_state SET dir_sync_enabled = ? WHERE type = 'User'`).run(dirSyncEnabledFor(mode) ? 1 : 0);
    // Every resource is diffed again under the new mode's attribute sets.
    db.prepare(
      `UPDATE sync_state SET desired_version = desired_version + 1, next_attempt_at = 0, attempts = 0,
      state = CASE WHEN state = 'blocked' THEN 'blocked' ELSE 'pending' END WHERE deleted = 0`,
    ).run();
    audit.append({ action: 'mode.change', detail: { from: before ?? null, to: mode } });
  })();
  return before ?? null;
}
