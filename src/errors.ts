// The bridge's one error family, in the manner of node-oidc-provider's errors: every kind has a
// stable code, an HTTP status and whether its message is safe to show a client (expose); SCIM
// request errors carry their RFC 7644 section 3.12 scimType. scim/ maps any of them to a SCIM error
// body; sync/ reads retryable and retryAfterMs (Graph errors, src/graph/errors.ts, keep Graph's code).
export interface BridgeErrorOptions {
  status?: number;
  scimType?: ScimType;
  expose?: boolean;
  retryable?: boolean;
  retryAfterMs?: number;
  cause?: unknown;
}

export type ScimType =
  'invalidFilter' | 'tooMany' | 'uniqueness' | 'mutability' | 'invalidSyntax' | 'invalidPath' | 'noTarget' | 'invalidValue' | 'invalidVers' | 'sensitive';

export class BridgeError extends Error {
  readonly status: number;
  readonly scimType?: ScimType;
  readonly expose: boolean;
  readonly retryable: boolean;
  readonly retryAfterMs?: number;

  constructor(
    readonly code: string,
    message: string,
    options: BridgeErrorOptions = {},
  ) {
    super(message, options.cause ? { cause: options.cause } : undefined);
    this.name = 'BridgeError';
    this.status = options.status ?? 500;
    this.scimType = options.scimType;
    this.expose = options.expose ?? this.status < 500;
    this.retryable = options.retryable ?? false;
    this.retryAfterMs = options.retryAfterMs;
  }
}

function kind(code: string, status: number, scimType?: ScimType, expose?: boolean) {
  return (detail: string) => new BridgeError(code, detail, { status, scimType, ...(expose !== undefined ? { expose } : {}) });
}

// Refusals of a SCIM request (RFC 7644 section 3.12): the detail is for the client.
export const invalidSyntax = kind('invalid_syntax', 400, 'invalidSyntax');
export const invalidValue = kind('invalid_value', 400, 'invalidValue');
export const invalidPath = kind('invalid_path', 400, 'invalidPath');
export const invalidFilter = kind('invalid_filter', 400, 'invalidFilter');
export const noTarget = kind('no_target', 400, 'noTarget');
export const mutability = kind('mutability', 400, 'mutability');
export const unauthorized = kind('unauthorized', 401);
export const forbidden = kind('forbidden', 403);
export const notFound = kind('not_found', 404);
export const methodNotAllowed = kind('method_not_allowed', 405);
export const uniqueness = kind('uniqueness', 409, 'uniqueness');
/** A bulk operation names a bulkId no other operation of the request defines (RFC 7644 section 3.7.2). */
export const unresolvedBulkId = kind('unresolved_bulk_id', 409, 'invalidValue');
export const preconditionFailed = kind('precondition_failed', 412);
export const payloadTooLarge = kind('payload_too_large', 413);
export const unsupportedMediaType = kind('unsupported_media_type', 415);
/** What the bridge does not do (e.g. /Me): said to the client although the status is 5xx. */
export const notImplemented = kind('not_implemented', 501, undefined, true);

/** The Graph client has no credentials to ask for a token with. */
export const graphNotConfigured = kind('GraphNotConfigured', 500);

/** The configuration cannot be used; each issue names its key. Never shown to a SCIM client. */
export class ConfigError extends BridgeError {
  constructor(readonly issues: string[]) {
    super('invalid_config', `invalid configuration:\n  ${issues.join('\n  ')}`, { status: 500, expose: false });
    this.name = 'ConfigError';
  }
}

/** Moving down from a directory-synced mode needs confirmModeChange (SPEC section 2). */
export class ModeChangeRefused extends BridgeError {
  constructor(
    readonly from: string,
    readonly to: string,
  ) {
    super(
      'mode_change_refused',
      `mode change ${from} -> ${to} moves down from a directory-synced mode: users stop being reverted to their source and ` +
        `lose dirSyncEnabled. Run "scim-graph-bridge plan --mode ${to}" with the current config to see what it would write, ` +
        `then set confirmModeChange: true (BRIDGE_CONFIRM_MODE_CHANGE=true) to go ahead.`,
      { status: 409, expose: false },
    );
    this.name = 'ModeChangeRefused';
  }
}
