// Admin surface: /healthz, /readyz, /metrics (no secrets, no auth) and the dashboard
// with its JSON API under /admin (admin token required).
import express, { type Router } from 'express';
import type { Registry } from 'prom-client';
import { requireAdmin, tokenMatches } from './auth';
import { dashboardHtml, loginHtml } from './dashboard-page';
import type { AdminDataSource } from './types';

export interface AdminRouterOptions {
  adminToken: string;
  data: AdminDataSource;
  metrics: Registry;
}

function intParam(value: unknown, fallback: number, max: number): number {
  const n = Number.parseInt(String(value ?? ''), 10);
  return Number.isFinite(n) && n >= 0 ? Math.min(n, max) : fallback;
}

export function createAdminRouter({ adminToken, data, metrics }: AdminRouterOptions): Router {
  const router = express.Router();

  router.get('/healthz', (_req, res) => {
    const report = data.health();
    // Blocked still answers 200: the process is alive and ingress accepts writes; the body says why sync is held.
    res.status(200).json(report);
  });
  router.get('/readyz', (_req, res) => {
    const ready = data.ready();
    res.status(ready ? 200 : 503).json({ ready });
  });
  router.get('/metrics', async (_req, res) => {
    res.set('Content-Type', metrics.contentType).send(await metrics.metrics());
  });

  const admin = express.Router();
  admin.get('/login', (_req, res) => {
    res.type('html').send(loginHtml());
  });
  admin.post('/login', express.urlencoded({ extended: false, limit: '4kb' }), (req, res) => {
    const given = typeof req.body?.token === 'string' ? req.body.token : undefined;
    if (!tokenMatches(adminToken, given)) {
      res.status(401).type('html').send(loginHtml('That token is not the admin token.'));
      return;
    }
    res.cookie('bridge_admin', given, { httpOnly: true, sameSite: 'strict', path: '/admin' });
    res.redirect(303, './');
  });
  admin.use(requireAdmin(adminToken));
  admin.get('/', (_req, res) => {
    res.type('html').set('Content-Security-Policy', "default-src 'self'; script-src 'unsafe-inline' 'self'; style-src 'unsafe-inline'").send(dashboardHtml());
  });
  admin.get('/api/overview', (_req, res) => {
    res.json({ health: data.health(), sources: data.sources(), preflight: data.preflight() });
  });
  admin.get('/api/users', (req, res) => {
    const search = typeof req.query.search === 'string' ? req.query.search.slice(0, 256) : undefined;
    res.json(data.users({ offset: intParam(req.query.offset, 0, 1e9), limit: intParam(req.query.limit, 50, 500) || 50, search }));
  });
  admin.get('/api/queue', (req, res) => {
    res.json(data.queue(intParam(req.query.limit, 100, 1000)));
  });
  admin.get('/api/graph-log', (req, res) => {
    res.json(data.graphLog(intParam(req.query.limit, 100, 1000)));
  });
  admin.get('/api/drift', (req, res) => {
    res.json(data.drift(intParam(req.query.limit, 100, 1000)));
  });
  router.use('/admin', admin);
  return router;
}
