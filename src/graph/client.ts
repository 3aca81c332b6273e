// The one way the bridge talks to Graph: @microsoft/microsoft-graph-client on Node's fetch, with an
// @azure/identity client-credentials token (secret or certificate), against graph.microsoft.com or
// any Graph-compatible server named by config (SPEC section 12). No retry middleware: only sync/
// decides to retry (STYLE). Every HTTP answer comes back as {status, headers, body}; only failures
// without an answer (network, TLS, token) throw, as a BridgeError.
import { readFileSync } from 'node:fs';
import type { AccessToken, TokenCredential } from '@azure/identity';
import type * as Identity from '@azure/identity';
import {
  AuthenticationHandler,
  type AuthenticationProvider,
  Client,
  type Context,
  GraphClientError,
  type Middleware,
  ResponseType,
} from '@microsoft/microsoft-graph-client';
import { Agent } from 'undici';
import type { Config } from '../config';
import { graphNotConfigured } from '../errors';
import type { Logger } from '../log';
import { classifyGraphError, classifyNetworkError } from './errors';
import type { GraphMethod } from './requests';

export type GraphConfig = Pick<Config['graph'], 'tenantId' | 'clientId' | 'clientSecret' | 'certificatePath' | 'baseUrl' | 'authorityHost' | 'caFile'>;

export interface GraphResponse<T = unknown> {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string>;
  body: T;
}

export interface BatchRequestItem {
  id: string;
  method: GraphMethod;
  /** Relative to {baseUrl}/v1.0, e.g. '/users/{id}'; a leading '/v1.0' is removed. */
  url: string;
  body?: unknown;
  headers?: Record<string, string>;
  dependsOn?: string[];
}

export interface BatchItemResult<T = unknown> extends GraphResponse<T> {
  id: string;
}

export interface GraphClient {
  readonly baseUrl: string;
  request<T = unknown>(method: GraphMethod, path: string, body?: unknown, headers?: Record<string, string>): Promise<GraphResponse<T>>;
  /** One POST /$batch of at most 20 items; results in the order of `requests`. */
  batch(requests: readonly BatchRequestItem[]): Promise<BatchItemResult[]>;
  /** The current access token (cached by @azure/identity), e.g. for preflight to read its roles claim. Never log it. */
  accessToken?(): Promise<string>;
}

export interface GraphClientDeps {
  logger: Logger;
  /** Replaces Node's fetch (tests); receives the SDK's url and RequestInit. */
  fetchImpl?: (url: string, init: RequestInit) => Promise<Response>;
  /** Replaces the @azure/identity credential (tests, managed identity). */
  credential?: TokenCredential;
}

export const MAX_BATCH = 20;

// Graph's own hosts (global and national clouds) are their own token resource; a Graph-compatible
// stand-in at another host is Graph's stand-in, so its tokens are for Graph's resource id.
const GRAPH_HOSTS = new Set(['graph.microsoft.com', 'graph.microsoft.us', 'dod-graph.microsoft.us', 'microsoftgraph.chinacloudapi.cn', 'graph.microsoft.de']);

/** The client-credentials scope for a Graph base URL. */
export function graphScope(baseUrl: string): string {
  const url = new URL(baseUrl);
  return GRAPH_HOSTS.has(url.hostname.toLowerCase()) ? `${url.origin}/.default` : 'https://graph.microsoft.com/.default';
}
const PUBLIC_AUTHORITY = 'login.microsoftonline.com';

function hostOf(url: string): string {
  return new URL(url).hostname.toLowerCase();
}

/** @azure/identity options: a non-public authority skips instance discovery; caFile is trusted. */
export function credentialOptions(config: GraphConfig, ca?: string) {
  return {
    authorityHost: config.authorityHost,
    disableInstanceDiscovery: hostOf(config.authorityHost) !== PUBLIC_AUTHORITY,
    ...(ca ? { tlsOptions: { ca } } : {}),
  };
}

