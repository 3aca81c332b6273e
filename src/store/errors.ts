// SQLite constraint failures as BridgeErrors the SCIM layer can return as they are.
import { BridgeError } from '../errors';

export function uniqueness(detail: string): BridgeError {
  return new BridgeError('uniqueness', detail, { status: 409, scimType: 'uniqueness' });
}

export function notFound(type: string, id: string): BridgeError {
  return new BridgeError('not_found', `${type} ${id} not found`, { status: 404 });
}

export function preconditionFailed(): BridgeError {
  return new BridgeError('precondition_failed', 'resource version does not match If-Match', { status: 412 });
}

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
