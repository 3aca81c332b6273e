// The SCIM router on a server: `scimListener` is the composition root's request listener (SCIM
// requests straight to the SCIM router, everything else to the admin app); `createApp` is an express
// app that serves SCIM alone, for tests and tools (`app.listen`, supertest), through the same router.
import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type Express } from 'express';
import { isScimUrl, originForm, type TrustProxy } from './http';
import { createScimRouter, type ScimDeps } from './router';

/**
 * SCIM requests to the SCIM router, on node's request and response; the rest to `app` (its
 * `trust proxy` applies to both).
 */
export function scimListener(app: Express, deps: Omit<ScimDeps, 'trustProxy'>): (req: IncomingMessage, res: ServerResponse) => void {
  const scim = createScimRouter({ ...deps, trustProxy: app.get('trust proxy fn') as TrustProxy });
  return (req, res) => (isScimUrl(originForm(req.url)) ? scim(req, res) : app(req, res));
}

export function createApp(deps: Omit<ScimDeps, 'trustProxy' | 'noteRoute'>): Express {
  const app = express();
  app.disable('x-powered-by');
  if (deps.config.trustProxy) app.set('trust proxy', deps.config.trustProxy);
  const scim = createScimRouter({ ...deps, trustProxy: app.get('trust proxy fn') as TrustProxy });
  app.use((req, res, next) => (isScimUrl(originForm(req.url)) ? scim(req, res) : next()));
  return app;
}
