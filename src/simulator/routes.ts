// The route table: method + path pattern -> handler, with the app roles each needs. An unknown
// first segment is Graph's "Resource not found for the segment '...'", which is also what a
// $batch item whose url keeps the /v1.0 prefix gets.
import { GraphError, insufficientPrivileges, segmentNotFound, unsupportedMethod } from './errors';
import type { SimContext } from './context';
import type { SimRequest, SimResponse } from './types';
import { createUser, deleteUser, getUser, listUsers, updateUser } from './users';

type Handler = (ctx: SimContext, req: SimRequest, params: string[]) => SimResponse;

interface Route {
  method: string;
  pattern: RegExp;
  roles: string[];
  handler: Handler;
  write: boolean;
}

const USER_READ = ['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];
const USER_WRITE = ['User.ReadWrite.All', 'Directory.ReadWrite.All'];

const SEG = '([^/]+)';
const routes: Route[] = [];
const KNOWN_SEGMENTS = new Set<string>();

export function route(method: string, path: string, roles: string[], handler: Handler): void {
  KNOWN_SEGMENTS.add(path.split('/')[1]);
  const pattern = new RegExp('^' + path.replace(/\$/g, '\\$').replace(/\./g, '\\.').replace(/\{\w+\}/g, SEG) + '/?$');
  routes.push({ method, pattern, roles, handler, write: method !== 'GET' });
}

route('GET', '/users', USER_READ, (c, r) => listUsers(c, r));
route('POST', '/users', USER_WRITE, (c, r) => createUser(c, r));
route('GET', '/users/{id}', USER_READ, (c, r, [id]) => getUser(c, r, id));
route('PATCH', '/users/{id}', USER_WRITE, (c, r, [id]) => updateUser(c, r, id));
route('DELETE', '/users/{id}', USER_WRITE, (c, r, [id]) => deleteUser(c, id));

export function isWrite(method: string): boolean {
  return method !== 'GET' && method !== 'HEAD';
}

export function dispatch(ctx: SimContext, req: SimRequest): SimResponse {
  let methodMismatch = false;
  for (const r of routes) {
    const m = r.pattern.exec(req.path);
    if (!m) continue;
    if (r.method !== req.method) {
      methodMismatch = true;
      continue;
    }
    if (!r.roles.some((role) => req.claims.roles.includes(role))) throw insufficientPrivileges();
    return r.handler(ctx, req, m.slice(1));
  }
  if (methodMismatch) throw unsupportedMethod();
  const first = req.path.split('/')[1] ?? '';
  if (!KNOWN_SEGMENTS.has(first)) throw segmentNotFound(decodeURIComponent(first));
  throw new GraphError(400, 'BadRequest', `Resource not found for the segment '${decodeURIComponent(req.path.split('/').pop() ?? '')}'.`);
}
