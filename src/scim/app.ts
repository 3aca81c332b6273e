// createApp: an express app with the SCIM router at /scim/v2 (tests and tools serve it alone);
// mountScim: the same router on an app of the caller's, as the composition root serves it beside
// the admin routes without a second express app in the path of every request.
import express, { type Express } from 'express';
import { createScimRouter, type ScimDeps } from './router';

export const SCIM_BASE_PATH = '/scim/v2';

export function mountScim(app: Express, deps: ScimDeps): void {
  // Responses are written by the SCIM routes themselves (ETags are resource versions), never by res.send.
  app.use(SCIM_BASE_PATH, createScimRouter(deps));
}

export function createApp(deps: ScimDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  // ETags are the resource versions set by the SCIM routes, not hashes of the response body.
  app.set('etag', false);
  mountScim(app, deps);
  return app;
}
