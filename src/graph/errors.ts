// Graph failures -> BridgeError: status, Graph's error.code as the code, Graph's message as the
// message, retryable for 429, 5xx and network failures, retryAfterMs from Retry-After (seconds or
// an HTTP date; learn.microsoft.com/graph/throttling). Whether to retry is sync/'s decision.
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

/** An HTTP error response from Graph (whole request or one $batch item) as a BridgeError. */
export function classifyGraphError(failure: GraphFailure, secrets: readonly (string | undefined)[] = [], nowMs = Date.now()): BridgeError {
  const body = (typeof failure.body === 'string' ? tryJson(failure.body) : failure.body) as GraphErrorBody | undefined;
  const err = body && typeof body === 'object' ? body.error : undefined;
  const code = typeof err?.code === 'string' && err.code ? err.code : `HTTP${failure.status}`;
  const rawMessage =
    typeof err?.message === 'string' && err.message
      ? err.message
      : typeof failure.body === 'string' && failure.body.trim()
        ? failure.body.trim().slice(0, 500)
        : `Graph answered HTTP ${failure.status}`;
  const retryAfterMs = parseRetryAfter(headerOf(failure.headers, 'retry-after'), nowMs);
  return new BridgeError(code, redactSecrets(rawMessage, secrets), {
    status: failure.status,
    retryable: isRetryableStatus(failure.status),
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    expose: failure.status < 500,
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
  return String(message ?? '').split('\n')[0].slice(0, 300);
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
