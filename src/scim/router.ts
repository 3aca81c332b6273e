// createScimRouter: the SCIM 2.0 service provider mounted at /scim/v2 (SPEC section 10), on node's
// request and response (http.ts says why not express). Order: auth (the token names the source),
// body (limits, JSON, UTF-8), routes, SCIM errors.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config';
import type { Logger } from '../log';
import type { Store } from '../store';
import { createAuthenticator, type Principal } from './auth';
import { jsonBody } from './body';
import { runBulk } from './bulk';
import { listOf, resourceTypeList, schemaList, serviceProviderConfig } from './discovery';
import { sendError, toErrorResponse } from './error-response';
import { createGroupService } from './groups-service';
import { decodeParam, headerOf, originForm, protocolOf, SCIM_BASE_PATH, ScimRoutes, splitUrl, type TrustProxy } from './http';
import { fromSearchBody, type ListParams } from './list-params';
import type { IgnoredExtension } from './foreign-extensions';
import { groupKind, listAndRender, listResponse, mountResource, reply, reportIgnored, unknownPolicyOf, userKind, type ResourceKind } from './resource-routes';
import { createUserService } from './users-service';
import { invalidValue, methodNotAllowed, notFound, notImplemented } from '../errors';

export interface ScimDeps {
  config: Config;
  store: Store;
  logger: Logger;
  /** Which peers may set X-Forwarded-Proto (express's `trust proxy fn`); none when absent. */
  trustProxy?: TrustProxy;
  /** Told the source a request authenticated as, then its route pattern and `:id`: for the access log. */
  noteRoute?: (req: IncomingMessage, note: { source?: string; route?: string; id?: string }) => void;
}

/** Answers one request whose URL is under SCIM_BASE_PATH (http.ts isScimUrl). */
export type ScimHandler = (req: IncomingMessage, res: ServerResponse) => void;

const trustNone: TrustProxy = () => false;

