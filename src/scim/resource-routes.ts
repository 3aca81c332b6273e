// HTTP for /Users and /Groups: status codes, headers (Location, ETag), projections and list
// envelopes around the services. Responses are written directly on node's response.
import type { ServerResponse } from 'node:http';
import type { Logger } from '../log';
import type { CommitGroup, ListedResource } from '../store';
import { notModified, type WriteOptions } from './access';
import type { Principal } from './auth';
import type { UnknownPolicy } from './coerce';
import { LIST_RESPONSE } from './discovery';
import { SCIM_CONTENT_TYPE } from './error-response';
import type { IgnoredExtension } from './foreign-extensions';
import type { GroupService } from './groups-service';
import type { ScimCall, ScimRoutes } from './http';
import { fromQuery, fromSearchBody, projectionOf, type ListParams } from './list-params';
import { etagOf, project, renderGroup, renderUser, wantsMembers, type Projection } from './render';
import { resourceTypes } from './schema';
import type { UserService } from './users-service';

export function reply(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  res.statusCode = status;
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  if (body === undefined) {
    res.end();
    return;
  }
  res.setHeader('Content-Type', SCIM_CONTENT_TYPE);
  res.end(JSON.stringify(body));
}

/**
 * Attributes the schema does not define: a client that declares application/scim+json (RFC 7644
 * section 8.1) gets RFC 7643 validation, so a mapping mistake is a 400 it can show. Plain
 * application/json is what Entra's reference tooling sends, and its collection expects such
 * attributes to be ignored (a misspelled "adreses" on PUT answers 200); they are dropped and logged.
 * Extension schemas the bridge does not implement are ignored and logged under both (foreign-extensions.ts).
 */
export function unknownPolicyOf(call: ScimCall): UnknownPolicy {
  const type = (call.header('content-type') ?? '').split(';')[0].trim().toLowerCase();
  return { ignore: type === 'application/json', ignored: [], extensions: [] };
}

export function writeOptionsOf(call: ScimCall): WriteOptions {
  return { ifMatch: call.header('if-match'), ifNoneMatch: call.header('if-none-match'), unknown: unknownPolicyOf(call) };
}

/**
 * One warning per request for what it sent that the bridge ignored: unknown attributes (plain JSON) and
 * extension schemas the bridge does not implement (foreign-extensions.ts). Names and URNs only, never values.
 */
export function reportIgnored(log: Logger | undefined, call: ScimCall, unknown: Pick<UnknownPolicy, 'ignored' | 'extensions'> | undefined): void {
  const who = () => ({ source: call.principal.source.id, method: call.method, path: call.path });
  if (unknown?.ignored.length) log?.warn({ ...who(), ignored: unknown.ignored }, 'unknown attributes ignored');
  if (unknown?.extensions.length) log?.warn({ ...who(), extensions: unknown.extensions }, 'unknown extension schemas ignored');
}

export function listResponse(total: number, startIndex: number, resources: unknown[]) {
  return { schemas: [LIST_RESPONSE], totalResults: total, itemsPerPage: resources.length, startIndex, Resources: resources };
}

/** What the generic routes need of one resource type. */
export interface ResourceKind {
  type: 'User' | 'Group';
  service: UserService | GroupService;
  /** `p` is the reader: a group shows only the members it can see. */
  render(row: ListedResource, base: string, projection: Projection, p: Principal): Record<string, unknown>;
}

export function userKind(service: UserService): ResourceKind {
  return { type: 'User', service, render: (row, base, p) => project(renderUser(row, base), p) };
}

export function groupKind(service: GroupService): ResourceKind {
  return {
    type: 'Group',
    service,
    render: (row, base, projection, p) => project(renderGroup(row, base, wantsMembers(projection) ? service.members(p, row.id) : undefined), projection),
  };
}

/** Clients that expect the updated resource from PATCH rather than 204 (Okta's SCIM client). */
const wantsPatchBody = (call: ScimCall) => /okta/i.test(call.header('user-agent') ?? '');

export function listAndRender(kind: ResourceKind, p: Principal, params: ListParams, base: string, notes?: IgnoredExtension[]) {
  const rt = resourceTypes[kind.type];
  const projection = projectionOf(rt, params);
  const { total, resources } = kind.service.list(p, params, notes);
  return listResponse(
    total,
    params.startIndex,
    resources.map((r) => kind.render(r, base, projection, p)),
  );
}

export function mountResource(routes: ScimRoutes, kind: ResourceKind, commits: CommitGroup, log?: Logger): void {
  const rt = resourceTypes[kind.type];
  const path = rt.endpoint;
  const projectionAsked = (call: ScimCall) => projectionOf(rt, fromQuery(call.query));

  routes.on('GET', path, (call) => {
    const extensions: IgnoredExtension[] = [];
    reply(call.res, 200, listAndRender(kind, call.principal, fromQuery(call.query), call.base, extensions));
    reportIgnored(log, call, { ignored: [], extensions });
  });

  routes.on('POST', `${path}/.search`, (call) => {
    const extensions: IgnoredExtension[] = [];
    reply(call.res, 200, listAndRender(kind, call.principal, fromSearchBody(call.body), call.base, extensions));
    reportIgnored(log, call, { ignored: [], extensions });
  });

  routes.on('POST', path, async (call) => {
    const opts = writeOptionsOf(call);
    // The writes of one event-loop turn share one COMMIT; the answer goes after it (store/commit-group.ts).
    const row = await commits.run(() => kind.service.create(call.principal, call.body, opts));
    reportIgnored(log, call, opts.unknown);
    const body = kind.render(row, call.base, projectionAsked(call), call.principal);
    reply(call.res, 201, body, { Location: `${call.base}${path}/${row.id}`, ETag: etagOf(row.version) });
  });

  routes.on('GET', `${path}/:id`, (call) => {
    const row = kind.service.get(call.principal, call.id);
    if (notModified(call.header('if-none-match'), row.version)) return reply(call.res, 304, undefined, { ETag: etagOf(row.version) });
    const body = kind.render(row, call.base, projectionAsked(call), call.principal);
    reply(call.res, 200, body, { ETag: etagOf(row.version), Location: `${call.base}${path}/${row.id}` });
  });

  routes.on('PUT', `${path}/:id`, async (call) => {
    const opts = writeOptionsOf(call);
    const { resource } = await commits.run(() => kind.service.replace(call.principal, call.id, call.body, opts));
    reportIgnored(log, call, opts.unknown);
    const body = kind.render(resource, call.base, projectionAsked(call), call.principal);
    reply(call.res, 200, body, { ETag: etagOf(resource.version) });
  });

  routes.on('PATCH', `${path}/:id`, async (call) => {
    const params = fromQuery(call.query);
    const projection = projectionOf(rt, params);
    const opts = writeOptionsOf(call);
    const { resource } = await commits.run(() => kind.service.patch(call.principal, call.id, call.body, opts));
    reportIgnored(log, call, opts.unknown);
    // RFC 7644 section 3.5.2: 204 is allowed, but 200 with the resource when attributes are asked for.
    if (params.attributes !== undefined || params.excludedAttributes !== undefined || wantsPatchBody(call)) {
      reply(call.res, 200, kind.render(resource, call.base, projection, call.principal), { ETag: etagOf(resource.version) });
    } else reply(call.res, 204, undefined, { ETag: etagOf(resource.version) });
  });

  routes.on('DELETE', `${path}/:id`, async (call) => {
    await commits.run(() => kind.service.remove(call.principal, call.id, writeOptionsOf(call)));
    reply(call.res, 204);
  });
}
