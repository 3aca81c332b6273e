// User actions and links: manager/$ref, assignLicense (usage location and seat counts enforced),
// reprocessLicenseAssignment (group-based licences worked out again, licensing.ts),
// revokeSignInSessions (200 {"value":true}, as real Graph answers, moving
// signInSessionsValidFromDateTime to now).
import { badRequest, odataBadRequest, resourceNotFound } from './errors';
import { contextUrl, isoSeconds, type SimContext } from './context';
import type { UserObject } from './directory';
import type { Json, SimRequest, SimResponse } from './types';
import { refuseIfOnPremMastered } from './user-rules';
import { checkSensitiveAction } from './permissions';
import { notReplicated } from './faults';
import { findUser, findUserForWrite, userEntity } from './users';
import { directLicenses, heldSkus, invalidLicense, parseLicenseChange, queueLicensing, setDirectLicenses } from './licensing';

/** The object id an @odata.id reference names: .../users/{id} or .../directoryObjects/{id}, on Graph's host or ours. */
export function referencedId(ctx: SimContext, body: unknown): string {
  const ref = (body as Json | undefined)?.['@odata.id'];
  if (typeof ref !== 'string') throw badRequest('Invalid request body: @odata.id is required.');
  let url: URL;
  try {
    url = new URL(ref, `${ctx.baseUrl}/v1.0/`);
  } catch {
    throw odataBadRequest(`The URI '${ref}' is not valid because it is not based on '${ctx.baseUrl}/v1.0/'.`);
  }
  const m = /\/v1\.0\/(?:directoryObjects|users|groups)\/([^/]+)$/.exec(url.pathname);
  if (!m || (url.origin !== ctx.baseUrl && url.origin !== 'https://graph.microsoft.com'))
    throw odataBadRequest(`The URI '${ref}' is not valid because it is not based on '${ctx.baseUrl}/v1.0/'.`);
  return decodeURIComponent(m[1]);
}

export function setManager(ctx: SimContext, req: SimRequest, key: string): SimResponse {
  const user = findUserForWrite(ctx, key);
  const managerId = referencedId(ctx, req.body);
  const manager = ctx.dir.userByKey(managerId);
  if (!manager || notReplicated(manager, ctx.replicationLagMs(), ctx.now())) throw resourceNotFound(managerId);
  refuseIfOnPremMastered(user, ['manager']);
  if (manager.id === user.id) throw badRequest('Invalid object identifier: a user cannot be their own manager.');
  user.managerId = manager.id;
  ctx.dir.touch(user);
  return { status: 204 };
}

export function removeManager(ctx: SimContext, key: string): SimResponse {
  const user = findUserForWrite(ctx, key);
  if (!user.managerId) throw resourceNotFound('manager');
  refuseIfOnPremMastered(user, ['manager']);
  user.managerId = undefined;
  ctx.dir.touch(user);
  return { status: 204 };
}

export function getManager(ctx: SimContext, key: string, ref: boolean): SimResponse {
  const user = findUser(ctx, key);
  const manager = user.managerId ? ctx.dir.users.get(user.managerId) : undefined;
  if (!manager) throw resourceNotFound('manager');
  if (ref)
    return {
      status: 200,
      body: {
        '@odata.context': contextUrl(ctx, 'directoryObjects/$ref/$entity'),
        '@odata.id': `${ctx.baseUrl}/v1.0/directoryObjects/${manager.id}/Microsoft.DirectoryServices.User`,
      },
    };
  const { '@odata.context': _ignored, ...props } = userEntity(ctx, manager);
  return { status: 200, body: { '@odata.context': contextUrl(ctx, 'directoryObjects/$entity'), '@odata.type': '#microsoft.graph.user', ...props } };
}

export function assignLicense(ctx: SimContext, req: SimRequest, key: string): SimResponse {
  const user = findUserForWrite(ctx, key);
  const change = parseLicenseChange(req.body);
  const current = directLicenses(user);
  const held = heldSkus(user);
  for (const l of change.addLicenses) if (!ctx.dir.skus.has(l.skuId)) throw invalidLicense(l.skuId);
  for (const s of change.removeLicenses) {
    if (!ctx.dir.skus.has(s)) throw invalidLicense(s);
    if (!current.some((c) => c.skuId.toLowerCase() === s)) throw badRequest(`User does not have a corresponding license for ${s}.`);
  }
  if (change.addLicenses.length && !user.props.usageLocation) throw badRequest('License assignment cannot be done for user with invalid usage location.');
  for (const l of change.addLicenses) {
    const sku = ctx.dir.skus.get(l.skuId)!;
    if (!held.has(l.skuId) && sku.consumed >= sku.seats)
      throw badRequest(`Subscription with SKU ${sku.skuId} does not have any available licenses.`, [
        { code: 'CountViolation', message: `Subscription with SKU ${sku.skuId} does not have any available licenses.`, target: sku.skuId },
      ]);
  }
  const next = current.filter(
    (c) => !change.removeLicenses.includes(c.skuId.toLowerCase()) && !change.addLicenses.some((a) => a.skuId === c.skuId.toLowerCase()),
  );
  setDirectLicenses(ctx, user, [...next, ...change.addLicenses]);
  return { status: 200, body: userEntity(ctx, user) };
}

/** POST /users/{id}/reprocessLicenseAssignment: the user's group-based licences are worked out again (asynchronously). */
export function reprocessLicenseAssignment(ctx: SimContext, req: SimRequest, key: string): SimResponse {
  const user = findUserForWrite(ctx, key);
  if (req.body !== undefined && Object.keys(req.body as Json).length) throw odataBadRequest('The request body must be empty for reprocessLicenseAssignment.');
  queueLicensing(ctx, [user.id]);
  return { status: 200, body: userEntity(ctx, user) };
}

export function revokeSignInSessions(ctx: SimContext, req: SimRequest, key: string): SimResponse {
  const user: UserObject = findUserForWrite(ctx, key);
  checkSensitiveAction(req.claims, user.directoryRoles);
  if (req.body !== undefined && Object.keys(req.body as Json).length) throw odataBadRequest('The request body must be empty for revokeSignInSessions.');
  user.props.signInSessionsValidFromDateTime = isoSeconds();
  ctx.dir.touch(user);
  return { status: 200, body: { '@odata.context': contextUrl(ctx, 'Edm.Boolean'), value: true } };
}