export function createCredential(config: GraphConfig, ca?: string): TokenCredential {
  const { tenantId, clientId, clientSecret, certificatePath } = config;
  if (!tenantId || !clientId) throw graphNotConfigured('graph.tenantId and graph.clientId are required');
  if (!clientSecret && !certificatePath) throw graphNotConfigured('give graph.clientSecret or graph.certificatePath');
  const options = credentialOptions(config, ca);
  // @azure/identity is loaded by the first token request, not at start: a command that never calls
  // Graph (status, retry, sources ...) starts about 0.3 s sooner. require, since tsconfig's module
  // node20 compiles a dynamic import() to an ESM import.
  let credential: TokenCredential | undefined;
  const load = (): TokenCredential => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy load, see above
    const identity = require('@azure/identity') as typeof Identity;
    return clientSecret
      ? new identity.ClientSecretCredential(tenantId, clientId, clientSecret, options)
      : new identity.ClientCertificateCredential(tenantId, clientId, { certificatePath: certificatePath! }, options);
  };
  return { getToken: (scopes, getTokenOptions) => (credential ??= load()).getToken(scopes, getTokenOptions) };
}

/** MSAL's own margin (tokenRenewalOffsetSeconds): a token this close to its expiry is acquired anew. */
const TOKEN_RENEWAL_MS = 5 * 60_000;

// The SDK would wrap a credential failure into a GraphError without its cause; carrying it in
// GraphClientError.customError keeps it for classifyNetworkError.
// The token is kept here until MSAL would renew it (its refresh time, or 5 minutes before it expires):
// every Graph request asks for one, and MSAL's cache answers each ask at a cost of about 0.3 ms.
function tokenProvider(credential: TokenCredential, scope: string): AuthenticationProvider {
  let kept: AccessToken | null = null;
  return {
    async getAccessToken() {
      if (kept && Date.now() < (kept.refreshAfterTimestamp ?? kept.expiresOnTimestamp - TOKEN_RENEWAL_MS)) return kept.token;
      try {
        const token = await credential.getToken(scope);
        if (!token?.token) throw new Error('the credential returned no access token');
        kept = token;
        return token.token;
      } catch (error) {
        kept = null;
        throw carry(error);
      }
    },
  };
}

function carry(error: unknown): GraphClientError {
  const wrapped = new GraphClientError('Graph request failed before a response');
  wrapped.customError = error;
  return wrapped;
}

/** The last middleware: sends with fetchImpl (or Node's fetch) and keeps network errors intact. */
function fetchHandler(fetchImpl: NonNullable<GraphClientDeps['fetchImpl']>): Middleware {
  return {
    async execute(context: Context) {
      try {
        context.response = await fetchImpl(String(context.request), context.options ?? {});
      } catch (error) {
        throw carry(error);
      }
    },
  };
}

async function readResponse(raw: Response): Promise<GraphResponse> {
  const headers: Record<string, string> = {};
  raw.headers.forEach((value, key) => {
    headers[key.toLowerCase()] = value;
  });
  const text = raw.status === 204 ? '' : await raw.text();
  let body: unknown = null;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  return { status: raw.status, headers, body };
}

function relativeUrl(url: string): string {
  const rel = url.replace(/^https?:\/\/[^/]+/i, '').replace(/^\/?v1\.0(?=\/|$)/i, '');
  return rel.startsWith('/') ? rel : `/${rel}`;
}

/** The $batch request body, built by hand: BatchRequestContent would keep a /v1.0 prefix Graph rejects. */
export function batchBody(requests: readonly BatchRequestItem[]): { requests: Record<string, unknown>[] } {
  if (requests.length > MAX_BATCH) throw new RangeError(`a $batch takes at most ${MAX_BATCH} requests, got ${requests.length}`);
  const ids = new Set(requests.map((r) => r.id));
  if (ids.size !== requests.length) throw new RangeError('$batch request ids must be unique');
  return {
    requests: requests.map((r) => ({
      id: r.id,
      method: r.method,
      url: relativeUrl(r.url),
      ...(r.body !== undefined
        ? { body: r.body, headers: { 'Content-Type': 'application/json', ...(r.headers ?? {}) } }
        : r.headers
          ? { headers: r.headers }
          : {}),
      ...(r.dependsOn?.length ? { dependsOn: r.dependsOn } : {}),
    })),
  };
}

