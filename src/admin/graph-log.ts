// Keeps the last Graph operations (method, path, status, duration) for the dashboard and
// counts them for /metrics. Bodies are never kept: they can carry passwords.
import type { BatchRequestItem, GraphClient } from '../graph/client';

export interface GraphLogEntry {
  at: string;
  method: string;
  path: string;
  status: number | 'network error';
  ms: number;
  batch?: string;
}

export interface GraphLog {
  entries(limit: number): GraphLogEntry[];
  wrap(client: GraphClient): GraphClient;
}

// Ids in paths are kept (operators look them up); query strings are cut, they may hold filter values.
const shortPath = (path: string) => path.split('?')[0];

export function createGraphLog(capacity = 500, onRecord?: (entry: GraphLogEntry) => void): GraphLog {
  const ring: GraphLogEntry[] = [];
  const push = (entry: GraphLogEntry) => {
    ring.push(entry);
    if (ring.length > capacity) ring.shift();
    onRecord?.(entry);
  };
  return {
    entries: (limit) => ring.slice(-limit).reverse(),
    wrap(client) {
      return {
        get baseUrl() {
          return client.baseUrl;
        },
        get dryRun() {
          return client.dryRun;
        },
        plannedWrites: () => client.plannedWrites(),
        accessToken: client.accessToken?.bind(client),
        async request(method, path, body, headers) {
          const started = Date.now();
          try {
            const res = await client.request(method, path, body, headers);
            push({ at: new Date().toISOString(), method, path: shortPath(path), status: res.status, ms: Date.now() - started });
            return res;
          } catch (err) {
            push({ at: new Date().toISOString(), method, path: shortPath(path), status: 'network error', ms: Date.now() - started });
            throw err;
          }
        },
        async batch(requests: readonly BatchRequestItem[]) {
          const started = Date.now();
          const batchId = `b${started.toString(36)}`;
          const results = await client.batch(requests);
          const ms = Date.now() - started;
          const at = new Date().toISOString();
          results.forEach((r, i) => push({ at, method: requests[i].method, path: shortPath(requests[i].url), status: r.status, ms, batch: batchId }));
          return results;
        },
      } as GraphClient;
    },
  };
}
