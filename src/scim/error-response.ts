// Every failure leaves scim/ as an RFC 7644 section 3.12 error body. BridgeErrors (the catalogue in
// src/errors.ts) carry status and scimType; anything else is a bug, logged and answered as a plain
// 500 without details.
import type { ServerResponse } from 'node:http';
import { BridgeError } from '../errors';
import type { Logger } from '../log';

export const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
export const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8';

export interface ScimErrorBody {
  schemas: string[];
  status: string;
  scimType?: string;
  detail: string;
}

export function errorBody(status: number, detail: string, scimType?: string): ScimErrorBody {
  return { schemas: [ERROR_SCHEMA], status: String(status), ...(scimType ? { scimType } : {}), detail };
}

/** Maps any thrown value to status + body; unknown errors become an opaque 500. */
export function toErrorResponse(err: unknown, logger?: Logger): { status: number; body: ScimErrorBody } {
  if (err instanceof BridgeError && err.expose) return { status: err.status, body: errorBody(err.status, err.message, err.scimType) };
  // body-parser style errors carry a status and a type.
  const e = err as { status?: number; statusCode?: number; type?: string; message?: string };
  const status = e?.status ?? e?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    if (e.type === 'entity.too.large') return { status: 413, body: errorBody(413, 'request body is larger than the configured limit') };
    if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported')
      return { status: 415, body: errorBody(415, e.message ?? 'unsupported encoding') };
    const detail = e.type ? 'request body could not be read' : (e.message ?? 'bad request');
    return { status: 400, body: errorBody(400, detail, 'invalidSyntax') };
  }
  logger?.error({ err }, 'unexpected error in SCIM request');
  return { status: 500, body: errorBody(500, 'internal error') };
}

export function sendError(res: ServerResponse, err: unknown, logger?: Logger): void {
  const { status, body } = toErrorResponse(err, logger);
  if (res.headersSent) return;
  res.statusCode = status;
  res.setHeader('Content-Type', SCIM_CONTENT_TYPE);
  res.end(JSON.stringify(body));
}
