// SQLite constraint failures as the catalogue's errors, which the SCIM layer returns as they are.
import { uniqueness } from '../errors';

/** Runs fn and turns a UNIQUE constraint failure into 409 uniqueness. */
export function mapConstraint<T>(fn: () => T, detail: string): T {
  try {
    return fn();
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw uniqueness(detail);
    throw err;
  }
}
