// The Graph side of API-driven inbound provisioning: POST .../synchronization/jobs/{jobId}/bulkUpload
// (validation, limits, 202), GET /auditLogs/provisioning and GET .../synchronization/jobs[/{jobId}].
// Sources: learn.microsoft.com/graph/api/synchronization-synchronizationjob-post-bulkupload,
// entra/identity/app-provisioning/inbound-provisioning-api-issues (limits, "Invalid Data Format"),
// graph/api/provisioningobjectsummary-list, graph/api/resources/synchronization-synchronizationstatus.
import { contextUrl, pageOf, type SimContext } from './context';
import { GraphError, odataBadRequest, resourceNotFound } from './errors';
import { CORE_USER, jobStatus, type InboundApp, type LoggedSummary } from './inbound';
import type { Json, SimRequest, SimResponse } from './types';

const BULK_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
const MAX_OPERATIONS = 50;

/** The bulkUpload endpoint has limits of its own, not the identity and access budgets (throttle.ts). */
export function isInboundServicePath(path: string): boolean {
  return /^\/servicePrincipals\/[^/]+\/synchronization\/jobs\/[^/]+\/bulkUpload\/?$/i.test(path);
}

export const invalidDataFormat = () => new GraphError(400, 'BadRequest', 'Invalid Data Format');

function findApp(ctx: SimContext, spId: string, jobId: string) {
  const app = ctx.dir.inbound.find(decodeURIComponent(spId), decodeURIComponent(jobId));
  if (!app) throw resourceNotFound(decodeURIComponent(jobId));
  return app;
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The operations of a BulkRequest as the bulkUpload API accepts it, or 400 Invalid Data Format. */
function bulkOperations(body: unknown): { bulkId: string; data: Json }[] {
  if (!isObject(body)) throw invalidDataFormat();
  const schemas = body.schemas;
  if (!Array.isArray(schemas) || !schemas.includes(BULK_REQUEST)) throw invalidDataFormat();
  const ops = body.Operations;
  if (!Array.isArray(ops) || ops.length === 0 || ops.length > MAX_OPERATIONS) throw invalidDataFormat();
  if (body.failOnErrors !== undefined && body.failOnErrors !== null && typeof body.failOnErrors !== 'number') throw invalidDataFormat();
  return ops.map((op) => {
    if (!isObject(op) || op.method !== 'POST' || op.path !== '/Users') throw invalidDataFormat();
    if (typeof op.bulkId !== 'string' || op.bulkId === '' || !isObject(op.data)) throw invalidDataFormat();
    const data = op.data;
    const listed = data.schemas;
    if (!Array.isArray(listed) || !listed.includes(CORE_USER) || listed.some((s) => typeof s !== 'string')) throw invalidDataFormat();
    // A schema extension's attributes sit under its URN, which data.schemas must list.
    for (const k of Object.keys(data)) if (k.startsWith('urn:') && !listed.includes(k)) throw invalidDataFormat();
    return { bulkId: op.bulkId, data };
  });
}

export function bulkUpload(ctx: SimContext, req: SimRequest, spId: string, jobId: string): SimResponse {
  const app = findApp(ctx, spId, jobId);
  const now = ctx.clock();
  ctx.dir.inbound.admit(now, app.config.dailyQuota, ctx.toReal);
  const type = String(req.headers['content-type'] ?? '')
    .split(';')[0]
    .trim()
    .toLowerCase();
  if (type !== 'application/scim+json') throw invalidDataFormat();
  ctx.dir.inbound.stage(app, bulkOperations(req.body), now);
  const filter = encodeURIComponent(`jobid eq '${app.config.jobId}'`);
  return { status: 202, headers: { location: `${ctx.baseUrl}/v1.0/auditLogs/provisioning/?$filter=${filter}`, 'content-length': '0' } };
}

// ---- GET /auditLogs/provisioning

type Getter = (e: Json) => unknown;
const at =
  (...path: string[]): Getter =>
  (e) =>
    path.reduce<unknown>((v, p) => (isObject(v) ? v[p] : undefined), e);

const FILTERABLE: Record<string, Getter> = {
  id: at('id'),
  jobid: at('jobId'),
  cycleid: at('cycleId'),
  changeid: at('changeId'),
  provisioningaction: at('provisioningAction'),
  'sourceidentity/id': at('sourceIdentity', 'id'),
  'targetidentity/id': at('targetIdentity', 'id'),
  'provisioningstatusinfo/status': at('provisioningStatusInfo', 'status'),
  activitydatetime: at('activityDateTime'),
};

// activityDateTime as epoch ms, parsed once per entry (entries never change it): a page of the log
// filters and sorts every entry, and parsing in each comparison made reading a large log quadratic.
const times = new WeakMap<Json, number>();
function timeOf(e: Json): number {
  let t = times.get(e);
  if (t === undefined) times.set(e, (t = Date.parse(String(e.activityDateTime))));
  return t;
}

const CLAUSE = /^\s*([A-Za-z/]+)\s+(eq|gt|lt|ge|le)\s+('(?:[^']|'')*'|\d{4}-\d\d-\d\dT[\d:.]+Z?)\s*$/;

interface ProvisioningFilter {
  test: (e: Json) => boolean;
  /** The earliest activityDateTime an entry may have (a ge or gt clause), when the filter sets one. */
  from?: number;
}

