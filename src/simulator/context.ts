// What every route handler receives besides the request: the tenant and how to write absolute URLs.
import type { Directory } from './directory';
import { decodeSkipToken, encodeSkipToken, isAdvanced, parseFilter, parseSelect, parseTop, wantsCount } from './odata';
import type { EntitySchema } from './schema';
import type { Json, SimRequest } from './types';

export interface SimContext {
  dir: Directory;
  /** https://127.0.0.1:PORT: the base for @odata.context and @odata.nextLink. */
  baseUrl: string;
  /** Default page size for collections (Graph's default for users and groups is 100). */
  pageSize: number;
  /** How long a new object stays out of collection queries (fault injection: replication lag). */
  replicationLagMs: () => number;
  /** Wall-clock milliseconds for replication lag (Date.now unless a test injects its own). */
  now: () => number;
  /**
   * The simulator clock of inbound provisioning (staging, processing, its rate limits): the injected
   * `now` when a test gives one, else the budget clock (timeScale).
   */
  clock: () => number;
  /** Real milliseconds for a duration on `clock` (Retry-After): scaled by timeScale unless `now` is injected. */
  toReal: (ms: number) => number;
  /** Simulated delay (on `clock`) between a change to a licensed group (or a reprocess) and its members' licence states. */
  licenseProcessingMs: number;
}

export const USER_DEFAULT_PROPERTIES = [
  'businessPhones',
  'displayName',
  'givenName',
  'jobTitle',
  'mail',
  'mobilePhone',
  'officeLocation',
  'preferredLanguage',
  'surname',
  'userPrincipalName',
  'id',
];

export const GROUP_DEFAULT_PROPERTIES = [
  'id',
  'deletedDateTime',
  'classification',
  'createdDateTime',
  'creationOptions',
  'description',
  'displayName',
  'expirationDateTime',
  'groupTypes',
  'isAssignableToRole',
  'mail',
  'mailEnabled',
  'mailNickname',
  'membershipRule',
  'membershipRuleProcessingState',
  'onPremisesDomainName',
  'onPremisesLastSyncDateTime',
  'onPremisesNetBiosName',
  'onPremisesSamAccountName',
  'onPremisesSecurityIdentifier',
  'onPremisesSyncEnabled',
  'preferredDataLocation',
  'preferredLanguage',
  'proxyAddresses',
  'renewedDateTime',
  'resourceBehaviorOptions',
  'resourceProvisioningOptions',
  'securityEnabled',
  'securityIdentifier',
  'theme',
  'uniqueName',
  'visibility',
  'onPremisesProvisioningErrors',
  'serviceProvisioningErrors',
];

const COLLECTIONS = new Set([
  'businessPhones',
  'otherMails',
  'proxyAddresses',
  'imAddresses',
  'assignedLicenses',
  'assignedPlans',
  'provisionedPlans',
  'groupTypes',
  'identities',
  'resourceBehaviorOptions',
  'resourceProvisioningOptions',
  'creationOptions',
  'onPremisesProvisioningErrors',
  'serviceProvisioningErrors',
  'interests',
  'pastProjects',
  'responsibilities',
  'schools',
  'skills',
  'infoCatalogs',
  'licenseAssignmentStates',
]);

// Never returned by Graph on read (passwordProfile comes back null even when selected).
const WRITE_ONLY = new Set(['passwordProfile']);

/** The properties Graph returns for an object: the default set, or exactly what $select names. */
export function project(props: Json, names: string[]): Json {
  const out: Json = {};
  for (const n of names) {
    if (WRITE_ONLY.has(n)) out[n] = null;
    else out[n] = props[n] ?? (COLLECTIONS.has(n) ? [] : null);
  }
  return out;
}

export function contextUrl(ctx: SimContext, fragment: string): string {
  return `${ctx.baseUrl}/v1.0/$metadata#${fragment}`;
}

/** "@odata.context" for a collection or entity, with the $select list as Graph writes it. */
export function selectContext(ctx: SimContext, set: string, select: string[] | undefined, entity = false): string {
  const sel = select ? `(${select.join(',')})` : '';
  return contextUrl(ctx, `${set}${sel}${entity ? '/$entity' : ''}`);
}

export function isoSeconds(d = new Date()): string {
  return d.toISOString().slice(0, 19) + 'Z';
}

/** One page of a collection: @odata.context, @odata.count if asked, @odata.nextLink while more follow, value. */
export function pageOf<T>(
  ctx: SimContext,
  req: SimRequest,
  page: { path: string; context: string; items: T[]; top: number; count?: boolean; map: (item: T) => Json },
): Json {
  const offset = decodeSkipToken(req);
  const body: Json = { '@odata.context': page.context };
  if (page.count) body['@odata.count'] = page.items.length;
  if (offset + page.top < page.items.length) {
    const q = new URLSearchParams(req.query);
    q.set('$skiptoken', encodeSkipToken(offset + page.top));
    body['@odata.nextLink'] = `${ctx.baseUrl}/v1.0${page.path}?${q.toString().replace(/%24/g, '$')}`;
  }
  body.value = page.items.slice(offset, offset + page.top).map(page.map);
  return body;
}

/** GET /users or /groups: $select, $top, $count, $filter and paging over directory objects. */
export function listEntities<T extends { props: Json; visibleAt?: number }>(
  ctx: SimContext,
  req: SimRequest,
  set: {
    name: 'users' | 'groups';
    schema: EntitySchema;
    filterable: Set<string>;
    objects: Iterable<T>;
    defaults: string[];
    /** Indexes of the set: the objects whose `prop` is `value` (without regard to case), for a filter that names the values it matches. */
    indexed?: Record<string, (value: string) => T | T[] | undefined>;
  },
): Json {
  const select = parseSelect(req, set.schema);
  const top = parseTop(req) ?? ctx.pageSize;
  const count = wantsCount(req);
  const f = req.query.get('$filter');
  const predicate = f ? parseFilter(f, { schema: set.schema, filterable: set.filterable, advanced: isAdvanced(req) }) : undefined;
  const now = ctx.now();
  const find = predicate?.lookup && set.indexed?.[predicate.lookup.prop];
  // A lookup by an indexed property reads only its candidates, not the whole collection.
  const candidates = find ? [...new Set(predicate!.lookup!.values.flatMap((v) => (typeof v === 'string' ? (find(v) ?? []) : [])))] : set.objects;
  const items = [...candidates].filter((o) => (o.visibleAt ?? 0) <= now && (!predicate || predicate(o.props)));
  const context = selectContext(ctx, set.name, select);
  return pageOf(ctx, req, { path: `/${set.name}`, context, items, top, count, map: (o) => project(o.props, select ?? set.defaults) });
}
