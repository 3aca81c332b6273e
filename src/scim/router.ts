// createScimRouter: the SCIM 2.0 service provider mounted at /scim/v2 (SPEC section 10).
// Order: auth (the token names the source), body (limits, JSON, UTF-8), routes, SCIM errors.
import express, { type Router } from 'express';
import type { Config } from '../config';
import type { Logger } from '../log';
import type { Store } from '../store';
import { createAuthenticator } from './auth';
import { jsonBody } from './body';
import { runBulk } from './bulk';
import { listOf, resourceTypeList, schemaList, serviceProviderConfig } from './discovery';
import { errorHandler, toErrorResponse } from './error-response';
import { createGroupService } from './groups-service';
import { fromSearchBody, type ListParams } from './list-params';
import type { IgnoredExtension } from './foreign-extensions';
import {
  baseUrlOf,
  groupKind,
  listAndRender,
  listResponse,
  mountResource,
  principalOf,
  reply,
  reportIgnored,
  unknownPolicyOf,
  userKind,
  type ResourceKind,
} from './resource-routes';
import { createUserService } from './users-service';
import { invalidValue, methodNotAllowed, notFound, notImplemented } from '../errors';

export interface ScimDeps {
  config: Config;
  store: Store;
  logger: Logger;
}

export function createScimRouter({ config, store, logger }: ScimDeps): Router {
  const log = logger.child({ component: 'scim' });
  const router = express.Router({ caseSensitive: false, strict: false });
  const users = userKind(createUserService({ config, store }));
  const groups = groupKind(createGroupService({ store, licenceGroups: config.licenses.groups }));
  const kinds: ResourceKind[] = [users, groups];

  router.use(
    createAuthenticator(
      config,
      (id) => store.sources.get(id),
      () => store.sourceTokens.acceptedHashes(),
    ),
  );
  router.use(jsonBody(config.limits.bodyBytes));

  mountResource(router, users, store.commits, log);
  mountResource(router, groups, store.commits, log);

  // Discovery (RFC 7644 section 4), after the resources: express tries each route in turn, and an IdP's
  // requests are nearly all to /Users and /Groups; /serviceConfiguration is the name Entra's collection uses.
  router.get(['/ServiceProviderConfig', '/serviceConfiguration'], (req, res) => reply(res, 200, serviceProviderConfig(config, baseUrlOf(req))));
  router.get('/ResourceTypes', (req, res) => reply(res, 200, listOf(resourceTypeList(baseUrlOf(req)))));
  router.get('/ResourceTypes/:id', (req, res) => {
    const found = resourceTypeList(baseUrlOf(req)).find((r) => r.id.toLowerCase() === req.params.id.toLowerCase());
    if (!found) throw notFound(`resource type ${req.params.id} not found`);
    reply(res, 200, found);
  });
  router.get('/Schemas', (req, res) => reply(res, 200, listOf(schemaList(baseUrlOf(req)))));
  router.get('/Schemas/:id', (req, res) => {
    const found = schemaList(baseUrlOf(req)).find((s) => s.id.toLowerCase() === req.params.id.toLowerCase());
    if (!found) throw notFound(`schema ${req.params.id} not found`);
    reply(res, 200, found);
  });

  // Root search across Users then Groups (RFC 7644 section 3.4.3).
  router.post('/.search', (req, res) => {
    const extensions: IgnoredExtension[] = [];
    reply(res, 200, searchAll(kinds, principalOf(res), fromSearchBody(req.body), baseUrlOf(req), extensions));
    reportIgnored(log, req, res, { ignored: [], extensions });
  });

  router.post('/Bulk', async (req, res) => {
    const unknown = unknownPolicyOf(req);
    reply(res, 200, await runBulk(config, kinds, principalOf(res), req.body, baseUrlOf(req), unknown));
    reportIgnored(log, req, res, unknown);
  });

  // RFC 7644 section 3.11: the authenticated subject is a provisioning source, not a User.
  router.all(['/Me', '/Me/*rest'], () => {
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
    router.all(path, (_req, res) => {
      res.setHeader('Allow', allow);
      throw methodNotAllowed(`method not allowed; use ${allow}`);
    });
  }
  router.use((req) => {
    throw notFound(`no SCIM endpoint at ${req.path}`);
  });
  router.use(errorHandler(log));
  return router;
}

function searchAll(kinds: ResourceKind[], p: ReturnType<typeof principalOf>, params: ListParams, base: string, notes: IgnoredExtension[]) {
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