export function createGraphClient(config: GraphConfig, deps: GraphClientDeps): GraphClient {
  const logger = deps.logger.child({ component: 'graph-client' });
  const baseUrl = config.baseUrl.replace(/\/+$/, '');
  const ca = config.caFile ? readFileSync(config.caFile, 'utf8') : undefined;
  const credential = deps.credential ?? createCredential(config, ca);
  const secrets = [config.clientSecret];

  const auth = tokenProvider(credential, graphScope(baseUrl));
  const sdk = Client.initWithMiddleware({
    baseUrl,
    defaultVersion: 'v1.0',
    // The SDK attaches Authorization only to Graph hosts or these (GraphRequestUtil.isCustomHost).
    customHosts: new Set([hostOf(baseUrl)]),
    ...(ca ? { fetchOptions: { dispatcher: new Agent({ connect: { ca } }) } as unknown as RequestInit } : {}),
    middleware: [new AuthenticationHandler(auth), fetchHandler(deps.fetchImpl ?? ((url, init) => fetch(url, init)))] as unknown as Middleware,
  });

  async function send(method: GraphMethod, path: string, body?: unknown, headers?: Record<string, string>): Promise<GraphResponse> {
    const started = Date.now();
    let request = sdk.api(relativeUrl(path)).responseType(ResponseType.RAW);
    if (headers) request = request.headers(headers);
    try {
      const raw: Response = await (method === 'GET'
        ? request.get()
        : method === 'POST'
          ? request.post(body ?? {})
          : method === 'PATCH'
            ? request.patch(body ?? {})
            : method === 'PUT'
              ? request.put(body ?? {})
              : request.delete());
      const response = await readResponse(raw);
      logger.debug({ method, path: relativeUrl(path).split('?')[0], status: response.status, ms: Date.now() - started }, 'graph request');
      return response;
    } catch (error) {
      const cause = error instanceof GraphClientError && error.customError !== undefined ? error.customError : error;
      const classified = classifyNetworkError(cause, secrets);
      logger.warn({ method, path: relativeUrl(path).split('?')[0], code: classified.code, err: classified.message }, 'graph request failed');
      throw classified;
    }
  }

  return {
    baseUrl,
    async request<T>(method: GraphMethod, path: string, body?: unknown, headers?: Record<string, string>) {
      return (await send(method, path, body, headers)) as GraphResponse<T>;
    },
    async batch(requests) {
      if (requests.length === 0) return [];
      const payload = batchBody(requests);
      const response = await send('POST', '/$batch', payload);
      if (response.status < 200 || response.status >= 300) throw classifyGraphError(response, secrets);
      return orderResults(requests, response);
    },
    async accessToken() {
      try {
        return await auth.getAccessToken();
      } catch (error) {
        throw classifyNetworkError(error instanceof GraphClientError && error.customError !== undefined ? error.customError : error, secrets);
      }
    },
  };
}

function orderResults(requests: readonly BatchRequestItem[], response: GraphResponse): BatchItemResult[] {
  const items = ((response.body as { responses?: unknown[] } | null)?.responses ?? []) as {
    id?: string;
    status?: number;
    headers?: Record<string, string>;
    body?: unknown;
  }[];
  const byId = new Map(items.map((item) => [String(item.id), item]));
  return requests.map((r) => {
    const item = byId.get(r.id);
    if (!item)
      return {
        id: r.id,
        status: 502,
        headers: {},
        body: { error: { code: 'MissingBatchResponse', message: 'Graph returned no response for this $batch item' } },
      };
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(item.headers ?? {})) headers[k.toLowerCase()] = String(v);
    return { id: r.id, status: Number(item.status), headers, body: item.body ?? null };
  });
}
