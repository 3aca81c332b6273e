// Admin surface: /healthz, /readyz, /metrics (no secrets, no auth) and the operator's console
// with its JSON API under /admin (admin session or token). Console pages are rendered on the
// server and served with a strict CSP (scripts and styles only from the bridge, no framing);
// every action is a POST that needs the admin session and its CSRF token.
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Registry } from 'prom-client';
import type { ResourceType } from '../store';
import { bearerToken, requireAdmin, sessionOf, tokenMatches } from './auth';
import { consoleCss, consoleJs, faviconSvg, type Html, html, layout, loginPage, type Page } from './console-html';
import { auditPage, deletionsPage, driftPage, graphPage, groupPage, groupsPage, overviewPage, userPage, usersPage } from './console-pages';
import { createSessions, sameSecret, SESSION_COOKIE, type Session, type Sessions } from './session';
import type { AdminDataSource, PublicHealth } from './types';

export interface AdminRouterOptions {
  adminToken: string;
  data: AdminDataSource;
  metrics: Registry;
  sessions?: Sessions;
  /** How long a "sync now" request waits for the engine before the page answers (default 20 s). */
  syncNowWaitMs?: number;
}

export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'";

function intParam(value: unknown, fallback: number, max: number): number {
  const n = Number.parseInt(String(value ?? ''), 10);
  return Number.isFinite(n) && n >= 0 ? Math.min(n, max) : fallback;
}

function strParam(value: unknown, max = 256): string | undefined {
  return typeof value === 'string' && value.trim() ? value.trim().slice(0, max) : undefined;
}

const pageParam = (value: unknown) => Math.max(1, intParam(value, 1, 1_000_000));

function securityHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.set({
    'Content-Security-Policy': CONSOLE_CSP,
    'X-Frame-Options': 'DENY',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
  });
  next();
}

const NOTICES: Record<string, (n: number) => string> = {
  retried: () => 'Queued: the engine takes it on its next run.',
  approved: (n) => `Approved: ${n} deprovisions go to Graph on the engine's next run.`,
  rejected: (n) => `Rejected: ${n} Entra accounts were left as they are (recorded in the audit log).`,
};

