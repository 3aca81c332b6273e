// The one classifier of Graph outcomes: every answer (whole request or $batch item) and every
// failure without an answer is read here into ok, or Graph's code and message with retryable
// (408, 424, 429, 5xx, network) and retryAfterMs from Retry-After (seconds or an HTTP date;
// learn.microsoft.com/graph/throttling). Whether to retry is sync/'s decision, made from this verdict.
import { BridgeError } from '../errors';

export interface GraphErrorBody {
  error?: { code?: unknown; message?: unknown; innerError?: unknown; details?: unknown };
}

type HeaderBag = Record<string, string | string[] | undefined> | Headers | undefined;

export function headerOf(headers: HeaderBag, name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const bag = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(bag).find((k) => k.toLowerCase() === name.toLowerCase());
  const value = key ? bag[key] : undefined;
  return Array.isArray(value) ? value[0] : value;
}

/** Retry-After (delta-seconds or HTTP-date, RFC 9110 section 10.2.3) in milliseconds. */
export function parseRetryAfter(value: string | undefined, nowMs = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const raw = value.trim();
  if (/^\d+(\.\d+)?$/.test(raw)) return Math.round(Number(raw) * 1000);
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

export function isRetryableStatus(status: number): boolean {
  // 424: a $batch item whose dependsOn failed; it can run once its dependency does.
  return status === 429 || status === 408 || status === 424 || status >= 500;
}

// Cut anything shaped like a bearer token, a JWT or a client secret assignment out of a message
// before it reaches an error or a log line.
const SECRET_PATTERNS: RegExp[] = [
  /Bearer\s+[A-Za-z0-9._~+/=-]+/gi,
  /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g,
  /(client_secret|password|access_token|refresh_token|client_assertion)=([^&\s"]+)/gi,
  /("(?:password|clientSecret|client_secret|access_token)"\s*:\s*)"[^"]*"/gi,
];

export function redactSecrets(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text;
  for (const secret of secrets) if (secret && secret.length >= 4) out = out.split(secret).join('[redacted]');
  out = out.replace(SECRET_PATTERNS[0], 'Bearer [redacted]');
  out = out.replace(SECRET_PATTERNS[1], '[redacted-jwt]');
  out = out.replace(SECRET_PATTERNS[2], '$1=[redacted]');
  out = out.replace(SECRET_PATTERNS[3], '$1"[redacted]"');
  return out;
}

export interface GraphFailure {
  status: number;
  headers?: HeaderBag;
  body?: unknown;
}

/** Retry-After of a response (header name in any case), in milliseconds. */
export function retryAfterMs(headers: HeaderBag, nowMs = Date.now()): number | undefined {
  return parseRetryAfter(headerOf(headers, 'retry-after'), nowMs);
}

/** What one Graph answer (a whole request, one $batch item, or a failure before any answer) means. */
export type GraphOutcome =
  | { ok: true; status: number; body?: unknown }
  | { ok: false; status: number; code: string; message: string; retryable: boolean; throttled: boolean; retryAfterMs?: number };

export type GraphFailureOutcome = Extract<GraphOutcome, { ok: false }>;

export interface ClassifyOptions {
  /** Values cut out of Graph's message (the client secret). */
  secrets?: readonly (string | undefined)[];
  nowMs?: number;
}

/** The one place that reads a Graph answer: 2xx ok; otherwise Graph's code and message, retryable, Retry-After. */
export function classifyGraphResponse(res: GraphFailure, options: ClassifyOptions = {}): GraphOutcome {
  if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status, body: res.body };
  const body = (typeof res.body === 'string' ? tryJson(res.body) : res.body) as GraphErrorBody | undefined;
  const err = body && typeof body === 'object' ? body.error : undefined;
  const code = typeof err?.code === 'string' && err.code ? err.code : `HTTP${res.status}`;
  const rawMessage =
    typeof err?.message === 'string' && err.message
      ? err.message
      : typeof res.body === 'string' && res.body.trim()
        ? res.body.trim().slice(0, 500)
        : `Graph answered HTTP ${res.status}`;
  const after = retryAfterMs(res.headers, options.nowMs);
  return {
    ok: false,
    status: res.status,
    code,
    message: redactSecrets(rawMessage, options.secrets),
    retryable: isRetryableStatus(res.status),
    throttled: res.status === 429,
    ...(after !== undefined ? { retryAfterMs: after } : {}),
  };
}

/**
 * A request that threw instead of answering: an error already classified (a BridgeError from the
 * client, or anything carrying a status) keeps its verdict; anything else is a network failure.
 */
export function classifyThrown(error: unknown, options: ClassifyOptions = {}): GraphFailureOutcome {
  const e = error as { status?: unknown; code?: unknown; message?: unknown; retryable?: unknown; retryAfterMs?: unknown };
  const known = error instanceof BridgeError || (typeof e?.status === 'number' && e.status >= 400);
  const err = known ? e : classifyNetworkError(error, options.secrets);
  const status = err.status as number;
  return {
    ok: false,
    status,
    code: typeof err.code === 'string' ? err.code : 'NetworkError',
    message: String(err.message ?? error),
    retryable: typeof err.retryable === 'boolean' ? err.retryable : isRetryableStatus(status),
    throttled: status === 429,
    ...(typeof err.retryAfterMs === 'number' ? { retryAfterMs: err.retryAfterMs } : {}),
  };
}

/** Whether a failed Graph call (thrown by the client or by a caller from an answer) is worth trying again. */
export function isRetryableFailure(error: unknown): boolean {
  return classifyThrown(error).retryable;
}

/** An HTTP error response from Graph (whole request or one $batch item) as a BridgeError. */
export function classifyGraphError(failure: GraphFailure, secrets: readonly (string | undefined)[] = [], nowMs = Date.now()): BridgeError {
  const o = classifyGraphResponse(failure, { secrets, nowMs });
  if (o.ok) throw new RangeError(`HTTP ${failure.status} is not a failure`);
  return new BridgeError(o.code, o.message, {
    status: o.status,
    retryable: o.retryable,
    ...(o.retryAfterMs !== undefined ? { retryAfterMs: o.retryAfterMs } : {}),
    expose: o.status < 500,
  });
}

/** A network failure (DNS, TLS, reset, timeout) or an authentication failure before any response. */
export function classifyNetworkError(error: unknown, secrets: readonly (string | undefined)[] = []): BridgeError {
  if (error instanceof BridgeError) return error;
  const e = error as { name?: string; message?: string; code?: string; cause?: { code?: string; message?: string } };
  const name = e?.name ?? '';
  // @azure/identity: the token endpoint refused the credentials (AuthenticationRequiredError from
  // MSAL's invalid_client, or AuthenticationError with its status): retrying will not help unless
  // the token endpoint itself was throttled or failing.
  if (name === 'AuthenticationError' || name === 'AuthenticationRequiredError' || name === 'AggregateAuthenticationError') {
    const status = (error as { statusCode?: number }).statusCode;
    const transient = status !== undefined && (status === 429 || status >= 500);
    return new BridgeError('AuthenticationFailed', redactSecrets(`token request refused: ${firstLine(e.message)}`, secrets), {
      status: 401,
      retryable: transient,
      expose: false,
    });
  }
  // The authority could not be reached (DNS, TLS, refused): MSAL reports endpoints_resolution_error.
  if (name === 'CredentialUnavailableError') {
    return new BridgeError('AuthorityUnreachable', redactSecrets(`token endpoint unreachable: ${firstLine(e.message)}`, secrets), {
      status: 503,
      retryable: true,
      expose: false,
    });
  }
  const code = e?.cause?.code ?? e?.code ?? (name === 'AbortError' || name === 'TimeoutError' ? 'ETIMEDOUT' : 'NetworkError');
  const detail = e?.cause?.message ?? e?.message ?? String(error);
  return new BridgeError('NetworkError', redactSecrets(`Graph unreachable (${code}): ${firstLine(detail)}`, secrets), {
    status: 503,
    retryable: true,
    expose: false,
  });
}

function firstLine(message: string | undefined): string {
  return String(message ?? '')
    .split('\n')[0]
    .slice(0, 300);
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
