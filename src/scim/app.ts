// The SCIM router on a server: `scimListener` is the composition root's request listener (SCIM
// requests straight to the SCIM router, everything else to the admin app); `createApp` is an express
// app that serves SCIM alone, for tests and tools (`app.listen`, supertest), through the same router.
import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type Express } from 'express';
import { isScimUrl, originForm, type TrustProxy } from './http';
import { createScimRouter, type ScimDeps } from './router';

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/** SCIM requests to the SCIM router, on node's request and response; the rest to `otherwise` (`app`'s `trust proxy` applies to both). */
function scimOr(app: Express, deps: Omit<ScimDeps, 'trustProxy'>): (req: IncomingMessage, res: ServerResponse, otherwise: () => void) => void {
  const scim = createScimRouter({ ...deps, trustProxy: app.get('trust proxy fn') as TrustProxy });
  return (req, res, otherwise) => (isScimUrl(originForm(req.url)) ? scim(req, res) : otherwise());
}

/** The composition root's listener: SCIM requests to the SCIM router, the rest to `app`. */
export function scimListener(app: Express, deps: Omit<ScimDeps, 'trustProxy'>): Listener {
  const route = scimOr(app, deps);
  return (req, res) => route(req, res, () => app(req, res));
}

export function createApp(deps: Omit<ScimDeps, 'trustProxy' | 'noteRoute'>): Express {
  const app = express();
  app.disable('x-powered-by');
  if (deps.config.trustProxy) app.set('trust proxy', deps.config.trustProxy);
  app.use(scimOr(app, deps));
  return app;
}
