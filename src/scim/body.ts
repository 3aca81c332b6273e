// Request bodies (SPEC section 11): size limit from config, JSON media types only, strict UTF-8,
// nesting bounded before anything walks the value. Each failure is a SCIM error, never a 500.
import type { IncomingMessage, ServerResponse } from 'node:http';
import express from 'express';
import { invalidSyntax, unsupportedMediaType } from '../errors';

export const MAX_DEPTH = 32;
const YIELD_AFTER_BYTES = 64 * 1024;
const WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** application/json, application/scim+json or any +json type; charset, if given, utf-8. */
function acceptable(contentType: string): boolean {
  const [type, ...params] = contentType.split(';').map((s) => s.trim().toLowerCase());
  if (!/^application\/(json|[a-z0-9.+-]*\+json)$/.test(type)) return false;
  const charset = params
    .find((p) => p.startsWith('charset='))
    ?.slice(8)
    .replace(/"/g, '');
  return !charset || charset === 'utf-8' || charset === 'utf8';
}

/** Deepest nesting of arrays/objects in JSON text, scanning once and stopping past `max`. */
function depthExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > max) return true;
    } else if (c === 125 || c === 93) depth--;
  }
  return false;
}

export function parseJsonText(text: string): unknown {
  if (text.trim() === '') throw invalidSyntax('the request body is empty');
  if (depthExceeds(text, MAX_DEPTH)) throw invalidSyntax(`the request body nests deeper than ${MAX_DEPTH} levels`);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw invalidSyntax(`the request body is not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * Reads the JSON body of a POST, PUT or PATCH (other methods have none: `done(null, undefined)` at
 * once) and hands it, parsed, to `done`; or the SCIM error that describes what was wrong with it.
 */
export function jsonBody(limitBytes: number) {
  const raw = express.raw({ type: () => true, limit: limitBytes }) as unknown as (
    req: IncomingMessage,
    res: ServerResponse,
    next: (err?: unknown) => void,
  ) => void;
  return function readJson(req: IncomingMessage & { body?: unknown }, res: ServerResponse, done: (err: unknown, body?: unknown) => void): void {
    if (!WITH_BODY.has(req.method ?? '')) return done(null, undefined);
    const contentType = req.headers['content-type'];
    if (contentType && !acceptable(contentType)) {
      done(unsupportedMediaType(`Content-Type "${contentType}" is not supported: send application/scim+json or application/json in UTF-8`));
      return;
    }
    raw(req, res, (err?: unknown) => {
      if (err) return done(err);
      let body: unknown;
      const buf = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      try {
        let text: string;
        try {
          text = utf8.decode(buf);
        } catch {
          throw invalidSyntax('the request body is not valid UTF-8');
        }
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
        body = parseJsonText(text);
      } catch (e) {
        return done(e);
      }
      // A large body's parse and its handling run in separate turns of the event loop, so other
      // requests get in between (no single turn holds both the parse and the write).
      if (buf.length > YIELD_AFTER_BYTES) setImmediate(done, null, body);
      else done(null, body);
    });
  };
}