export function createAdminRouter({ adminToken, data, metrics, sessions = createSessions(), syncNowWaitMs = 20_000 }: AdminRouterOptions): Router {
  const router = express.Router();

  router.get('/healthz', (req, res) => {
    const report = data.health();
    res.set('Cache-Control', 'no-store');
    // Blocked still answers 200: the process is alive and ingress accepts writes; the body says why sync is held.
    // Reasons, warnings and the Graph target (whose errors can name the tenant and app) need the admin token.
    if (tokenMatches(adminToken, bearerToken(req))) {
      res.status(200).json(report);
      return;
    }
    const brief: PublicHealth = { status: report.status, engine: { state: report.engine.state }, queue: report.queue, resources: report.resources };
    res.status(200).json(brief);
  });
  router.get('/readyz', (_req, res) => {
    const ready = data.ready();
    res.status(ready ? 200 : 503).json({ ready });
  });
  router.get('/metrics', async (_req, res) => {
    res.set('Content-Type', metrics.contentType).send(await metrics.metrics());
  });

  const admin = express.Router();
  admin.use(securityHeaders);
  admin.get('/console.css', (_req, res) => {
    res.type('css').set('Cache-Control', 'no-cache').send(consoleCss);
  });
  admin.get('/console.js', (_req, res) => {
    res.type('js').set('Cache-Control', 'no-cache').send(consoleJs);
  });
  admin.get('/favicon.svg', (_req, res) => {
    res.type('image/svg+xml').set('Cache-Control', 'no-cache').send(faviconSvg);
  });
  admin.get('/login', (_req, res) => {
    res.set('Cache-Control', 'no-store').type('html').send(loginPage());
  });
  admin.post('/login', express.urlencoded({ extended: false, limit: '4kb' }), (req, res) => {
    res.set('Cache-Control', 'no-store');
    const given = typeof req.body?.token === 'string' ? req.body.token : undefined;
    if (!tokenMatches(adminToken, given)) {
      res.status(401).type('html').send(loginPage('That token is not the admin token.'));
      return;
    }
    const session = sessions.open();
    // Secure when the request came over TLS (the bridge's own HTTPS, or a proxy Express trusts).
    res.cookie(SESSION_COOKIE, session.id, { httpOnly: true, sameSite: 'strict', path: '/admin', secure: req.secure });
    res.redirect(303, './');
  });
  admin.use(requireAdmin(adminToken, sessions));
  admin.use((_req, res, next) => {
    // Admin data is never kept by a browser or a proxy.
    res.set('Cache-Control', 'no-store');
    next();
  });

  // Every action: the session cookie and its CSRF token (a bearer token alone is not a console session).
  admin.use(express.urlencoded({ extended: false, limit: '4kb' }));
  admin.use((req, res, next) => {
    if (req.method !== 'POST') return next();
    const session = res.locals.session as Session | undefined;
    const token = typeof req.body?.csrf === 'string' ? req.body.csrf : undefined;
    if (!session || !sameSecret(session.csrf, token)) {
      res.status(403).type('html').send(loginPage('This action needs a signed-in console session and its form token; reload the page and try again.'));
      return;
    }
    next();
  });

  const render = (req: Request, res: Response, nav: Page['nav'], title: string, body: Html) => {
    const csrf = (res.locals.session as Session | undefined)?.csrf ?? '';
    const done = strParam(req.query.done, 20);
    const notice = done && NOTICES[done] ? NOTICES[done](intParam(req.query.n, 0, 1e9)) : undefined;
    res.type('html').send(layout({ nav, title, body, csrf, notice }, `${req.baseUrl}/`));
  };
  const listQuery = (req: Request) => ({
    state: strParam(req.query.state, 20),
    source: strParam(req.query.source, 128),
    q: strParam(req.query.q),
    page: pageParam(req.query.page),
  });
  const notFound = (res: Response, what: string) =>
    res
      .status(404)
      .type('html')
      .send(layout({ nav: 'overview', title: 'Not found', body: html404(what), csrf: '' }, '/admin/'));

  admin.get('/', (req, res) => render(req, res, 'overview', 'Overview', overviewPage(data.console)));
  admin.get('/users', (req, res) => render(req, res, 'users', 'Users', usersPage(data.console, listQuery(req))));
  admin.get('/groups', (req, res) => render(req, res, 'groups', 'Groups', groupsPage(data.console, listQuery(req))));
  for (const [type, path] of [
    ['User', 'users'],
    ['Group', 'groups'],
  ] as [ResourceType, string][]) {
    admin.get(`/${path}/:id`, (req, res) => {
      const detail = data.console.resource(type, String(req.params.id));
      if (!detail) return void notFound(res, `No ${type.toLowerCase()} ${req.params.id}.`);
      const query = {
        ran: req.query.ran === undefined ? undefined : intParam(req.query.ran, 0, Number.MAX_SAFE_INTEGER),
        refused: req.query.refused === '1',
        waiting: req.query.waiting === '1',
        page: pageParam(req.query.page),
      };
      const csrf = (res.locals.session as Session | undefined)?.csrf ?? '';
      const title = String(type === 'User' ? detail.resource.userName : detail.resource.displayName);
      render(
        req,
        res,
        path as Page['nav'],
        title,
        type === 'User' ? userPage(data.console, detail, query, csrf) : groupPage(data.console, detail, query, csrf),
      );
    });
    admin.post(`/${path}/:id/sync`, async (req, res) => {
      const id = String(req.params.id);
      if (!data.console.resource(type, id)) return void notFound(res, `No ${type.toLowerCase()} ${id}.`);
      const before = data.console.graphLog.lastSeq();
      // Sync now waits for a run in progress (they are serialised); the page does not wait longer than this.
      const waiting = new Promise<'waiting'>((resolve) => setTimeout(() => resolve('waiting'), syncNowWaitMs).unref());
      const result = await Promise.race([data.console.syncNow(type, id), waiting]);
      const flag = result === 'waiting' ? '&waiting=1' : result.refused ? '&refused=1' : '';
      res.redirect(303, `${req.baseUrl}/${path}/${encodeURIComponent(id)}?ran=${before}${flag}#sync-now`);
    });
    admin.post(`/${path}/:id/retry`, (req, res) => {
      const id = String(req.params.id);
      if (!data.console.resource(type, id)) return void notFound(res, `No ${type.toLowerCase()} ${id}.`);
      data.console.retry(type, id);
      res.redirect(303, `${req.baseUrl}/${path}/${encodeURIComponent(id)}?done=retried`);
    });
  }
  admin.get('/deletions', (req, res) =>
    render(req, res, 'deletions', 'Pending deletions', deletionsPage(data.console, (res.locals.session as Session | undefined)?.csrf ?? '')),
  );
  admin.post('/deletions/:source/approve', (req, res) => {
    const { approved } = data.console.approveDeletions(String(req.params.source));
    res.redirect(303, `${req.baseUrl}/deletions?done=approved&n=${approved}`);
  });
  admin.post('/deletions/:source/reject', (req, res) => {
    const { rejected } = data.console.rejectDeletions(String(req.params.source));
    res.redirect(303, `${req.baseUrl}/deletions?done=rejected&n=${rejected}`);
  });
  admin.get('/drift', (req, res) => render(req, res, 'drift', 'Drift', driftPage(data.console)));
  admin.get('/audit', (req, res) =>
    render(
      req,
      res,
      'audit',
      'Audit log',
      auditPage(data.console, {
        action: strParam(req.query.action, 128),
        source: strParam(req.query.source, 128),
        resource: strParam(req.query.resource, 128),
        before: req.query.before === undefined ? undefined : intParam(req.query.before, 0, Number.MAX_SAFE_INTEGER),
      }),
    ),
  );
  admin.get('/graph', (req, res) => render(req, res, 'graph', 'Graph requests', graphPage(data.console)));
  admin.post('/logout', (req, res) => {
    sessions.close((sessionOf(req, sessions) ?? undefined)?.id);
    res.clearCookie(SESSION_COOKIE, { path: '/admin', httpOnly: true, sameSite: 'strict', secure: req.secure });
    res.redirect(303, `${req.baseUrl}/login`);
  });

  // JSON API (admin token or session).
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

function html404(what: string): Html {
  return html`<h1>Not found</h1><p>${what}</p><p><a href="./">Overview</a></p>`;
}
