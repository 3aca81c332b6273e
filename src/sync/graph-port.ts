// What the engine needs from Graph, in the shape the engine reasons about: every request
// answers with a status (HTTP errors are answers, not exceptions); only a network failure or
// an unreadable response throws. Adapted from src/graph's client in graph-adapter.ts.
import { BridgeError } from '../errors';
import { classifyGraphResponse } from '../graph/errors';
import type { GraphOp, OpResponse } from './ops';

export interface SyncGraph {
  send(op: Omit<GraphOp, 'id'> & { id?: string }): Promise<OpResponse>;
  /** One $batch round trip; per-item responses in request order. */
  batch(ops: GraphOp[]): Promise<OpResponse[]>;
  /** App roles in the access token (`roles` claim), or null when unknown. */
  tokenRoles(): Promise<string[] | null>;
}

/** GET that returns the body, or throws the classified failure (BridgeError: status, retryable) with Graph's message. */
export async function getJson<T>(graph: SyncGraph, url: string, headers?: Record<string, string>): Promise<T> {
  const res = await graph.send({ method: 'GET', url, write: false, headers });
  const outcome = classifyGraphResponse(res);
  if (outcome.ok) return res.body as T;
  const graphSaid = /^HTTP\d+$/.test(outcome.code) ? '' : ` ${outcome.code}: ${outcome.message}`;
  throw new BridgeError(outcome.code, `GET ${url.split('?')[0]} answered ${res.status}${graphSaid}`, {
    status: outcome.status,
    retryable: outcome.retryable,
    ...(outcome.retryAfterMs !== undefined ? { retryAfterMs: outcome.retryAfterMs } : {}),
  });
}
