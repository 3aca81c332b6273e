// The inbound writer's requests (graph.writer "inbound"): a user's desired Graph state as one
// operation of a SCIM BulkRequest for an API-driven inbound provisioning app
// (POST /servicePrincipals/{id}/synchronization/jobs/{jobId}/bulkUpload, Content-Type
// application/scim+json, at most 50 operations, method POST and path /Users: learn.microsoft.com/graph/api/resources/synchronization-bulkupload).
// The provisioning service decides create, update, enable or disable from the app's attribute
// mappings; the data carries the core and enterprise attributes its default mappings read, and the
// rest of what the bridge manages under its own extension schema (BRIDGE_USER_SCHEMA), which the
// admin adds to the app's attribute list (docs/inbound-writer.md). Pure: no I/O.
import { createHash } from 'node:crypto';
import { BRIDGE_USER_SCHEMA, ENTERPRISE_USER_SCHEMA } from '../rules/identity';
import type { GraphBody } from './paths';
import type { GraphRequestSpec } from './requests';

export const CORE_USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const BULK_REQUEST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
/** Operations one bulkUpload request may carry (synchronization-synchronizationjob-post-bulkupload). */
export const BULK_MAX_OPERATIONS = 50;

export interface InboundOperation {
  method: 'POST';
  bulkId: string;
  path: '/Users';
  data: Record<string, unknown>;
}

export interface InboundBulkRequest {
  schemas: [typeof BULK_REQUEST_SCHEMA];
  Operations: InboundOperation[];
  failOnErrors: null;
}

export interface InboundRecordInput {
  /** The source key the app matches on (its matching attribute pair reads externalId). */
  externalId: string;
  /** Unique per operation: the log entry of this operation is found by it. */
  bulkId: string;
  /** The mode's Graph properties of the user (translateUser's `properties`). */
  properties: GraphBody;
  /** The manager's externalId (the service resolves manager.value by externalId); null: none; undefined: not managed. */
  managerExternalId?: string | null;
}

/**
 * The externalId a resource is sent under: 16 characters derived from the bridge's resource id, so
 * that Microsoft's default matching pair (externalId <-> employeeId, inbound-provisioning-api-faqs)
 * works as configured out of the box (Graph's employeeId holds at most 16 characters).
 */
