// One Graph request the engine plans, and the outcome it sorts each response into.
import type { BatchRequestItem } from '../graph/client';

export type { GraphMethod } from '../graph/requests';

/** A $batch item (id unique within one batch, relative url, dependsOn) that the engine also budgets. */
export interface GraphOp extends BatchRequestItem {
  /** Writes spend the write budget; lookups do not. */
  write: boolean;
}

export interface OpResponse {
  id: string;
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export type OpOutcome =
  | { kind: 'ok'; status: number; body?: unknown }
  | { kind: 'retry'; status: number; message: string; retryAfterMs?: number; throttled: boolean }
  | { kind: 'failed'; status: number; code: string; message: string };

/** Graph's error body: {"error":{"code","message",...}}. */
export function graphErrorOf(body: unknown): { code: string; message: string } {
  const err = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  return {
    code: typeof err?.code === 'string' ? err.code : 'UnknownError',
    message: typeof err?.message === 'string' ? err.message : 'Graph returned an error without a message',
  };
}

function headerValue(headers: Record<string, string> | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key ? headers[key] : undefined;
}

/** Retry-After in seconds (Graph sends seconds) or an HTTP date, to milliseconds. */
export function retryAfterMs(headers: Record<string, string> | undefined, nowMs = Date.now()): number | undefined {
  const raw = headerValue(headers, 'retry-after');
  if (raw === undefined) return undefined;
  if (/^\d+(\.\d+)?$/.test(raw.trim())) return Math.round(Number(raw) * 1000);
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** Sorts one response: 2xx ok; 429, 5xx and 424 (a failed dependency) retry later; other 4xx fail. */
export function classifyResponse(res: OpResponse): OpOutcome {
  if (res.status >= 200 && res.status < 300) return { kind: 'ok', status: res.status, body: res.body };
  const { code, message } = graphErrorOf(res.body);
  if (res.status === 429 || res.status >= 500 || res.status === 424 || res.status === 408) {
    return {
      kind: 'retry',
      status: res.status,
      message: `${code}: ${message}`,
      retryAfterMs: retryAfterMs(res.headers),
      throttled: res.status === 429,
    };
  }
  return { kind: 'failed', status: res.status, code, message };
}

/**
 * Resource units a request costs (learn.microsoft.com/graph/throttling-limits, identity and access
 * service limits): listing users 2, any other request 1; $select takes one off, never below 1.
 */
export function resourceUnitCost(op: Pick<GraphOp, 'method' | 'url'>): number {
  const [path, query = ''] = op.url.split('?');
  let cost = op.method === 'GET' && /^\/users\/?$/.test(path) ? 2 : 1;
  if (/(^|&)\$select=/.test(decodeURIComponent(query))) cost -= 1;
  return Math.max(1, cost);
}
