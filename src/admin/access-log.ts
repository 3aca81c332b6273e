// One log line and one metric per HTTP request: method, path without query, status, duration.
// Never headers or bodies: they carry bearer tokens and passwords.
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../log';
import type { BridgeMetrics } from './metrics';

export function accessLog(logger: Logger, metrics: BridgeMetrics) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const path = req.originalUrl.split('?')[0];
      if (path.startsWith('/scim/')) metrics.scimRequests.inc({ method: req.method, status: String(res.statusCode) });
      if (path === '/healthz' || path === '/readyz' || path === '/metrics') return;
      logger.info({ method: req.method, path, status: res.statusCode, ms: Math.round(ms * 10) / 10 }, 'request');
    });
    next();
  };
}
