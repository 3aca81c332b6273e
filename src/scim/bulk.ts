// RFC 7644 section 3.7 Bulk: each operation runs through the same services as its HTTP route,
// in its own transaction. bulkId references ("bulkId:x") resolve in any order: operations whose
// references are not yet known wait for a later pass; what never resolves is 409.
import type { Config } from '../config';
import { invalidSyntax, invalidValue, notFound, payloadTooLarge, unresolvedBulkId } from '../errors';
import type { Principal } from './auth';
import { isObject, type UnknownPolicy } from './coerce';
import { toErrorResponse } from './error-response';
import { etagOf } from './render';
import type { ResourceKind } from './resource-routes';

export const BULK_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
export const BULK_RESPONSE = 'urn:ietf:params:scim:api:messages:2.0:BulkResponse';

interface BulkOp {
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  bulkId?: string;
  version?: string;
  path: string;
  data?: unknown;
}

interface BulkResult {
  method: string;
  bulkId?: string;
  version?: string;
  location?: string;
  status: string;
  response?: unknown;
}

function readOps(body: unknown, max: number): { ops: BulkOp[]; failOnErrors?: number } {
  if (!isObject(body)) throw invalidSyntax('the request body must be a BulkRequest object');
  const schemas = body.schemas;
  if (!Array.isArray(schemas) || schemas.length !== 1 || String(schemas[0]).toLowerCase() !== BULK_REQUEST.toLowerCase()) {
    throw invalidSyntax(`schemas must be ["${BULK_REQUEST}"]`);
  }
  const key = Object.keys(body).find((k) => k.toLowerCase() === 'operations');
  const ops = key ? body[key] : undefined;
  if (!Array.isArray(ops)) throw invalidSyntax('Operations must be an array');
  if (ops.length > max) throw payloadTooLarge(`a bulk request may hold at most ${max} operations`);
  const failOnErrors = body.failOnErrors;
  if (failOnErrors !== undefined && (typeof failOnErrors !== 'number' || !Number.isInteger(failOnErrors) || failOnErrors < 1)) {
    throw invalidValue('failOnErrors must be a positive integer');
  }
  return {
    failOnErrors: failOnErrors as number | undefined,
    ops: ops.map((raw, i) => {
      if (!isObject(raw)) throw invalidSyntax(`Operations[${i}] must be an object`);
      const method = typeof raw.method === 'string' ? raw.method.toUpperCase() : '';
      if (!['POST', 'PUT', 'PATCH', 'DELETE'].includes(method)) throw invalidSyntax(`Operations[${i}].method must be POST, PUT, PATCH or DELETE`);
      if (typeof raw.path !== 'string') throw invalidSyntax(`Operations[${i}].path must be a string`);
      if (raw.bulkId !== undefined && typeof raw.bulkId !== 'string') throw invalidSyntax(`Operations[${i}].bulkId must be a string`);
      if (method === 'POST' && !raw.bulkId) throw invalidSyntax(`Operations[${i}]: POST needs a bulkId`);
      if (raw.version !== undefined && typeof raw.version !== 'string') throw invalidSyntax(`Operations[${i}].version must be a string`);
      return { method: method as BulkOp['method'], bulkId: raw.bulkId as string | undefined, version: raw.version as string | undefined, path: raw.path, data: raw.data };
    }),
  };
}

/** Replaces every "bulkId:x" string in data; returns the unresolved ids (data unchanged then). */
function substitute(value: unknown, ids: Map<string, string>, missing: Set<string>): unknown {
  if (typeof value === 'string' && value.startsWith('bulkId:')) {
    const id = ids.get(value.slice(7));
    if (id === undefined) missing.add(value.slice(7));
    return id ?? value;
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, ids, missing));
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, ids, missing)]));
  return value;
}

interface RunContext {
  kinds: ResourceKind[];
  p: Principal;
  base: string;
  unknown?: UnknownPolicy;
  /** bulkId -> the id of the resource its POST created. */
  ids: Map<string, string>;
}

