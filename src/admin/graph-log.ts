// Keeps the last Graph operations (method, path, status, duration, Graph's error message) for the
// console and counts them for /metrics. Each entry names the bridge resource it concerned (found
// from the Graph id in the path, or the UPN / group name a lookup or create carried), so a user's
// page lists the requests made for that user. Bodies are never kept: they can carry passwords.
import type { BatchRequestItem, GraphClient } from '../graph/client';
import { redactSecrets } from '../graph/errors';
import type { ResourceType } from '../store';

export interface GraphLogEntry {
  seq: number;
  at: string;
  method: string;
  path: string;
  status: number | 'network error';
  ms: number;
  batch?: string;
  /** The bridge resource the request concerned, when known (the first, for a lookup of several). */
  resource?: { type: ResourceType; id: string };
  /** How many more resources a lookup of several users concerned (each lists it among its requests). */
  more?: number;
  /** Graph's error code and message for an answer of 400 or more (secrets redacted). */
  error?: string;
}

/** What a request names of its target, read from its URL, its body's identity keys and the answer's id. */
export interface GraphTargetKeys {
  graphId?: string;
  userName?: string;
  groupName?: string;
  /** A lookup of several users at once (`userPrincipalName in (...)`). */
  userNames?: string[];
}

export type ResourceResolver = (keys: GraphTargetKeys) => { type: ResourceType; id: string } | null;

export interface GraphLog {
  entries(limit: number): GraphLogEntry[];
  /** The latest entries (newest first) that concerned one resource; with afterSeq, only newer ones. */
  forResource(type: ResourceType, id: string, options?: { limit?: number; afterSeq?: number }): GraphLogEntry[];
  /** Sequence number of the latest entry (0 before any). */
  lastSeq(): number;
  /** Writes (anything but GET) recorded in the last `ms` milliseconds. */
  writesWithin(ms: number): number;
  wrap(client: GraphClient): GraphClient;
}

export interface GraphLogOptions {
  resolve?: ResourceResolver;
  /** Strings never to show (the client secret). */
  secrets?: readonly (string | undefined)[];
  /** Entries kept per resource (default 30) and resources remembered (default 20,000). */
  perResource?: number;
  resources?: number;
}

// Ids in paths are kept (operators look them up); query strings are cut, they may hold filter values.
const shortPath = (path: string) => path.split('?')[0];

// `property eq 'v'`, or a look-up of one value `property in ('v')`; a look-up of several users at once
// (the engine reads up to 15 per request) concerns no single resource.
function odataLiteral(filter: string | null, property: string): string | undefined {
  if (!filter) return undefined;
  const m = new RegExp(`${property} (?:eq '((?:[^']|'')*)'|in \\('((?:[^']|'')*)'\\))`).exec(filter);
  const value = m?.[1] ?? m?.[2];
  return value === undefined ? undefined : value.replace(/''/g, "'");
}

/** The identity keys of a request, never any other value of its body. */
export function targetKeys(method: string, url: string, body: unknown, answer: unknown): GraphTargetKeys {
  const [path, query] = url.replace(/^\/v1\.0/, '').split('?');
  const segs = path.split('/').filter(Boolean);
  const keys: GraphTargetKeys = {};
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  if ((segs[0] === 'users' || segs[0] === 'groups') && segs[1] && segs[1] !== 'delta') keys.graphId = decode(segs[1]);
  if (segs[0] === 'directory' && segs[1] === 'deletedItems' && segs[2]) keys.graphId = decode(segs[2]);
  if (segs.length === 1 && query) {
    let filter: string | null;
    try {
      filter = new URLSearchParams(query).get('$filter');
    } catch {
      filter = null;
    }
    if (segs[0] === 'users') keys.userName = odataLiteral(filter, 'userPrincipalName');
    const list = segs[0] === 'users' && filter ? /userPrincipalName in \((.*)\)/.exec(filter) : null;
    const names = list ? [...list[1].matchAll(/'((?:[^']|'')*)'/g)].map((m) => m[1].replace(/''/g, "'")) : [];
    if (names.length > 1) keys.userNames = names;
    if (segs[0] === 'groups') keys.groupName = odataLiteral(filter, 'displayName');
  }
  if (method === 'POST' && segs.length === 1) {
    const b = body as Record<string, unknown> | undefined;
    if (segs[0] === 'users' && typeof b?.userPrincipalName === 'string') keys.userName = b.userPrincipalName;
    if (segs[0] === 'groups' && typeof b?.displayName === 'string') keys.groupName = b.displayName;
    const id = (answer as { id?: unknown } | undefined)?.id;
    if (typeof id === 'string') keys.graphId = id;
  }
  return keys;
}

