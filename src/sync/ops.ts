// One Graph request the engine plans, and the outcome it sorts each response into.
import type { BatchRequestItem } from '../graph/client';
import { classifyGraphResponse, type GraphOutcome } from '../graph/errors';

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

/** The engine's view of the one Graph classifier (graph/errors.ts): ok, retry later, or failed for good. */
export function outcomeOf(o: GraphOutcome, opts: { thrown?: boolean } = {}): OpOutcome {
  if (o.ok) return { kind: 'ok', status: o.status, body: o.body };
  // A thrown error's message already says what failed ("Graph unreachable (ECONNRESET): ...").
  const message = opts.thrown ? o.message : `${o.code}: ${o.message}`;
  if (o.retryable) return { kind: 'retry', status: o.status, message, retryAfterMs: o.retryAfterMs, throttled: o.throttled };
  return { kind: 'failed', status: o.status, code: o.code, message: o.message };
}

/** Sorts one response (see classifyGraphResponse: 408, 424, 429 and 5xx retry later; other 4xx fail). */
export function classifyResponse(res: OpResponse, nowMs?: number): OpOutcome {
  return outcomeOf(classifyGraphResponse(res, { nowMs }));
}

// The published base costs of the requests the bridge sends; any other path costs 1.
const RU_COSTS: [string, RegExp, number][] = [
  ['GET', /^\/users\/?$/, 2],
  ['GET', /^\/subscribedSkus\/?$/, 3],
  ['GET', /^\/groups\/[^/]+\/members\/?$/, 3],
  ['GET', /^\/users\/[^/]+\/(?:memberOf|licenseDetails)\/?$/, 2],
  ['GET', /^\/servicePrincipals\/[^/]+\/appRoleAssignments\/?$/, 2],
];

/**
 * Resource units a request costs (learn.microsoft.com/graph/throttling-limits, identity and access
 * service limits, base request costs): $select takes one off, $expand adds one, $top under 20 takes
 * one off, never below 1.
 */
export function resourceUnitCost(op: Pick<GraphOp, 'method' | 'url'>): number {
  const [path, query = ''] = op.url.split('?');
  const params = new URLSearchParams(query);
  let cost = RU_COSTS.find(([m, re]) => m === op.method && re.test(path))?.[2] ?? 1;
  if (params.has('$select')) cost -= 1;
  if (params.has('$expand')) cost += 1;
  if (params.has('$top') && Number(params.get('$top')) < 20) cost -= 1;
  return Math.max(1, cost);
}
