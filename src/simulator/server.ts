// The HTTPS listener: splits traffic between the token endpoints (authorityHost), Graph under
// /v1.0, and the inspection API under /_sim. Node's https module is used directly: it keeps the
// simulator fast enough that it never limits the bridge's own benchmarks.
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GraphError } from './errors';
import { invalidDataFormat, isInboundServicePath } from './inbound-api';
import { handleGraph, toErrorResponse, type SimCore } from './pipeline';
import type { TokenService } from './tokens';
import type { SimRequest, SimResponse } from './types';

const JSON_TYPE = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';
const MAX_BODY = 4 * 1024 * 1024;

export interface ServerParts {
  core: SimCore;
  tokens: TokenService;
  tenantId: string;
  authorityHost: () => string;
  /** The bearer token the inspection API (/_sim/...) requires. */
  inspectionToken: string;
  /** The inspection API (/_sim/...); returns undefined for unknown paths. */
  inspect: (method: string, path: string, body: unknown, query: URLSearchParams) => SimResponse | undefined;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) reject(new GraphError(413, 'Request_EntityTooLarge', 'The request is too large.'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, out: SimResponse, extra: Record<string, string> = {}): void {
  const headers: Record<string, string> = { ...extra, ...out.headers };
  if (out.body === undefined) {
    res.writeHead(out.status, headers);
    res.end();
    return;
  }
  const text = JSON.stringify(out.body);
  headers['content-type'] ??= JSON_TYPE;
  headers['content-length'] = String(Buffer.byteLength(text));
  res.writeHead(out.status, headers);
  res.end(text);
}

const TOKEN_PATH = /^\/([^/]+)\/oauth2\/v2\.0\/token$/;
const DISCOVERY_PATH = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/;
const KEYS_PATH = /^\/([^/]+)\/discovery\/v2\.0\/keys$/;

function parseJsonOr(text: string, error: () => GraphError): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    throw error();
  }
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new GraphError(
      400,
      'BadRequest',
      'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.',
    );
  }
}

async function handleGraphHttp(parts: ServerParts, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const requestId = randomUUID();
  const clientRequestId = (req.headers['client-request-id'] as string | undefined) ?? requestId;
  const ids = { requestId, clientRequestId };
  const base = {
    'request-id': requestId,
    'client-request-id': clientRequestId,
    'x-ms-ags-diagnostic': '{"ServerInfo":{"DataCenter":"Simulator","Slice":"E","Ring":"0","ScaleUnit":"000","RoleInstance":"SIM"}}',
  };
  const path = url.pathname.slice('/v1.0'.length) || '/';
  let out: SimResponse;
  let body: unknown;
  try {
    const text = await readBody(req);
    const claims = parts.tokens.verifyBearer(req.headers.authorization);
    // bulkUpload answers a body it cannot read as it answers any malformed BulkRequest.
    body = isInboundServicePath(path) ? parseJsonOr(text, invalidDataFormat) : parseJson(text);
    const simReq: SimRequest = {
      method: req.method ?? 'GET',
      path,
      query: url.searchParams,
      headers: req.headers as Record<string, string>,
      body,
      claims,
      ...ids,
      inBatch: false,
    };
    out = handleGraph(parts.core, simReq);
  } catch (err) {
    out = toErrorResponse(err, ids);
  }
  const latency = parts.core.faults.latency();
  if (latency > 0) await new Promise((r) => setTimeout(r, latency));
  parts.core.log.add({ method: req.method ?? 'GET', url: path + url.search, status: out.status, requestId, requestBody: body, responseBody: out.body });
  send(res, out, base);
}

async function handleToken(parts: ServerParts, req: IncomingMessage, res: ServerResponse, tenant: string): Promise<void> {
  const form = new URLSearchParams(await readBody(req));
  const out = parts.tokens.issue(form, tenant);
  send(res, { status: out.status, body: out.body }, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store, no-cache' });
}

async function route(parts: ServerParts, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'https://127.0.0.1');
  const p = url.pathname;
  if (p.startsWith('/v1.0/') || p === '/v1.0') return handleGraphHttp(parts, req, res, url);
  let m: RegExpExecArray | null;
  if (req.method === 'POST' && (m = TOKEN_PATH.exec(p))) return handleToken(parts, req, res, m[1]);
  if (req.method === 'GET' && (m = DISCOVERY_PATH.exec(p))) {
    if (m[1] !== parts.tenantId && m[1] !== 'organizations')
      return send(res, { status: 400, body: { error: 'invalid_tenant', error_description: `AADSTS90002: Tenant '${m[1]}' not found.` } });
    return send(res, { status: 200, body: parts.tokens.discovery(parts.authorityHost(), m[1]) }, { 'content-type': 'application/json; charset=utf-8' });
  }
  if (req.method === 'GET' && KEYS_PATH.test(p))
    return send(res, { status: 200, body: parts.tokens.jwks() }, { 'content-type': 'application/json; charset=utf-8' });
  if (p.startsWith('/_sim/')) {
    // The inspection API reads and resets the tenant and injects faults: its token, or nothing.
    if (!inspectionAuthorized(parts.inspectionToken, req.headers.authorization)) {
      return send(
        res,
        {
          status: 401,
          body: { error: { code: 'Unauthorized', message: 'The simulator inspection API needs its token: Authorization: Bearer <inspection token>.' } },
        },
        {
          'content-type': 'application/json; charset=utf-8',
          'www-authenticate': 'Bearer realm="graph-sim inspection"',
        },
      );
    }
    const text = await readBody(req);
    const out = parts.inspect(req.method ?? 'GET', p, parseJson(text), url.searchParams);
    if (out) return send(res, out, { 'content-type': 'application/json; charset=utf-8' });
  }
  send(res, { status: 404, body: { error: { code: 'NotFound', message: `No simulator endpoint at ${p}.` } } });
}

const digest = (s: string) => createHash('sha256').update(s).digest();

function inspectionAuthorized(token: string, header: string | undefined): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return Boolean(m) && timingSafeEqual(digest(m![1]), digest(token));
}

export function createSimServer(parts: ServerParts, tls: { cert: string; key: string }): Server {
  const server = createServer({ cert: tls.cert, key: tls.key, keepAlive: true }, (req, res) => {
    route(parts, req, res).catch((err) => {
      if (!res.headersSent) send(res, toErrorResponse(err, { requestId: randomUUID(), clientRequestId: '' }));
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 30_000;
  return server;
}
