// Tenant-level resources: organization (GET, PATCH of the properties Graph lets an app change,
// onPremisesSyncEnabled included), devices ($filter on trustType, e.g. 'ServerAd' for hybrid
// joined), and subscribedSkus with seats consumed.
import { readOnlyProperty, resourceNotFound } from './errors';
import { contextUrl, project, type SimContext } from './context';
import { parseFilter, parseSelect, parseTop, isAdvanced } from './odata';
import { organizationSchema, validateWrite, type EntitySchema } from './schema';
import type { Json, SimRequest, SimResponse } from './types';

// Organization properties the update API accepts (learn.microsoft.com/graph/api/organization-update).
const ORG_WRITABLE = new Set([
  'marketingNotificationEmails',
  'privacyProfile',
  'securityComplianceNotificationMails',
  'securityComplianceNotificationPhones',
  'technicalNotificationMails',
  'onPremisesSyncEnabled',
]);

export function listOrganization(ctx: SimContext): SimResponse {
  return { status: 200, body: { '@odata.context': contextUrl(ctx, 'organization'), value: [ctx.dir.organization] } };
}

function findOrganization(ctx: SimContext, id: string): Json {
  if (decodeURIComponent(id).toLowerCase() !== ctx.dir.tenantId.toLowerCase()) throw resourceNotFound(decodeURIComponent(id));
  return ctx.dir.organization;
}

export function getOrganization(ctx: SimContext, id: string): SimResponse {
  return { status: 200, body: { '@odata.context': contextUrl(ctx, 'organization/$entity'), ...findOrganization(ctx, id) } };
}

export function updateOrganization(ctx: SimContext, req: SimRequest, id: string): SimResponse {
  const org = findOrganization(ctx, id);
  const input = validateWrite(organizationSchema, req.body, { create: false });
  for (const key of Object.keys(input)) if (!ORG_WRITABLE.has(key)) throw readOnlyProperty(key);
  Object.assign(org, input);
  return { status: 204 };
}

const prop = (type: string) => ({ type, nullable: true });
const deviceSchema: EntitySchema = {
  type: 'microsoft.graph.device',
  resource: 'Device',
  properties: new Map(
    Object.entries({
      id: prop('string'),
      deviceId: prop('string'),
      displayName: prop('string'),
      trustType: prop('string'),
      accountEnabled: prop('boolean'),
      operatingSystem: prop('string'),
      operatingSystemVersion: prop('string'),
      isCompliant: prop('boolean'),
      isManaged: prop('boolean'),
      profileType: prop('string'),
      deletedDateTime: prop('string'),
      onPremisesSyncEnabled: prop('boolean'),
      onPremisesLastSyncDateTime: prop('string'),
      approximateLastSignInDateTime: prop('string'),
    }),
  ),
  navigation: new Set(),
  readOnly: new Set(),
  readOnlyWhenSynced: new Set(),
  requiredOnCreate: [],
};
const DEVICE_FILTERABLE = new Set(['id', 'deviceId', 'displayName', 'trustType', 'accountEnabled', 'operatingSystem', 'onPremisesSyncEnabled', 'profileType']);

export function listDevices(ctx: SimContext, req: SimRequest): SimResponse {
  const select = parseSelect(req, deviceSchema);
  const top = parseTop(req) ?? ctx.pageSize;
  const f = req.query.get('$filter');
  const predicate = f ? parseFilter(f, { schema: deviceSchema, filterable: DEVICE_FILTERABLE, advanced: isAdvanced(req) }) : undefined;
  const value = [...ctx.dir.devices.values()].filter((d) => !predicate || predicate(d)).slice(0, top);
  return { status: 200, body: { '@odata.context': contextUrl(ctx, 'devices'), value: value.map((d) => (select ? project(d, select) : d)) } };
}

export function getDevice(ctx: SimContext, id: string): SimResponse {
  const d = ctx.dir.devices.get(decodeURIComponent(id));
  if (!d) throw resourceNotFound(decodeURIComponent(id));
  return { status: 200, body: { '@odata.context': contextUrl(ctx, 'devices/$entity'), ...d } };
}

export function listSubscribedSkus(ctx: SimContext): SimResponse {
  const value = [...ctx.dir.skus.values()].map((s) => ({
    accountName: String(ctx.dir.organization.displayName),
    accountId: ctx.dir.tenantId,
    appliesTo: 'User',
    capabilityStatus: 'Enabled',
    consumedUnits: s.consumed,
    id: `${ctx.dir.tenantId}_${s.skuId}`,
    skuId: s.skuId,
    skuPartNumber: s.skuPartNumber,
    subscriptionIds: [],
    prepaidUnits: { enabled: s.seats, suspended: 0, warning: 0, lockedOut: 0 },
    servicePlans: (s.servicePlans ?? []).map((p) => ({ ...p, provisioningStatus: 'Success', appliesTo: 'User' })),
  }));
  return { status: 200, body: { '@odata.context': contextUrl(ctx, 'subscribedSkus'), value } };
}