/** One operation through the service its path names; throws what the service throws. */
function execute(ctx: RunContext, op: BulkOp, data: unknown): BulkResult {
  const m = /^\/?(Users|Groups)(?:\/([^/?]+))?$/i.exec(op.path);
  const kind = m && ctx.kinds.find((k) => k.type === (m[1].toLowerCase() === 'users' ? 'User' : 'Group'));
  if (!m || !kind) throw notFound(`bulk path ${op.path} names no resource endpoint`);
  const endpoint = kind.type === 'User' ? 'Users' : 'Groups';
  const tag = op.bulkId ? { bulkId: op.bulkId } : {};
  const { p } = ctx;
  // Each operation's write records what it ignored; the request's single log line gets all of them.
  const unknown = ctx.unknown && { ignore: ctx.unknown.ignore, ignored: [], extensions: [] };
  try {
    return executeWith(ctx, op, data, m[2], kind, endpoint, tag, p, unknown);
  } finally {
    if (ctx.unknown && unknown) {
      ctx.unknown.ignored.push(...unknown.ignored);
      ctx.unknown.extensions.push(...unknown.extensions);
    }
  }
}

function executeWith(
  ctx: RunContext,
  op: BulkOp,
  data: unknown,
  pathId: string | undefined,
  kind: ResourceKind,
  endpoint: string,
  tag: { bulkId?: string },
  p: Principal,
  unknown: UnknownPolicy | undefined,
): BulkResult {
  if (op.method === 'POST') {
    if (pathId) throw invalidSyntax('POST goes to /Users or /Groups');
    const row = kind.service.create(p, data, { unknown });
    ctx.ids.set(op.bulkId!, row.id);
    return { method: op.method, ...tag, version: etagOf(row.version), location: `${ctx.base}/${endpoint}/${row.id}`, status: '201' };
  }
  if (!pathId) throw invalidSyntax(`${op.method} needs a resource id in its path`);
  const id = pathId.startsWith('bulkId:') ? (ctx.ids.get(pathId.slice(7)) ?? pathId) : pathId;
  const opts = { ifMatch: op.version, unknown };
  if (op.method === 'DELETE') {
    kind.service.remove(p, id, opts);
    return { method: op.method, ...tag, status: '204' };
  }
  const { resource } = op.method === 'PUT' ? kind.service.replace(p, id, data, opts) : kind.service.patch(p, id, data, opts);
  return { method: op.method, ...tag, version: etagOf(resource.version), location: `${ctx.base}/${endpoint}/${id}`, status: '200' };
}

function failure(op: BulkOp, err: unknown): BulkResult {
  const { status, body } = toErrorResponse(err);
  return { method: op.method, ...(op.bulkId ? { bulkId: op.bulkId } : {}), status: String(status), response: body };
}

/** Operations whose references are known run; the others wait for a later pass (RFC 7644 section 3.7.2). */
export function runBulk(config: Config, kinds: ResourceKind[], p: Principal, body: unknown, base: string, unknown?: UnknownPolicy) {
  const { ops, failOnErrors } = readOps(body, config.limits.bulkOperations);
  const ctx: RunContext = { kinds, p, base, unknown, ids: new Map() };
  const results: (BulkResult | undefined)[] = new Array(ops.length);
  let errors = 0;
  const stopped = () => failOnErrors !== undefined && errors >= failOnErrors;
  let pending = ops.map((_, i) => i);
  while (pending.length && !stopped()) {
    const waiting: number[] = [];
    for (const i of pending) {
      if (stopped()) break;
      const missing = new Set<string>();
      const data = substitute(ops[i].data, ctx.ids, missing);
      const pathRef = /\/bulkId:([^/]+)$/.exec(ops[i].path)?.[1];
      if (pathRef && !ctx.ids.has(pathRef)) missing.add(pathRef);
      if (missing.size) {
        waiting.push(i);
        continue;
      }
      try {
        results[i] = execute(ctx, ops[i], data);
      } catch (err) {
        results[i] = failure(ops[i], err);
        errors++;
      }
    }
    if (waiting.length === pending.length) {
      // RFC 7644 section 3.7.1: an unresolvable (or circular) bulkId reference is a 409.
      for (const i of waiting) {
        const detail = `bulkId reference in operation ${i} never resolves (unknown or circular)`;
        results[i] = failure(ops[i], unresolvedBulkId(detail));
      }
      break;
    }
    pending = waiting;
  }
  return { schemas: [BULK_RESPONSE], Operations: results.filter((r): r is BulkResult => r !== undefined) };
}
