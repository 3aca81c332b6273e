// Versioned schema migrations. Each runs once, in order, inside a transaction, and is
// recorded in schema_migrations; never edit a released migration, append a new one.
import type { Database } from 'better-sqlite3';
import { identityKey } from './identity-key';

interface Migration {
  version: number;
  name: string;
  sql: string;
  /** Data changes SQL cannot express, run after `sql` in the same transaction. */
  run?: (db: Database) => void;
}

/**
 * Fills a key column from its source column. Rows whose key collides with an earlier row's (possible
 * only for names that differed beyond ASCII case before keys existed) keep a key of their own, made
 * unique by their id, so an upgrade never fails and they keep working; a write that changes such a name
 * is checked normally (users.ts and groups.ts keep the key while the name is unchanged).
 */
function backfillKeys(db: Database, table: 'users' | 'groups', column: string, keyColumn: string): void {
  const rows = db.prepare(`SELECT id, ${column} AS name FROM ${table} WHERE deleted = 0 ORDER BY rowid`).all() as { id: string; name: string }[];
  const set = db.prepare(`UPDATE ${table} SET ${keyColumn} = ? WHERE id = ?`);
  const seen = new Set<string>();
  for (const row of rows) {
    const key = identityKey(row.name);
    set.run(seen.has(key) ? `${key}\u0000${row.id}` : key, row.id);
    seen.add(key);
  }
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'initial',
    sql: `
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

      CREATE TABLE sources (
        id TEXT PRIMARY KEY,
        directories TEXT NOT NULL DEFAULT '[]',
        contributes TEXT NOT NULL DEFAULT '[]',
        sees_all INTEGER NOT NULL DEFAULT 0,
        configured INTEGER NOT NULL DEFAULT 1,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      ) WITHOUT ROWID;

      -- data: the SCIM resource without id, meta, password and read-only bridge attributes.
      CREATE TABLE users (
        id TEXT PRIMARY KEY,
        source_id TEXT NOT NULL REFERENCES sources(id),
        user_name TEXT NOT NULL,
        external_id TEXT,
        display_name TEXT,
        active INTEGER NOT NULL DEFAULT 1,
        data TEXT NOT NULL,
        version INTEGER NOT NULL DEFAULT 1,
        created TEXT NOT NULL,
        last_modified TEXT NOT NULL,
        deleted INTEGER NOT NULL DEFAULT 0
      );
      CREATE UNIQUE INDEX users_user_name ON users(user_name COLLATE NOCASE) WHERE deleted = 0;
      CREATE INDEX users_external_id ON users(external_id) WHERE deleted = 0;
      CREATE INDEX users_display_name ON users(display_name COLLATE NOCASE) WHERE deleted = 0;
      CREATE INDEX users_created ON users(created) WHERE deleted = 0;
      CREATE INDEX users_last_modified ON users(last_modified) WHERE deleted = 0;
      CREATE INDEX users_source ON users(source_id, user_name COLLATE NOCASE) WHERE deleted = 0;
      CREATE INDEX users_family_name ON users((data ->> '$.name.familyName') COLLATE NOCASE) WHERE deleted = 0;
      CREATE INDEX users_given_name ON users((data ->> '$.name.givenName') COLLATE NOCASE) WHERE deleted = 0;
      CREATE INDEX users_employee_number ON users(
        (data ->> '$."urn:ietf:params:scim:schemas:extension:enterprise:2.0:User".employeeNumber') COLLATE NOCASE
      ) WHERE deleted = 0;

      -- Multi-valued attribute values (emails, phoneNumbers, ...) as rows, so filters on them use an index.
      CREATE TABLE user_values (
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        attr TEXT NOT NULL,
        value TEXT NOT NULL COLLATE NOCASE,
        PRIMARY KEY (attr, value, user_id)
      ) WITHOUT ROWID;
      CREATE INDEX user_values_user ON user_values(user_id);

      CREATE TABLE groups (
        id TEXT PRIMARY KEY,
        source_id TEXT NOT NULL REFERENCES sources(id),
        display_name TEXT NOT NULL,
        external_id TEXT,
        data TEXT NOT NULL,
        version INTEGER NOT NULL DEFAULT 1,
        created TEXT NOT NULL,
        last_modified TEXT NOT NULL,
        deleted INTEGER NOT NULL DEFAULT 0
      );
      CREATE UNIQUE INDEX groups_display_name ON groups(display_name COLLATE NOCASE) WHERE deleted = 0;
      CREATE INDEX groups_external_id ON groups(external_id) WHERE deleted = 0;
      CREATE INDEX groups_created ON groups(created) WHERE deleted = 0;
      CREATE INDEX groups_last_modified ON groups(last_modified) WHERE deleted = 0;

      -- present: the member is desired; in_graph: the sync engine has applied it. A row with
      -- present <> in_graph is a pending add or remove, found through the partial index.
      CREATE TABLE memberships (
        group_id TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
        member_id TEXT NOT NULL,
        member_type TEXT NOT NULL DEFAULT 'User',
        present INTEGER NOT NULL DEFAULT 1,
        in_graph INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (group_id, member_id)
      ) WITHOUT ROWID;
      CREATE INDEX memberships_member ON memberships(member_id, group_id);
      CREATE INDEX memberships_pending ON memberships(group_id, member_id) WHERE present <> in_graph;

      CREATE TABLE attribution (
        resource_type TEXT NOT NULL,
        resource_id TEXT NOT NULL,
        attribute TEXT NOT NULL,
        source_id TEXT NOT NULL,
        set_at TEXT NOT NULL,
        PRIMARY KEY (resource_type, resource_id, attribute)
      ) WITHOUT ROWID;

      CREATE TABLE audit (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        source_id TEXT,
        action TEXT NOT NULL,
        resource_type TEXT,
        resource_id TEXT,
        detail TEXT
      );
      CREATE INDEX audit_resource ON audit(resource_type, resource_id);
      CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
      CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;

      CREATE TABLE sync_state (
        type TEXT NOT NULL,
        id TEXT NOT NULL,
        desired_version INTEGER NOT NULL DEFAULT 0,
        applied_version INTEGER NOT NULL DEFAULT 0,
        applied_snapshot TEXT,
        graph_id TEXT,
        state TEXT NOT NULL DEFAULT 'pending',
        last_error TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL DEFAULT 0,
        dirty_seq INTEGER NOT NULL DEFAULT 0,
        dir_sync_enabled INTEGER,
        tokens_valid_from TEXT,
        applied_tokens_valid_from TEXT,
        graph_tokens_valid_from TEXT,
        pending_password TEXT,
        password_version INTEGER,
        deleted INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (type, id)
      ) WITHOUT ROWID;
      CREATE INDEX sync_state_due ON sync_state(dirty_seq)
        WHERE state <> 'blocked' AND (desired_version > applied_version OR state = 'pending');
      CREATE INDEX sync_state_graph_id ON sync_state(graph_id) WHERE graph_id IS NOT NULL;
    `,
  },
  {
    version: 2,
    name: 'membership display',
    // The display a client sent with a member (Entra sends it, and reads it back).
    sql: `ALTER TABLE memberships ADD COLUMN display TEXT;`,
  },
  {
    version: 3,
    name: 'managed source tokens',
    // Sources added with `sources add`: only the sha256 of their token is kept.
    sql: `CREATE TABLE source_tokens (
        id TEXT PRIMARY KEY,
        token_sha256 TEXT NOT NULL,
        directories TEXT NOT NULL DEFAULT '[]',
        created_at TEXT NOT NULL,
        rotated_at TEXT
      ) WITHOUT ROWID;`,
  },
  {
    version: 4,
    name: 'indexes for dirty order and owner-scoped pages',
    // max(dirty_seq) on every write needs an index over all rows (the due index is partial); an
    // owner index on source_id alone keeps rowid order, so an owner's page needs no sort.
    sql: `
      CREATE INDEX sync_state_seq ON sync_state(dirty_seq);
      DROP INDEX users_source;
      CREATE INDEX users_source ON users(source_id) WHERE deleted = 0;
      CREATE INDEX groups_source ON groups(source_id) WHERE deleted = 0;
      CREATE INDEX sync_state_state ON sync_state(type, state COLLATE NOCASE);
    `,
  },
  {
    version: 5,
    name: 'sync engine state',
    // The engine's key/value state (delta links, approvals) and when it created or matched a Graph object
    // (replication delay, src/sync/replication.ts). Earlier releases created both tables outside the
    // migrations, hence IF NOT EXISTS.
    sql: `
      CREATE TABLE IF NOT EXISTS sync_engine_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS sync_engine_linked (graph_id TEXT PRIMARY KEY, linked_at INTEGER NOT NULL) WITHOUT ROWID;
    `,
  },
  {
    version: 6,
    name: 'canonical identity keys',
    // Uniqueness on the key Graph compares (identity-key.ts), not on ASCII-only NOCASE.
    sql: `
      ALTER TABLE users ADD COLUMN user_name_key TEXT;
      ALTER TABLE groups ADD COLUMN display_name_key TEXT;
    `,
    run(db) {
      backfillKeys(db, 'users', 'user_name', 'user_name_key');
      backfillKeys(db, 'groups', 'display_name', 'display_name_key');
      db.exec(`
        CREATE UNIQUE INDEX users_user_name_key ON users(user_name_key) WHERE deleted = 0;
        CREATE UNIQUE INDEX groups_display_name_key ON groups(display_name_key) WHERE deleted = 0;
      `);
    },
  },
  {
    version: 7,
    name: 'attribution as one row per resource',
    // One row per resource instead of one per attribute: a create writes one row, not a dozen.
    // attrs: {"<attribute>": ["<source id>", "<set at>"], ...}, merged with json_patch on each write.
    sql: `
      CREATE TABLE resource_attribution (
        resource_type TEXT NOT NULL,
        resource_id TEXT NOT NULL,
        attrs TEXT NOT NULL,
        PRIMARY KEY (resource_type, resource_id)
      ) WITHOUT ROWID;
      INSERT INTO resource_attribution (resource_type, resource_id, attrs)
        SELECT resource_type, resource_id, json_group_object(attribute, json_array(source_id, set_at))
        FROM attribution GROUP BY resource_type, resource_id;
      DROP TABLE attribution;
    `,
  },
  {
    version: 8,
    name: 'urgent changes',
    // urgent: the change behind the dirty mark takes something away from a resource (deactivation,
    // deletion, password or token validity, licence or member removal) or an operator asked for it
    // (retry); reset when the row is applied. The engine takes urgent rows already in Graph first.
    sql: `
      ALTER TABLE sync_state ADD COLUMN urgent INTEGER NOT NULL DEFAULT 0;
      CREATE INDEX sync_state_urgent ON sync_state(dirty_seq)
        WHERE urgent = 1 AND graph_id IS NOT NULL AND state <> 'blocked' AND (desired_version > applied_version OR state = 'pending');
    `,
  },
  {
    version: 9,
    name: 'engine create records',
    // A create the engine sent and has no answer for yet (src/sync/adoption.ts): the object a later lookup finds
    // under match_key is the engine's own (a crash between POST and commit), not a tenant object to adopt.
    sql: `
      CREATE TABLE IF NOT EXISTS sync_engine_creates (type TEXT NOT NULL, id TEXT NOT NULL, match_key TEXT NOT NULL,
        sent_at INTEGER NOT NULL, PRIMARY KEY (type, id)) WITHOUT ROWID;
    `,
  },
  {
    version: 10,
    name: 'source token grace period',
    // After `sources rotate` the previous token stays valid until previous_valid_until (epoch ms),
    // so an IdP can be switched over to the new one.
    sql: `
      ALTER TABLE source_tokens ADD COLUMN previous_token_sha256 TEXT;
      ALTER TABLE source_tokens ADD COLUMN previous_valid_until INTEGER;
    `,
  },
  {
    version: 11,
    name: 'mode each resource was applied under',
    // The mode whose attribute sets the engine last applied a resource with; NULL for rows applied
    // before it was recorded. reconcile --full re-queues rows applied under another mode.
    sql: `ALTER TABLE sync_state ADD COLUMN applied_mode TEXT;`,
  },
  {
    version: 12,
    name: 'inbound provisioning records',
    // graph.writer "inbound" (src/sync/inbound-writer.ts): each user record for the inbound provisioning
    // app, stored before its bulkUpload is sent and kept until the provisioning log reports it, so a stop
    // between the 202 and the log entry loses nothing. state: queued (to send), sent (202 received,
    // sent_at), awaiting (the log says success; the Entra user is not visible yet), done (outcome).
    // applies: what the record puts in Graph once reported (the Graph properties and manager), for the snapshot.
    // inbound_calls: the time of each bulkUpload call, for Microsoft's daily quota.
    sql: `
      CREATE TABLE IF NOT EXISTS inbound_records (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        resource_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        kind TEXT NOT NULL,
        external_id TEXT NOT NULL,
        bulk_id TEXT NOT NULL,
        operation TEXT NOT NULL,
        applies TEXT NOT NULL DEFAULT '{}',
        urgent INTEGER NOT NULL DEFAULT 0,
        state TEXT NOT NULL DEFAULT 'queued',
        queued_at INTEGER NOT NULL,
        sent_at INTEGER,
        attempts INTEGER NOT NULL DEFAULT 0,
        log_id TEXT,
        target_id TEXT,
        outcome TEXT
      );
      CREATE INDEX IF NOT EXISTS inbound_records_queue ON inbound_records (urgent DESC, seq) WHERE state = 'queued';
      CREATE INDEX IF NOT EXISTS inbound_records_key ON inbound_records (external_id, seq) WHERE state IN ('sent', 'awaiting');
      CREATE INDEX IF NOT EXISTS inbound_records_resource ON inbound_records (resource_id, seq);
      CREATE UNIQUE INDEX IF NOT EXISTS inbound_records_log ON inbound_records (log_id) WHERE log_id IS NOT NULL;
      CREATE TABLE IF NOT EXISTS inbound_calls (at INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS inbound_calls_at ON inbound_calls (at);
    `,
  },
  {
    version: 13,
    name: 'indexes for the engine status',
    // What the engine asks after every run and /healthz on every probe, without reading every row:
    // the queue depth counts the due index alone (it carries the columns of its own condition), the
    // latest errors come from the error rows, and the deprovisions still to do from the deleted rows
    // not yet applied and the inactive users.
    sql: `
      DROP INDEX sync_state_due;
      CREATE INDEX sync_state_due ON sync_state(dirty_seq, state, desired_version, applied_version)
        WHERE state <> 'blocked' AND (desired_version > applied_version OR state = 'pending');
      CREATE INDEX sync_state_errors ON sync_state(dirty_seq) WHERE state = 'error';
      CREATE INDEX sync_state_deleting ON sync_state(type, id) WHERE deleted = 1 AND desired_version > applied_version;
      CREATE INDEX users_inactive ON users(id) WHERE active = 0;
    `,
  },
  {
    version: 14,
    name: 'attribution rows in write order',
    // A resource's attribution row (about 1 KB) was stored in key order (WITHOUT ROWID on type and a
    // random id): each write landed in a random page of four rows, splitting one every other insert.
    // Rows now go to the end of the table, found through a small unique index on the same key.
    sql: `
      CREATE TABLE resource_attribution_new (
        seq INTEGER PRIMARY KEY,
        resource_type TEXT NOT NULL,
        resource_id TEXT NOT NULL,
        attrs TEXT NOT NULL
      );
      INSERT INTO resource_attribution_new (resource_type, resource_id, attrs)
        SELECT resource_type, resource_id, attrs FROM resource_attribution;
      DROP TABLE resource_attribution;
      ALTER TABLE resource_attribution_new RENAME TO resource_attribution;
      CREATE UNIQUE INDEX resource_attribution_key ON resource_attribution(resource_type, resource_id);
    `,
  },
  {
    version: 15,
    name: 'indexes for rows and records that wait',
    // A large load under the inbound writer leaves every user's row pending with a retry time an hour
    // ahead (waiting for the provisioning service) and its record in flight. Each run asked for the due
    // rows by walking the whole due index in dirty_seq order and reading next_attempt_at from the table
    // row; each poll asked for the oldest record in flight and the awaiting ones by reading all of them.
    // These indexes answer those from the rows that are actually due, the first sent_at, the awaiting.
    sql: `
      CREATE INDEX sync_state_next ON sync_state(next_attempt_at)
        WHERE state <> 'blocked' AND (desired_version > applied_version OR state = 'pending');
      CREATE INDEX inbound_records_sent ON inbound_records (sent_at) WHERE state IN ('sent', 'awaiting');
      CREATE INDEX inbound_records_awaiting ON inbound_records (seq) WHERE state = 'awaiting';
    `,
  },
  {
    version: 16,
    name: 'engine read-backs in a table',
    // What the engine reads back from Graph after a delay (src/sync/user-apply.ts: tokens after a revoke;
    // src/sync/license-groups.ts: licence assignment states after a licence group join), one row per
    // resource instead of one JSON value in sync_engine_meta that every chunk of an initial load parsed
    // and wrote back whole (100,000 entries under group-based licensing). taken: in the read-back under
    // way. The due times recorded in sync_engine_meta move here.
    sql: `
      CREATE TABLE sync_engine_readback (kind TEXT NOT NULL, id TEXT NOT NULL, due_at INTEGER NOT NULL,
        taken INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (kind, id)) WITHOUT ROWID;
      CREATE INDEX sync_engine_readback_due ON sync_engine_readback(kind, due_at);
      CREATE INDEX sync_engine_readback_taken ON sync_engine_readback(kind, due_at, id) WHERE taken = 1;
      INSERT OR REPLACE INTO sync_engine_readback (kind, id, due_at)
        SELECT CASE m.key WHEN 'tokens.readback' THEN 'tokens' ELSE 'licences' END, j.key, j.value
        FROM sync_engine_meta m, json_each(m.value) j
        WHERE m.key IN ('tokens.readback', 'licenses.readback') AND json_valid(m.value) AND json_type(j.value) IN ('integer', 'real');
      DELETE FROM sync_engine_meta WHERE key IN ('tokens.readback', 'licenses.readback');
    `,
  },
  {
    version: 17,
    name: 'audit without AUTOINCREMENT',
    // AUTOINCREMENT only keeps a deleted row's number from coming back, and the triggers refuse
    // deletes: it bought nothing, and every accepted write paid for it with one more page
    // (sqlite_sequence) in its commit. The rows keep their numbers, so readers paging by seq see no change.
    sql: `
      CREATE TABLE audit_new (
        seq INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        source_id TEXT,
        action TEXT NOT NULL,
        resource_type TEXT,
        resource_id TEXT,
        detail TEXT
      );
      INSERT INTO audit_new (seq, at, source_id, action, resource_type, resource_id, detail)
        SELECT seq, at, source_id, action, resource_type, resource_id, detail FROM audit ORDER BY seq;
      DROP TABLE audit;
      ALTER TABLE audit_new RENAME TO audit;
      CREATE INDEX audit_resource ON audit(resource_type, resource_id);
      CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
      CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
    `,
  },
];

export function migrate(db: Database): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
  const done = new Set(db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[]);
  const applied: number[] = [];
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const m of migrations) {
    if (done.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      m.run?.(db);
      record.run(m.version, m.name, new Date().toISOString());
    })();
    applied.push(m.version);
  }
  return applied;
}
