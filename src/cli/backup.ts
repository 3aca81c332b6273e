// `backup <file>`: a consistent copy of the bridge's SQLite database through SQLite's online backup
// API (better-sqlite3's db.backup), safe while `serve` is running: pages are copied in steps and a
// write by the running bridge restarts nothing it has not already copied consistently. The copy is
// a complete database (no -wal file needed); restore steps are in docs/operations.md.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import { loadConfig } from '../config';
import type { CliIo } from './io';

export async function backup(configFile: string | undefined, file: string, opts: { force?: boolean }, io: CliIo): Promise<number> {
  const config = loadConfig({ file: configFile, env: io.env });
  if (config.database === ':memory:') throw new Error('database is ":memory:": there is nothing on disk to back up');
  const source = resolve(config.database);
  const target = resolve(file);
  if (!existsSync(source)) throw new Error(`no database at ${source}`);
  if (target === source) throw new Error('the backup file must not be the database itself');
  if (existsSync(target) && !opts.force) throw new Error(`${target} exists; choose another file or pass --force`);
  const db = new Database(source, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const { totalPages } = await db.backup(target);
    const check = new Database(target, { readonly: true, fileMustExist: true });
    try {
      const ok = check.pragma('integrity_check', { simple: true });
      if (ok !== 'ok') throw new Error(`the backup at ${target} failed its integrity check: ${ok}`);
      const version = check.prepare('SELECT max(version) FROM schema_migrations').pluck().get();
      io.stdout.write(`backup of ${source} written to ${target} (${totalPages} pages, schema version ${version})\n`);
    } finally {
      check.close();
    }
    return 0;
  } finally {
    db.close();
  }
}
