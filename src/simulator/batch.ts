// POST /$batch (learn.microsoft.com/graph/json-batching): at most 20 requests, ids unique (not
// case-sensitive), relative URLs resolved below /v1.0 (so a "/v1.0/..." url names a segment
// 'v1.0' that does not exist), Content-Type required with a body, dependsOn run in order with
// 424 for dependents of a failed request, and every item evaluated on its own against throttling.
import { GraphError, odataBadRequest } from './errors';
import { handleGraph, type SimCore } from './pipeline';
import type { Json, SimRequest, SimResponse } from './types';

export const MAX_BATCH = 20;

interface BatchItem {
  id: string;
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  dependsOn?: string[];
}

function parseItems(body: unknown): BatchItem[] {
  const requests = (body as Json | undefined)?.requests;
  if (!Array.isArray(requests)) throw odataBadRequest('Invalid batch payload format.');
  if (requests.length === 0) throw odataBadRequest('Invalid batch payload format.');
  if (requests.length > MAX_BATCH)
    throw odataBadRequest(`Maximum number of requests in a batch is ${MAX_BATCH}. The batch contains ${requests.length} requests.`);
  const seen = new Set<string>();
  for (const r of requests as Json[]) {
    if (typeof r.id !== 'string' || !r.id) throw odataBadRequest('Invalid batch payload format: every request needs an id.');
    if (typeof r.method !== 'string' || typeof r.url !== 'string')
      throw odataBadRequest(`Invalid batch payload format: request ${r.id} needs a method and a url.`);
    const key = r.id.toLowerCase();
    if (seen.has(key)) throw odataBadRequest(`Request Id ${r.id} has to be unique in a batch.`);
    seen.add(key);
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(r.url))
      throw odataBadRequest(`Request ${r.id} has an absolute url '${r.url}'. Batch request urls must be relative to the Microsoft Graph version root.`);
    if (r.body !== undefined && !Object.keys((r.headers as Json) ?? {}).some((h) => h.toLowerCase() === 'content-type'))
      throw odataBadRequest(`Content-Type header is required for request ${r.id} with a body.`);
  }
  const items = requests as unknown as BatchItem[];
  for (const item of items)
    for (const dep of item.dependsOn ?? [])
      if (!seen.has(String(dep).toLowerCase())) throw odataBadRequest(`Request ${item.id} depends on request ${dep}, which is not in the batch.`);
  const roots = items.filter((i) => !i.dependsOn?.length).length;
  if (roots !== items.length && roots !== 1) throw odataBadRequest('Batch should be either fully sequential or fully parallel.');
  return items;
}

const itemUrl = (item: BatchItem) => (item.url.startsWith('/') ? item.url : `/${item.url}`);

function itemRequest(parent: SimRequest, item: BatchItem): SimRequest {
  const raw = itemUrl(item);
  const q = raw.indexOf('?');
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(item.headers ?? {})) headers[k.toLowerCase()] = String(v);
  return {
    method: item.method.toUpperCase(),
    path: q < 0 ? raw : raw.slice(0, q),
    query: new URLSearchParams(q < 0 ? '' : raw.slice(q + 1)),
    headers,
    body: item.body,
    claims: parent.claims,
    requestId: parent.requestId,
    clientRequestId: parent.clientRequestId,
    inBatch: true,
  };
}

function failedDependency(parent: SimRequest, id: string): SimResponse {
  const err = new GraphError(424, 'FailedDependency', `Request ${id} failed because a request it depends on failed.`);
  return {
    status: 424,
    body: {
      error: {
        code: err.code,
        message: err.message,
        innerError: { date: new Date().toISOString().slice(0, 19), 'request-id': parent.requestId, 'client-request-id': parent.clientRequestId },
      },
    },
  };
}

export function runBatch(core: SimCore, req: SimRequest): SimResponse {
  if (req.method !== 'POST') throw new GraphError(405, 'Request_BadRequest', 'Specified HTTP method is not allowed for the request target.');
  const items = parseItems(req.body);
  const byId = new Map(items.map((i) => [i.id.toLowerCase(), i]));
  const results = new Map<string, SimResponse>();
  const visiting = new Set<string>();
  const run = (item: BatchItem): SimResponse => {
    const key = item.id.toLowerCase();
    const done = results.get(key);
    if (done) return done;
    if (visiting.has(key)) throw odataBadRequest('Batch request dependsOn contains a cycle.');
    visiting.add(key);
    const deps = (item.dependsOn ?? []).map((d) => run(byId.get(String(d).toLowerCase())!));
    let res: SimResponse;
    if (deps.some((d) => d.status >= 400)) res = failedDependency(req, item.id);
    else {
      const sub = itemRequest(req, item);
      res = handleGraph(core, sub);
      core.log.add({
        method: sub.method,
        url: itemUrl(item),
        status: res.status,
        requestId: req.requestId,
        requestBody: sub.body,
        responseBody: res.body,
        batchRequestId: req.requestId,
        batchItemId: item.id,
      });
    }
    results.set(key, res);
    return res;
  };
  for (const item of items) run(item);
  const responses = items.map((item) => {
    const r = results.get(item.id.toLowerCase())!;
    const headers: Record<string, string> = { 'Cache-Control': 'no-cache', ...r.headers };
    if (r.body !== undefined) headers['Content-Type'] = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';
    const out: Json = { id: item.id, status: r.status, headers };
    if (r.body !== undefined) out.body = r.body;
    return out;
  });
  return { status: 200, body: { responses } };
}