export function inboundKey(resourceId: string): string {
  return createHash('sha256').update(resourceId).digest('base64url').slice(0, 16);
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const set = (o: Record<string, unknown>, key: string, v: unknown) => {
  if (v !== undefined) o[key] = v;
};

/**
 * One user's operation. Attributes the mode does not manage, and managed ones now empty, are left
 * out: the provisioning service then leaves the target value as it is (Microsoft documents clearing a
 * value as a mapping option, clear-attribute-values).
 */
export function inboundOperation(input: InboundRecordInput): InboundOperation {
  const p = input.properties as Record<string, unknown>;
  const data: Record<string, unknown> = { schemas: [CORE_USER_SCHEMA, ENTERPRISE_USER_SCHEMA] };
  data.externalId = input.externalId;
  set(data, 'userName', str(p.userPrincipalName));
  set(data, 'displayName', str(p.displayName));
  const name: Record<string, unknown> = {};
  set(name, 'givenName', str(p.givenName));
  set(name, 'familyName', str(p.surname));
  if (Object.keys(name).length) data.name = name;
  if (typeof p.accountEnabled === 'boolean') data.active = p.accountEnabled;
  set(data, 'title', str(p.jobTitle));
  set(data, 'userType', str(p.employeeType));
  set(data, 'preferredLanguage', str(p.preferredLanguage));
  const emails = [
    ...(str(p.mail) ? [{ value: p.mail, type: 'work', primary: true }] : []),
    ...((Array.isArray(p.otherMails) ? p.otherMails : []) as string[]).map((value) => ({ value, type: 'other' })),
  ];
  if (emails.length) data.emails = emails;
  const phones = [
    ...((Array.isArray(p.businessPhones) ? p.businessPhones : []) as string[]).slice(0, 1).map((value) => ({ value, type: 'work' })),
    ...(str(p.mobilePhone) ? [{ value: p.mobilePhone, type: 'mobile' }] : []),
    ...(str(p.faxNumber) ? [{ value: p.faxNumber, type: 'fax' }] : []),
  ];
  if (phones.length) data.phoneNumbers = phones;
  const address: Record<string, unknown> = {};
  set(address, 'streetAddress', str(p.streetAddress));
  set(address, 'locality', str(p.city));
  set(address, 'region', str(p.state));
  set(address, 'postalCode', str(p.postalCode));
  set(address, 'country', str(p.country));
  if (Object.keys(address).length) data.addresses = [{ type: 'work', ...address }];

  const enterprise: Record<string, unknown> = {};
  set(enterprise, 'employeeNumber', str(p.employeeId));
  set(enterprise, 'department', str(p.department));
  set(enterprise, 'organization', str(p.companyName));
  const org = (p.employeeOrgData ?? {}) as Record<string, unknown>;
  set(enterprise, 'costCenter', str(org.costCenter));
  set(enterprise, 'division', str(org.division));
  if (input.managerExternalId) enterprise.manager = { value: input.managerExternalId };
  if (Object.keys(enterprise).length) data[ENTERPRISE_USER_SCHEMA] = enterprise;

  const bridge: Record<string, unknown> = {};
  set(bridge, 'mailNickname', str(p.mailNickname));
  set(bridge, 'usageLocation', str(p.usageLocation));
  set(bridge, 'officeLocation', str(p.officeLocation));
  set(bridge, 'employeeHireDate', str(p.employeeHireDate));
  set(bridge, 'immutableId', str(p.onPremisesImmutableId));
  const ext = (p.onPremisesExtensionAttributes ?? {}) as Record<string, unknown>;
  for (let i = 1; i <= 15; i++) set(bridge, `extensionAttribute${i}`, str(ext[`extensionAttribute${i}`]));
  if (Object.keys(bridge).length) {
    data.schemas = [CORE_USER_SCHEMA, ENTERPRISE_USER_SCHEMA, BRIDGE_USER_SCHEMA];
    data[BRIDGE_USER_SCHEMA] = bridge;
  }
  return { method: 'POST', bulkId: input.bulkId, path: '/Users', data };
}

/** A BulkRequest of at most BULK_MAX_OPERATIONS operations. */
export function inboundBulkRequest(operations: readonly InboundOperation[]): InboundBulkRequest {
  if (operations.length === 0 || operations.length > BULK_MAX_OPERATIONS)
    throw new RangeError(`a bulkUpload request carries 1 to ${BULK_MAX_OPERATIONS} operations, got ${operations.length}`);
  return { schemas: [BULK_REQUEST_SCHEMA], Operations: [...operations], failOnErrors: null };
}

const seg = (id: string) => encodeURIComponent(id);

export const inboundRequests = {
  /** 202 Accepted, no body: the records are staged for the provisioning job. */
  bulkUpload: (servicePrincipalId: string, jobId: string, body: InboundBulkRequest): GraphRequestSpec => ({
    method: 'POST',
    url: `/servicePrincipals/${seg(servicePrincipalId)}/synchronization/jobs/${seg(jobId)}/bulkUpload`,
    body,
    headers: { 'Content-Type': 'application/scim+json' },
  }),
  /** The job's status (code Active, Paused, Quarantine, ...) for preflight. */
  job: (servicePrincipalId: string, jobId: string): GraphRequestSpec => ({
    method: 'GET',
    url: `/servicePrincipals/${seg(servicePrincipalId)}/synchronization/jobs/${seg(jobId)}`,
  }),
  /** Provisioning log entries of the job since `sinceIso` (provisioningobjectsummary-list: $filter on jobId and activityDateTime). */
  provisioningLogs: (jobId: string, sinceIso: string, top = 500): GraphRequestSpec => ({
    method: 'GET',
    url: `/auditLogs/provisioning?$filter=${encodeURIComponent(`jobId eq '${jobId.replace(/'/g, "''")}' and activityDateTime ge ${sinceIso}`)}&$orderby=${encodeURIComponent('activityDateTime asc')}&$top=${top}`,
  }),
};
