// Authorisation as a tenant does it: a route answers 403 Authorization_RequestDenied unless the
// token's roles hold an Application permission that grants its path and method, per
// schemas/graph-permissions.json (generated from Microsoft's permission table). Directory roles
// (the wids claim) decide password resets and sensitive actions on administrators; and the
// contract check records every request real Graph v1.0 would not route for an app.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { insufficientPrivileges } from './errors';
import { groupSchema, organizationSchema, userSchema, type EntitySchema } from './schema';
import type { TokenClaims } from './tokens';
import { DIRECTORY_ROLE_IDS, type Json } from './types';

interface PermissionFile {
  routes: { method: string; path: string; permissions: string[] }[];
  propertyScoped: Record<string, { properties: string[] }>;
  applicationPaths: Record<string, string[]>;
}

const file = JSON.parse(readFileSync(join(__dirname, '..', '..', 'schemas', 'graph-permissions.json'), 'utf8')) as PermissionFile;
const byRoute = new Map(file.routes.map((r) => [`${r.method} ${r.path}`, r.permissions]));

/** A route pattern of the simulator as the permission table spells it: lower case, {id}, no $ref. */
export function tableTemplate(pattern: string): string {
  return pattern
    .replace(/\/\$ref$/, '')
    .replace(/\{\w+\}/g, '{id}')
    .toLowerCase();
}

/** The permissions granting a route; throws at start-up for a route the table does not know. */
export function permissionsFor(method: string, pattern: string): string[] {
  const found = byRoute.get(`${method} ${tableTemplate(pattern)}`);
  if (!found) throw new Error(`simulator route ${method} ${pattern} has no entry in schemas/graph-permissions.json`);
  return found;
}

export function authorize(claims: TokenClaims, granting: string[]): void {
  if (!granting.some((p) => claims.roles.includes(p))) throw insufficientPrivileges();
}

// PATCH /users/{id} with only property-scoped permissions (User-Phone.ReadWrite.All, ...): every
// property written must be one of theirs.
export function authorizeUserPatch(claims: TokenClaims, keys: string[]): void {
  const scoped = file.propertyScoped;
  const full = permissionsFor('PATCH', '/users/{id}').filter((p) => !scoped[p]);
  if (full.some((p) => claims.roles.includes(p))) return;
  const allowed = new Set(claims.roles.flatMap((r) => scoped[r]?.properties ?? []));
  if (keys.some((k) => !allowed.has(k))) throw insufficientPrivileges();
}

const role = (name: string) => DIRECTORY_ROLE_IDS[name];

// App-only password resets need User-PasswordProfile.ReadWrite.All or a directory role that may
// reset passwords (user-update: "at least the User Administrator Microsoft Entra role").
const PASSWORD_RESET_ROLES = [
  'Global Administrator',
  'Privileged Authentication Administrator',
  'User Administrator',
  'Helpdesk Administrator',
  'Authentication Administrator',
].map(role);

export function checkPasswordResetAllowed(claims: TokenClaims): void {
  if (claims.roles.includes('User-PasswordProfile.ReadWrite.All')) return;
  if (!claims.wids?.some((w) => PASSWORD_RESET_ROLES.includes(w))) throw insufficientPrivileges();
}

/**
 * Sensitive actions on a user who holds an administrator role ("Who can perform sensitive
 * actions", user-update): changing accountEnabled, phones, otherMails or the password, revoking
 * sessions, deleting. In app-only calls the app needs a higher privileged role; the simulator
 * accepts only the two roles that may act on every administrator (Global Administrator,
 * Privileged Authentication Administrator), whatever the target's role.
 */
export const SENSITIVE_PROPERTIES = ['accountEnabled', 'businessPhones', 'mobilePhone', 'otherMails', 'passwordProfile'];
const PRIVILEGED_ACTORS = ['Global Administrator', 'Privileged Authentication Administrator'].map(role);

export function checkSensitiveAction(claims: TokenClaims, targetRoles: readonly string[] | undefined): void {
  if (!targetRoles?.length) return;
  if (!claims.wids?.some((w) => PRIVILEGED_ACTORS.includes(w))) throw insufficientPrivileges();
}

// ---- Contract: what Microsoft publishes for v1.0 application access.

// Templates by segment count and first segment (every table path starts with a literal one).
const templates = new Map<string, string[][]>();
for (const path of Object.keys(file.applicationPaths)) {
  const segs = path.split('/').slice(1);
  const key = `${segs.length} ${segs[0]}`;
  const list = templates.get(key);
  if (list) list.push(segs);
  else templates.set(key, [segs]);
}

/** The table's template for a concrete path (type casts and $ref dropped), or null. */
export function matchTemplate(path: string): string | null {
  const all = path
    .split('?')[0]
    .split('/')
    .slice(1)
    // A trailing slash (as in the Location bulkUpload answers with) names the same resource.
    .filter((s, i, all) => s !== '$ref' && !(s === '' && i === all.length - 1))
    .map((s) => decodeURIComponent(s).toLowerCase());
  // A type cast either names a collection (deletedItems/microsoft.graph.user) or narrows one (memberOf/microsoft.graph.group).
  for (const segs of [all, all.filter((s) => !s.startsWith('microsoft.graph.'))]) {
    for (const t of templates.get(`${segs.length} ${segs[0]}`) ?? []) {
      if (t.every((seg, i) => (seg.startsWith('{') && seg.endsWith('}')) || seg === segs[i])) return '/' + t.join('/');
    }
  }
  return null;
}

function schemaFor(template: string): EntitySchema | null {
  if (template === '/users' || template === '/users/{id}') return userSchema;
  if (template === '/groups' || template === '/groups/{id}') return groupSchema;
  if (template === '/organization/{id}') return organizationSchema;
  return null;
}

/** Why real Graph would not accept this request from an app, or null when it would route it. */
export function contractViolation(method: string, path: string, body: unknown): string | null {
  if (path === '/$batch') return null;
  const template = matchTemplate(path);
  if (!template) return `${method} ${path}: no such path in Graph v1.0 for an Application permission`;
  const methods = file.applicationPaths[template];
  if (!methods.includes(method)) return `${method} ${path}: ${template} takes ${methods.join(', ')} only`;
  const schema = schemaFor(template);
  if (schema && (method === 'POST' || method === 'PATCH') && body && typeof body === 'object') {
    for (const key of Object.keys(body as Json)) {
      if (key.startsWith('@odata.')) continue;
      const bind = /^(\w+)@odata\.bind$/.exec(key);
      if (bind ? !schema.navigation.has(bind[1]) : !schema.properties.has(key) || schema.readOnly.has(key))
        return `${method} ${path}: property '${key}' is not writable on ${schema.type}`;
    }
  }
  return null;
}
