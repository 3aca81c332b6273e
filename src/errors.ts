// One error type for the whole bridge: a stable code, an HTTP status, and whether the
// message is safe to show a client. scim/ maps it to a SCIM error body; sync/ reads
// retryable and retryAfterMs to decide whether to try again.
export interface BridgeErrorOptions {
  status?: number;
  scimType?: string;
  expose?: boolean;
  retryable?: boolean;
  retryAfterMs?: number;
  cause?: unknown;
}

export class BridgeError extends Error {
  readonly status: number;
  readonly scimType?: string;
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
