// One log line and one metric per HTTP request: request id, method, path without query, route
// pattern, status, duration, the SCIM source and the resource id. Never headers or bodies: they
// carry bearer tokens and passwords. The request id is the caller's X-Request-Id when it is a
// sane token, else a new one; either way it is echoed in the response.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Logger, withoutRedaction } from '../log';
import type { BridgeMetrics } from './metrics';

const REQUEST_ID = /^[A-Za-z0-9._:@-]{1,128}$/;
const UNLOGGED = new Set(['/healthz', '/readyz', '/metrics']);

/** What the router that answered a request tells the log about it (the SCIM routes: scim/router.ts). */
export interface RouteNote {
  /** The matched route pattern with its base (`/scim/v2/Users/:id`). */
  route?: string;
  /** The route's `:id`. */
  id?: string;
  /** The SCIM source the bearer token named. */
  source?: string;
}
const notes = new WeakMap<IncomingMessage, RouteNote>();

/** Records what a router learnt of a request (its route, its source) for the request's log line. */
export function noteRoute(req: IncomingMessage, note: RouteNote): void {
  const noted = notes.get(req);
  if (noted) Object.assign(noted, note);
  else notes.set(req, { ...note });
}

/** An express request, as express leaves it once a route matched (the admin console's routes). */
type ExpressRouted = IncomingMessage & { route?: { path?: unknown }; baseUrl?: string; params?: Record<string, unknown> };

/** The matched route pattern (`/scim/v2/Users/:id`), or `unmatched`: a bounded label, never a raw URL. */
function routeOf(req: ExpressRouted, noted: RouteNote | undefined): string {
  if (noted?.route) return noted.route;
  const route = req.route;
  if (!route || route.path === undefined) return 'unmatched';
  const path = Array.isArray(route.path) ? route.path[0] : String(route.path);
  return `${req.baseUrl ?? ''}${path}`;
}

/** The SCIM resource a request named or created: `:id` of the route, or the id in a 201's Location. */
function resourceIdOf(req: ExpressRouted, res: ServerResponse, route: string, noted: RouteNote | undefined): string | undefined {
  if (route.endsWith('/:id')) {
    const id = noted?.id ?? req.params?.id;
    return typeof id === 'string' ? id : undefined;
  }
  const location = res.getHeader('Location');
  if (res.statusCode === 201 && typeof location === 'string') return location.split('/').pop();
  return undefined;
}

export function accessLog(logger: Logger, metrics: BridgeMetrics) {
  // The line below has fixed keys, none of them a secret: it skips the redaction pass (log.ts).
  const lines = withoutRedaction(logger);
  return (req: IncomingMessage & { originalUrl?: string }, res: ServerResponse, next: () => void): void => {
    const started = process.hrtime.bigint();
    const given = req.headers['x-request-id'];
    const reqId = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    res.setHeader('X-Request-Id', reqId);
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const path = (req.originalUrl ?? req.url ?? '').split('?')[0];
      const noted = notes.get(req);
      const route = routeOf(req, noted);
      const source = noted?.source;
      metrics.observeScim({ source: source ?? '-', method: req.method ?? '-', route, status: res.statusCode }, seconds);
      if (UNLOGGED.has(path)) return;
      const resourceId = resourceIdOf(req, res, route, noted);
      lines.info(
        {
          reqId,
          method: req.method ?? '-',
          path,
          route,
          status: res.statusCode,
          ms: Math.round(seconds * 1e4) / 10,
          ...(source ? { source } : {}),
          ...(resourceId ? { resourceId } : {}),
        },
        'request',
      );
    });
    next();
  };
}
