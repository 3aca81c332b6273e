// createApp: an express app with the SCIM router at /scim/v2. The composition root adds admin
// routes to the same app; nothing else is mounted here.
import express, { type Express } from 'express';
import { createScimRouter, type ScimDeps } from './router';

export const SCIM_BASE_PATH = '/scim/v2';

export function createApp(deps: ScimDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  // ETags are the resource versions set by the SCIM routes, not hashes of the response body.
  app.set('etag', false);
  app.use(SCIM_BASE_PATH, createScimRouter(deps));
  return app;
}
