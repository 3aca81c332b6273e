// /users: list (filter, select, top, count, paging), create, get/update/delete by id or UPN.
import { randomUUID } from 'node:crypto';
import { onPremMastered, resourceNotFound } from './errors';
import { notReplicated } from './faults';
import { USER_DEFAULT_PROPERTIES, isoSeconds, listEntities, project, selectContext, type SimContext } from './context';
import type { UserObject } from './directory';
import { parseSelect } from './odata';
import { userSchema, validateWrite } from './schema';
import type { Json, SimRequest, SimResponse } from './types';
import { authorizeUserPatch, checkPasswordResetAllowed, checkSensitiveAction, SENSITIVE_PROPERTIES } from './permissions';
import { checkUserCreate, checkUserUpdate, isSyncedFromOnPrem, newUserProps, refuseIfOnPremMastered, setUserMail } from './user-rules';

export const USER_FILTERABLE = new Set([
  'id',
  'userPrincipalName',
  'mail',
  'onPremisesImmutableId',
  'employeeId',
  'displayName',
  'givenName',
  'surname',
  'accountEnabled',
  'userType',
  'mailNickname',
  'onPremisesSyncEnabled',
  'employeeType',
  'department',
  'jobTitle',
  'usageLocation',
  'companyName',
  'city',
  'country',
  'state',
  'officeLocation',
]);

export function findUser(ctx: SimContext, key: string): UserObject {
  const user = ctx.dir.userByKey(decodeURIComponent(key));
  if (!user) throw resourceNotFound(decodeURIComponent(key));
  return user;
}

/** A user a write names: one created within the replication-lag fault is not found yet. */
export function findUserForWrite(ctx: SimContext, key: string): UserObject {
  const user = findUser(ctx, key);
  if (notReplicated(user, ctx.replicationLagMs(), ctx.now())) throw resourceNotFound(decodeURIComponent(key));
  return user;
}

export function userEntity(ctx: SimContext, user: UserObject, select?: string[]): Json {
  return { '@odata.context': selectContext(ctx, 'users', select, true), ...project(user.props, select ?? USER_DEFAULT_PROPERTIES) };
}

export function listUsers(ctx: SimContext, req: SimRequest): SimResponse {
  const set = {
    name: 'users' as const,
    schema: userSchema,
    filterable: USER_FILTERABLE,
    objects: ctx.dir.users.values(),
    defaults: USER_DEFAULT_PROPERTIES,
    indexed: {
      // By object id as /users/{id} resolves it (the licence read-back asks for 15 ids at a time).
      id: (id: string) => ctx.dir.users.get(id) ?? ctx.dir.users.get(id.toLowerCase()),
      userPrincipalName: (upn: string) => ctx.dir.userByUpn(upn),
      onPremisesImmutableId: (value: string) => ctx.dir.usersByImmutableId(value),
    },
  };
  return { status: 200, body: listEntities(ctx, req, set) };
}

export function createUser(ctx: SimContext, req: SimRequest): SimResponse {
  const input = validateWrite(userSchema, req.body, { create: true });
  checkUserCreate(ctx.dir, input);
  const { passwordProfile, ...props } = input;
  const now = isoSeconds();
  const user: UserObject = {
    kind: 'user',
    id: randomUUID(),
    password: String((passwordProfile as Json).password),
    seq: 0,
    visibleAt: ctx.now() + ctx.replicationLagMs(),
    props: newUserProps(props, now),
  };
  user.props.id = user.id;
  ctx.dir.addUser(user);
  return {
    status: 201,
    headers: { location: `${ctx.baseUrl}/v2/${ctx.dir.tenantId}/directoryObjects/${user.id}/Microsoft.DirectoryServices.User` },
    body: userEntity(ctx, user),
  };
}

export function getUser(ctx: SimContext, req: SimRequest, key: string): SimResponse {
  const select = parseSelect(req, userSchema);
  return { status: 200, body: userEntity(ctx, findUser(ctx, key), select) };
}

export function updateUser(ctx: SimContext, req: SimRequest, key: string): SimResponse {
  const user = findUserForWrite(ctx, key);
  const input = validateWrite(userSchema, req.body, { create: false });
  const keys = Object.keys(input);
  authorizeUserPatch(req.claims, keys);
  if (input.passwordProfile !== undefined) checkPasswordResetAllowed(req.claims);
  if (keys.some((k) => SENSITIVE_PROPERTIES.includes(k))) checkSensitiveAction(req.claims, user.directoryRoles);
  refuseIfOnPremMastered(user, keys);
  checkUserUpdate(ctx.dir, user, input);
  const { passwordProfile, userPrincipalName, ...props } = input;
  if (typeof userPrincipalName === 'string') ctx.dir.renameUser(user, userPrincipalName);
  if (passwordProfile && typeof (passwordProfile as Json).password === 'string') {
    user.password = String((passwordProfile as Json).password);
    user.props.lastPasswordChangeDateTime = isoSeconds();
  }
  if (typeof props.mail === 'string') setUserMail(ctx.dir, user, props.mail);
  Object.assign(user.props, props);
  ctx.dir.touch(user);
  return { status: 204 };
}

/** DELETE is a soft delete: the user moves to directory/deletedItems for 30 days, its seats freed. */
export function deleteUser(ctx: SimContext, req: SimRequest, key: string): SimResponse {
  const user = findUser(ctx, key);
  checkSensitiveAction(req.claims, user.directoryRoles);
  if (isSyncedFromOnPrem(user)) throw onPremMastered();
  ctx.dir.removeUser(user, 'changed');
  ctx.dir.adjustSeats(user.props.assignedLicenses, -1);
  user.props.deletedDateTime = isoSeconds();
  user.memberOf = [];
  for (const g of ctx.dir.groups.values()) if (ctx.dir.removeMember(g, user.id)) user.memberOf.push(g.id);
  ctx.dir.deleted.set(user.id, user);
  return { status: 204 };
}
