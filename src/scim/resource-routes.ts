// HTTP for /Users and /Groups: status codes, headers (Location, ETag), projections and list
// envelopes around the services. Responses are written directly (no express ETag hashing).
import type { Request, Response, Router } from 'express';
import type { Logger } from '../log';
import type { CommitGroup, ListedResource } from '../store';
import { notModified, type WriteOptions } from './access';
import type { Principal } from './auth';
import type { UnknownPolicy } from './coerce';
import { LIST_RESPONSE } from './discovery';
import { SCIM_CONTENT_TYPE } from './error-response';
import type { IgnoredExtension } from './foreign-extensions';
import type { GroupService } from './groups-service';
import { fromQuery, fromSearchBody, projectionOf, type ListParams } from './list-params';
import { etagOf, project, renderGroup, renderUser, wantsMembers, type Projection } from './render';
import { resourceTypes } from './schema';
import type { UserService } from './users-service';

export function reply(res: Response, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  res.statusCode = status;
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  if (body === undefined) {
    res.end();
    return;
  }
  res.setHeader('Content-Type', SCIM_CONTENT_TYPE);
  res.end(JSON.stringify(body));
}

export const baseUrlOf = (req: Request): string => `${req.protocol}://${req.get('host') ?? 'localhost'}${req.baseUrl}`;
/**
 * Attributes the schema does not define: a client that declares application/scim+json (RFC 7644
 * section 8.1) gets RFC 7643 validation, so a mapping mistake is a 400 it can show. Plain
 * application/json is what Entra's reference tooling sends, and its collection expects such
 * attributes to be ignored (a misspelled "adreses" on PUT answers 200); they are dropped and logged.
 * Extension schemas the bridge does not implement are ignored and logged under both (foreign-extensions.ts).
 */
export function unknownPolicyOf(req: Request): UnknownPolicy {
  const type = (req.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
  return { ignore: type === 'application/json', ignored: [], extensions: [] };
}

export function writeOptionsOf(req: Request): WriteOptions {
  return { ifMatch: req.get('if-match'), ifNoneMatch: req.get('if-none-match'), unknown: unknownPolicyOf(req) };
}

/**
 * One warning per request for what it sent that the bridge ignored: unknown attributes (plain JSON) and
 * extension schemas the bridge does not implement (foreign-extensions.ts). Names and URNs only, never values.
 */
export function reportIgnored(log: Logger | undefined, req: Request, res: Response, unknown: Pick<UnknownPolicy, 'ignored' | 'extensions'> | undefined): void {
  const who = () => ({ source: principalOf(res).source.id, method: req.method, path: req.path });
  if (unknown?.ignored.length) log?.warn({ ...who(), ignored: unknown.ignored }, 'unknown attributes ignored');
  if (unknown?.extensions.length) log?.warn({ ...who(), extensions: unknown.extensions }, 'unknown extension schemas ignored');
}
export const principalOf = (res: Response): Principal => res.locals.principal as Principal;

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
const wantsPatchBody = (req: Request) => /okta/i.test(req.get('user-agent') ?? '');

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

export function mountResource(router: Router, kind: ResourceKind, commits: CommitGroup, log?: Logger): void {
  const rt = resourceTypes[kind.type];
  const path = rt.endpoint;

  router.get(path, (req, res) => {
    const extensions: IgnoredExtension[] = [];
    reply(res, 200, listAndRender(kind, principalOf(res), fromQuery(req.query as Record<string, unknown>), baseUrlOf(req), extensions));
    reportIgnored(log, req, res, { ignored: [], extensions });
  });

  router.post(`${path}/.search`, (req, res) => {
    const extensions: IgnoredExtension[] = [];
    reply(res, 200, listAndRender(kind, principalOf(res), fromSearchBody(req.body), baseUrlOf(req), extensions));
    reportIgnored(log, req, res, { ignored: [], extensions });
  });

  router.post(path, async (req, res) => {
    const opts = writeOptionsOf(req);
    // The writes of one event-loop turn share one COMMIT; the answer goes after it (store/commit-group.ts).
    const row = await commits.run(() => kind.service.create(principalOf(res), req.body, opts));
    reportIgnored(log, req, res, opts.unknown);
    const base = baseUrlOf(req);
    const body = kind.render(row, base, projectionOf(rt, fromQuery(req.query as Record<string, unknown>)), principalOf(res));
    reply(res, 201, body, { Location: `${base}${path}/${row.id}`, ETag: etagOf(row.version) });
  });

  router.get(`${path}/:id`, (req, res) => {
    const row = kind.service.get(principalOf(res), req.params.id);
    if (notModified(req.get('if-none-match'), row.version)) return reply(res, 304, undefined, { ETag: etagOf(row.version) });
    const body = kind.render(row, baseUrlOf(req), projectionOf(rt, fromQuery(req.query as Record<string, unknown>)), principalOf(res));
    reply(res, 200, body, { ETag: etagOf(row.version), Location: `${baseUrlOf(req)}${path}/${row.id}` });
  });

  router.put(`${path}/:id`, async (req, res) => {
    const opts = writeOptionsOf(req);
    const { resource } = await commits.run(() => kind.service.replace(principalOf(res), req.params.id, req.body, opts));
    reportIgnored(log, req, res, opts.unknown);
    const body = kind.render(resource, baseUrlOf(req), projectionOf(rt, fromQuery(req.query as Record<string, unknown>)), principalOf(res));
    reply(res, 200, body, { ETag: etagOf(resource.version) });
  });

  router.patch(`${path}/:id`, async (req, res) => {
    const params = fromQuery(req.query as Record<string, unknown>);
    const projection = projectionOf(rt, params);
    const opts = writeOptionsOf(req);
    const { resource } = await commits.run(() => kind.service.patch(principalOf(res), req.params.id, req.body, opts));
    reportIgnored(log, req, res, opts.unknown);
    // RFC 7644 section 3.5.2: 204 is allowed, but 200 with the resource when attributes are asked for.
    if (params.attributes !== undefined || params.excludedAttributes !== undefined || wantsPatchBody(req)) {
      reply(res, 200, kind.render(resource, baseUrlOf(req), projection, principalOf(res)), { ETag: etagOf(resource.version) });
    } else reply(res, 204, undefined, { ETag: etagOf(resource.version) });
  });

  router.delete(`${path}/:id`, async (req, res) => {
    await commits.run(() => kind.service.remove(principalOf(res), req.params.id, writeOptionsOf(req)));
    reply(res, 204);
  });
}
