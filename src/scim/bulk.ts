// RFC 7644 section 3.7 Bulk: each operation runs through the same services as its HTTP route,
// in its own transaction. bulkId references ("bulkId:x") resolve in any order: operations run in
// dependency order, found in one pass; a reference that never resolves or a cycle is 409.
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
      return {
        method: method as BulkOp['method'],
        bulkId: raw.bulkId as string | undefined,
        version: raw.version as string | undefined,
        path: raw.path,
        data: raw.data,
      };
    }),
  };
}

/** Replaces every "bulkId:x" string in data by the id its POST created (left as is when there is none). */
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

/** The bulkIds an operation refers to, in its data and its path, found in one walk. */
function referencesOf(op: BulkOp): Set<string> {
  const refs = new Set<string>();
  const walk = (value: unknown): void => {
    if (typeof value === 'string') {
      if (value.startsWith('bulkId:')) refs.add(value.slice(7));
    } else if (Array.isArray(value)) value.forEach(walk);
    else if (isObject(value)) Object.values(value).forEach(walk);
  };
  walk(op.data);
  const pathRef = /\/bulkId:([^/]+)$/.exec(op.path)?.[1];
  if (pathRef) refs.add(pathRef);
  return refs;
}

/**
 * The order to run operations in: each after the POSTs whose bulkIds it uses (RFC 7644 section 3.7.2),
 * otherwise as sent, found by one depth-first walk (linear in operations plus references). Operations
 * on a cycle of references are returned in `cyclic`; they fail with 409 (section 3.7.1).
 */
function runOrder(ops: BulkOp[]): { order: number[]; cyclic: Set<number> } {
  const definer = new Map<string, number>();
  ops.forEach((op, i) => {
    if (op.method === 'POST' && op.bulkId && !definer.has(op.bulkId)) definer.set(op.bulkId, i);
  });
  const deps = ops.map((op) => [...referencesOf(op)].map((b) => definer.get(b)).filter((d): d is number => d !== undefined));
  const state = new Uint8Array(ops.length); // 0 new, 1 on the walk's path, 2 placed
  const order: number[] = [];
  const cyclic = new Set<number>();
  for (let root = 0; root < ops.length; root++) {
    if (state[root]) continue;
    // Iterative walk: a chain of 1,000 references must not depend on the stack's depth.
    const stack: { node: number; next: number }[] = [{ node: root, next: 0 }];
    state[root] = 1;
    while (stack.length) {
      const top = stack[stack.length - 1];
      const dep = deps[top.node][top.next++];
      if (dep === undefined) {
        stack.pop();
        state[top.node] = 2;
        order.push(top.node);
      } else if (state[dep] === 0) {
        state[dep] = 1;
        stack.push({ node: dep, next: 0 });
      } else if (state[dep] === 1) {
        for (let k = stack.length - 1; k >= 0; k--) {
          cyclic.add(stack[k].node);
          if (stack[k].node === dep) break;
        }
      }
    }
  }
  return { order, cyclic };
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

/** Work between two yields to the event loop: other requests (and /healthz) wait no longer than this. */
const SLICE_MS = 10;

/**
 * Runs the operations in dependency order (runOrder), each in its own transaction, yielding to the
 * event loop every SLICE_MS so that a Bulk of the largest allowed size never blocks other requests.
 */
export async function runBulk(config: Config, kinds: ResourceKind[], p: Principal, body: unknown, base: string, unknown?: UnknownPolicy) {
  const { ops, failOnErrors } = readOps(body, config.limits.bulkOperations);
  const ctx: RunContext = { kinds, p, base, unknown, ids: new Map() };
  const results: (BulkResult | undefined)[] = new Array(ops.length);
  const { order, cyclic } = runOrder(ops);
  let errors = 0;
  let sliceStart = -Infinity; // yield once first: reading and ordering the operations was a slice of its own
  for (const i of order) {
    if (failOnErrors !== undefined && errors >= failOnErrors) break;
    if (performance.now() - sliceStart > SLICE_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
    results[i] = runOne(ctx, ops[i], i, cyclic.has(i));
    if (Number(results[i]!.status) >= 400) errors++;
  }
  return { schemas: [BULK_RESPONSE], Operations: results.filter((r): r is BulkResult => r !== undefined) };
}

function runOne(ctx: RunContext, op: BulkOp, i: number, cyclic: boolean): BulkResult {
  // RFC 7644 section 3.7.1: a circular or unresolvable bulkId reference is a 409.
  if (cyclic) return failure(op, unresolvedBulkId(`bulkId references of operation ${i} form a cycle`));
  const missing = new Set<string>();
  const data = substitute(op.data, ctx.ids, missing);
  const pathRef = /\/bulkId:([^/]+)$/.exec(op.path)?.[1];
  if (pathRef && !ctx.ids.has(pathRef)) missing.add(pathRef);
  if (missing.size) {
    const detail = `bulkId reference in operation ${i} never resolves (unknown or circular)`;
    return failure(op, unresolvedBulkId(detail));
  }
  try {
    return execute(ctx, op, data);
  } catch (err) {
    return failure(op, err);
  }
}