function errorText(status: number, body: unknown, secrets: readonly (string | undefined)[]): string | undefined {
  if (status < 400) return undefined;
  const err = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  if (!err) return undefined;
  const text = [typeof err.code === 'string' ? err.code : '', typeof err.message === 'string' ? err.message : ''].filter(Boolean).join(': ');
  return text ? redactSecrets(text, secrets).slice(0, 500) : undefined;
}

export function createGraphLog(capacity = 500, onRecord?: (entry: GraphLogEntry) => void, options: GraphLogOptions = {}): GraphLog {
  const ring: GraphLogEntry[] = [];
  const byResource = new Map<string, GraphLogEntry[]>();
  const perResource = options.perResource ?? 30;
  const resources = options.resources ?? 20_000;
  // Times of recent writes, for "budget used in the last window"; pruned to the last 10 minutes.
  const writeTimes: number[] = [];
  let seq = 0;

  const resolve = (method: string, url: string, body: unknown, answer: unknown): { type: ResourceType; id: string }[] => {
    if (!options.resolve) return [];
    const keys = targetKeys(method, url, body, answer);
    try {
      if (keys.userNames?.length) {
        return keys.userNames.slice(0, 20).flatMap((userName) => options.resolve!({ userName }) ?? []);
      }
      if (!keys.graphId && !keys.userName && !keys.groupName) return [];
      const one = options.resolve(keys);
      return one ? [one] : [];
    } catch {
      // The log never fails a Graph request (a closed store during shutdown, say).
      return [];
    }
  };

  const push = (raw: Omit<GraphLogEntry, 'seq' | 'resource' | 'more'>, concerned: { type: ResourceType; id: string }[]) => {
    const entry: GraphLogEntry = { seq: ++seq, ...raw };
    if (concerned.length) entry.resource = concerned[0];
    if (concerned.length > 1) entry.more = concerned.length - 1;
    if (!entry.error) delete entry.error;
    if (!entry.batch) delete entry.batch;
    ring.push(entry);
    if (ring.length > capacity) ring.shift();
    if (entry.method !== 'GET') {
      const now = Date.now();
      writeTimes.push(now);
      while (writeTimes.length && writeTimes[0] < now - 600_000) writeTimes.shift();
    }
    for (const r of concerned) {
      const key = `${r.type}:${r.id}`;
      const list = byResource.get(key) ?? [];
      byResource.delete(key);
      list.push(entry);
      if (list.length > perResource) list.shift();
      byResource.set(key, list);
      if (byResource.size > resources) byResource.delete(byResource.keys().next().value as string);
    }
    onRecord?.(entry);
  };
  const secrets = options.secrets ?? [];

  return {
    entries: (limit) => ring.slice(-limit).reverse(),
    forResource(type, id, opts = {}) {
      const list = byResource.get(`${type}:${id}`) ?? [];
      return list
        .filter((e) => e.seq > (opts.afterSeq ?? 0))
        .slice(-(opts.limit ?? perResource))
        .reverse();
    },
    lastSeq: () => seq,
    writesWithin(ms) {
      const since = Date.now() - ms;
      let n = 0;
      for (let i = writeTimes.length - 1; i >= 0 && writeTimes[i] >= since; i--) n++;
      return n;
    },
    wrap(client) {
      return {
        get baseUrl() {
          return client.baseUrl;
        },
        accessToken: client.accessToken?.bind(client),
        async request(method, path, body, headers) {
          const started = Date.now();
          try {
            const res = await client.request(method, path, body, headers);
            push(
              {
                at: new Date().toISOString(),
                method,
                path: shortPath(path),
                status: res.status,
                ms: Date.now() - started,
                error: errorText(res.status, res.body, secrets),
              },
              resolve(method, path, body, res.body),
            );
            return res;
          } catch (err) {
            push(
              { at: new Date().toISOString(), method, path: shortPath(path), status: 'network error', ms: Date.now() - started },
              resolve(method, path, body, undefined),
            );
            throw err;
          }
        },
        async batch(requests: readonly BatchRequestItem[]) {
          const started = Date.now();
          const batchId = `b${started.toString(36)}`;
          const results = await client.batch(requests);
          const ms = Date.now() - started;
          const at = new Date().toISOString();
          results.forEach((r, i) =>
            push(
              {
                at,
                method: requests[i].method,
                path: shortPath(requests[i].url),
                status: r.status,
                ms,
                batch: batchId,
                error: errorText(r.status, r.body, secrets),
              },
              resolve(requests[i].method, requests[i].url, requests[i].body, r.body),
            ),
          );
          return results;
        },
      } as GraphClient;
    },
  };
}