export function createScimRouter({ config, store, logger, trustProxy = trustNone, noteRoute = () => undefined }: ScimDeps): ScimHandler {
  const log = logger.child({ component: 'scim' });
  const users = userKind(createUserService({ config, store }));
  const groups = groupKind(createGroupService({ store, licenceGroups: config.licenses.groups }));
  const kinds: ResourceKind[] = [users, groups];
  const authenticate = createAuthenticator(
    config,
    (id) => store.sources.get(id),
    () => store.sourceTokens.acceptedHashes(),
  );
  const readBody = jsonBody(config.limits.bodyBytes);
  const routes = new ScimRoutes();

  mountResource(routes, users, store.commits, log);
  mountResource(routes, groups, store.commits, log);

  // Discovery (RFC 7644 section 4), after the resources: routes are tried in turn, and an IdP's
  // requests are nearly all to /Users and /Groups; /serviceConfiguration is the name Entra's collection uses.
  routes.on('GET', ['/ServiceProviderConfig', '/serviceConfiguration'], (call) => reply(call.res, 200, serviceProviderConfig(config, call.base)));
  routes.on('GET', '/ResourceTypes', (call) => reply(call.res, 200, listOf(resourceTypeList(call.base))));
  routes.on('GET', '/ResourceTypes/:id', (call) => {
    const found = resourceTypeList(call.base).find((r) => r.id.toLowerCase() === call.id.toLowerCase());
    if (!found) throw notFound(`resource type ${call.id} not found`);
    reply(call.res, 200, found);
  });
  routes.on('GET', '/Schemas', (call) => reply(call.res, 200, listOf(schemaList(call.base))));
  routes.on('GET', '/Schemas/:id', (call) => {
    const found = schemaList(call.base).find((s) => s.id.toLowerCase() === call.id.toLowerCase());
    if (!found) throw notFound(`schema ${call.id} not found`);
    reply(call.res, 200, found);
  });

  // Root search across Users then Groups (RFC 7644 section 3.4.3).
  routes.on('POST', '/.search', (call) => {
    const extensions: IgnoredExtension[] = [];
    reply(call.res, 200, searchAll(kinds, call.principal, fromSearchBody(call.body), call.base, extensions));
    reportIgnored(log, call, { ignored: [], extensions });
  });

  routes.on('POST', '/Bulk', async (call) => {
    const unknown = unknownPolicyOf(call);
    reply(call.res, 200, await runBulk(config, kinds, call.principal, call.body, call.base, unknown));
    reportIgnored(log, call, unknown);
  });

  // RFC 7644 section 3.11: the authenticated subject is a provisioning source, not a User.
  routes.on(null, ['/Me', '/Me/*rest'], () => {
    throw notImplemented('/Me is not supported: a bearer token identifies a provisioning source, not a User');
  });

  const methods: Record<string, string> = {
    '/Users': 'GET, POST',
    '/Groups': 'GET, POST',
    '/Users/:id': 'GET, PUT, PATCH, DELETE',
    '/Groups/:id': 'GET, PUT, PATCH, DELETE',
    '/ServiceProviderConfig': 'GET',
    '/ResourceTypes': 'GET',
    '/Schemas': 'GET',
    '/Bulk': 'POST',
    '/.search': 'POST',
  };
  for (const [path, allow] of Object.entries(methods)) {
    routes.on(null, path, (call) => {
      call.res.setHeader('Allow', allow);
      throw methodNotAllowed(`method not allowed; use ${allow}`);
    });
  }

  /** Routes a request whose principal is known and whose body has been read. */
  function route(req: IncomingMessage, res: ServerResponse, principal: Principal, body: unknown): void | Promise<void> {
    const { pathname, query } = splitUrl(originForm(req.url));
    const path = pathname.slice(SCIM_BASE_PATH.length) || '/';
    // No HEAD routes: a GET route serves HEAD, and node sends no body for it.
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    const found = routes.find(method, path);
    if (!found) throw notFound(`no SCIM endpoint at ${path}`);
    const id = decodeParam(found.param);
    noteRoute(req, { route: `${SCIM_BASE_PATH}${found.layer.pattern}`, id });
    const base = `${protocolOf(req, trustProxy)}://${req.headers.host ?? 'localhost'}${SCIM_BASE_PATH}`;
    return found.layer.handle({ res, method, path, id, query, body, principal, base, header: (name) => headerOf(req, name) });
  }

  return function scim(req, res) {
    // Every failure, thrown or rejected, at any step, is a SCIM error: none may reach node's server.
    const fail = (err: unknown) => sendError(res, err, log);
    try {
      const principal = authenticate(req, res);
      if (!principal) return;
      noteRoute(req, { source: principal.source.id });
      readBody(req, res, (err, body) => {
        if (err) return fail(err);
        try {
          route(req, res, principal, body)?.catch(fail);
        } catch (e) {
          fail(e);
        }
      });
    } catch (e) {
      fail(e);
    }
  };
}

function searchAll(kinds: ResourceKind[], p: Principal, params: ListParams, base: string, notes: IgnoredExtension[]) {
  // Each type answers the filter it understands; a filter neither understands is the client's error.
  const parts: { total: number; kind: ResourceKind }[] = [];
  let lastError: unknown;
  for (const kind of kinds) {
    try {
      parts.push({ total: kind.service.list(p, { ...params, count: 0 }, notes).total, kind });
    } catch (err) {
      if (toErrorResponse(err).status !== 400) throw err;
      lastError = err;
    }
  }
  if (!parts.length) throw lastError ?? invalidValue('nothing to search');
  const total = parts.reduce((n, x) => n + x.total, 0);
  const resources: unknown[] = [];
  let skip = params.startIndex - 1;
  let room = params.count;
  for (const { total: n, kind } of parts) {
    if (room <= 0) break;
    if (skip >= n) {
      skip -= n;
      continue;
    }
    const page = listAndRender(kind, p, { ...params, startIndex: skip + 1, count: room }, base, notes);
    resources.push(...page.Resources);
    room -= page.Resources.length;
    skip = 0;
  }
  return listResponse(total, params.startIndex, resources);
}
