// What the engine needs from Graph, in the shape the engine reasons about: every request
// answers with a status (HTTP errors are answers, not exceptions); only a network failure or
// an unreadable response throws. Adapted from src/graph's client in graph-adapter.ts.
import type { GraphOp, OpResponse } from './ops';

export interface SyncGraph {
  send(op: Omit<GraphOp, 'id'> & { id?: string }): Promise<OpResponse>;
  /** One $batch round trip; per-item responses in request order. */
  batch(ops: GraphOp[]): Promise<OpResponse[]>;
  /** App roles in the access token (`roles` claim), or null when unknown. */
  tokenRoles(): Promise<string[] | null>;
}

/** GET that returns the body or throws with Graph's message. */
export async function getJson<T = any>(graph: SyncGraph, url: string, headers?: Record<string, string>): Promise<T> {
  const res = await graph.send({ method: 'GET', url, write: false, headers });
  if (res.status >= 200 && res.status < 300) return res.body as T;
  const err = (res.body as { error?: { code?: string; message?: string } })?.error;
  throw Object.assign(new Error(`GET ${url.split('?')[0]} answered ${res.status}${err ? ` ${err.code}: ${err.message}` : ''}`), { status: res.status });
}