function provisioningFilter(text: string): ProvisioningFilter {
  let from: number | undefined;
  const clauses = text.split(/\s+and\s+/i).map((c) => {
    const m = CLAUSE.exec(c);
    if (!m) throw odataBadRequest(`Invalid filter clause: '${c.trim()}'.`);
    const prop = m[1].toLowerCase();
    const get = FILTERABLE[prop];
    if (!get) throw odataBadRequest(`Invalid filter clause: property '${m[1]}' is not supported.`);
    const op = m[2];
    const literal = m[3].startsWith("'") ? m[3].slice(1, -1).replace(/''/g, "'") : m[3];
    if (prop === 'activitydatetime') {
      const t = Date.parse(literal);
      if (Number.isNaN(t)) throw odataBadRequest(`Invalid filter clause: '${c.trim()}'.`);
      if (op === 'ge' || op === 'gt' || op === 'eq') from = Math.max(from ?? -Infinity, t);
      const cmp: Record<string, (a: number) => boolean> = { eq: (a) => a === t, gt: (a) => a > t, lt: (a) => a < t, ge: (a) => a >= t, le: (a) => a <= t };
      return (e: Json) => cmp[op](timeOf(e));
    }
    if (op !== 'eq') throw odataBadRequest(`Invalid filter clause: '${c.trim()}': only eq applies to ${m[1]}.`);
    return (e: Json) => get(e) === literal;
  });
  return { test: (e) => clauses.every((c) => c(e)), ...(from !== undefined ? { from } : {}) };
}

/**
 * The log is appended in processing order, which is activityDateTime order while one app processes (or
 * apps do not interleave): then a filter with a lower bound on the time starts at a binary search
 * instead of testing every entry of the 30 days kept. Whether it is in order is checked incrementally,
 * for the entries appended since the last look (the front only ever drops expired entries).
 */
const orderMemo = new WeakMap<LoggedSummary[], { first: LoggedSummary | undefined; checked: number; sorted: boolean }>();
function inTimeOrder(logs: LoggedSummary[]): boolean {
  let memo = orderMemo.get(logs);
  if (!memo || memo.first !== logs[0] || memo.checked > logs.length) memo = { first: logs[0], checked: 0, sorted: true };
  for (let i = Math.max(1, memo.checked); memo.sorted && i < logs.length; i++) if (timeOf(logs[i].entry) < timeOf(logs[i - 1].entry)) memo.sorted = false;
  memo.checked = logs.length;
  orderMemo.set(logs, memo);
  return memo.sorted;
}

/** The first index whose entry happened at or after `t` (the log in time order). */
function firstAtOrAfter(logs: LoggedSummary[], t: number): number {
  let lo = 0;
  let hi = logs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (timeOf(logs[mid].entry) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function listProvisioning(ctx: SimContext, req: SimRequest): SimResponse {
  const f = req.query.get('$filter');
  const filter: ProvisioningFilter = f ? provisioningFilter(f) : { test: () => true };
  const order = (req.query.get('$orderby') ?? 'activityDateTime desc').trim();
  const m = /^activityDateTime(?:\s+(asc|desc))?$/i.exec(order);
  if (!m) throw odataBadRequest(`$orderby '${order}' is not supported: activityDateTime asc|desc only.`);
  const topText = req.query.get('$top');
  const top = topText === null ? 100 : Number(topText);
  if (!Number.isInteger(top) || top < 1 || top > 1000) throw odataBadRequest(`Invalid value '${topText}' for $top: an integer from 1 to 1000.`);
  const ascending = m[1]?.toLowerCase() === 'asc';
  const now = ctx.clock();
  const logs = ctx.dir.inbound.logs;
  const ordered = inTimeOrder(logs);
  const start = ordered && filter.from !== undefined ? firstAtOrAfter(logs, filter.from) : 0;
  const items: Json[] = [];
  for (let i = start; i < logs.length; i++) if (logs[i].visibleAt <= now && filter.test(logs[i].entry)) items.push(logs[i].entry);
  // Entries written late (log delay) still sort by when they happened.
  if (!ordered) items.sort((a, b) => timeOf(a) - timeOf(b));
  if (!ascending) items.reverse();
  const context = contextUrl(ctx, 'auditLogs/provisioning');
  return { status: 200, body: pageOf(ctx, req, { path: '/auditLogs/provisioning', context, items, top, map: (e) => structuredClone(e) }) };
}

// ---- GET /servicePrincipals/{id}/synchronization/jobs[/{jobId}]

function jobEntity(app: InboundApp): Json {
  const c = app.config;
  return {
    id: c.jobId,
    templateId: c.target === 'ad' ? 'API2AD' : 'API2AAD',
    schedule: { expiration: null, interval: 'PT40M', state: c.state === 'Paused' ? 'Paused' : 'Active' },
    status: jobStatus(app),
    synchronizationJobSettings: [],
  };
}

export function getJob(ctx: SimContext, spId: string, jobId: string): SimResponse {
  const app = findApp(ctx, spId, jobId);
  const sp = app.config.servicePrincipalId;
  return { status: 200, body: { '@odata.context': contextUrl(ctx, `servicePrincipals('${sp}')/synchronization/jobs/$entity`), ...jobEntity(app) } };
}

export function listJobs(ctx: SimContext, spId: string): SimResponse {
  const sp = decodeURIComponent(spId).toLowerCase();
  const apps = [...ctx.dir.inbound.apps.values()].filter((a) => a.config.servicePrincipalId.toLowerCase() === sp);
  if (!apps.length) throw resourceNotFound(decodeURIComponent(spId));
  return {
    status: 200,
    body: { '@odata.context': contextUrl(ctx, `servicePrincipals('${apps[0].config.servicePrincipalId}')/synchronization/jobs`), value: apps.map(jobEntity) },
  };
}
