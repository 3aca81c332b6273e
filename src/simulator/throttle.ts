// Identity and access throttling as Microsoft publishes it (learn.microsoft.com/graph/throttling-limits,
// "Identity and access service limits"): token buckets per app+tenant for resource units (S 3,500 /
// M 5,000 / L 8,000 per 10 s by tenant size: under 50 users, up to 500, above) and for writes (3,000
// per 150 s), and per tenant for writes (18,000 per 5 min); and the identity and access reports service
// (auditLogs) at 5 requests per 10 s per app per tenant. Requests over a limit get 429 with
// Retry-After and x-ms-throttle-scope / x-ms-throttle-information; others carry x-ms-resource-unit.
import { GraphError } from './errors';
import type { Clock } from './clock';
import type { SimRequest } from './types';

export type TenantSize = 'S' | 'M' | 'L';

interface Bucket {
  name: string;
  capacity: number;
  windowMs: number;
  tokens: number;
  updated: number;
  scope: string;
  information: string;
}

export interface ThrottleOptions {
  enabled: boolean;
  clock: Clock;
  tenantId: string;
  appId: string;
  /** Tenant size for the resource-unit budget; a function so it follows the user count. */
  size: () => TenantSize;
}

export interface Throttle {
  charge(req: SimRequest): Record<string, string>;
  setEnabled(enabled: boolean): void;
  readonly enabled: boolean;
  reset(): void;
  snapshot(): { name: string; capacity: number; windowSeconds: number; available: number }[];
  /** What was charged since the last reset, throttling on or off: requests, writes, resource units, 429s. */
  usage(): ThrottleUsage;
}

export interface ThrottleUsage {
  requests: number;
  writes: number;
  resourceUnits: number;
  throttled: number;
}

const RU_CAPACITY: Record<TenantSize, number> = { S: 3500, M: 5000, L: 8000 };

// Base resource-unit costs, the whole published table ("The following table lists base request
// costs", learn.microsoft.com/graph/throttling-limits, identity and access service limits); a cost
// listed for a me/ path applies to users/{id | userPrincipalName}/ too. Any other path costs 1.
const ME = '(?:me|users\\/[^/]+)';
const RU_COSTS: [string, RegExp, number][] = [
  ['GET', /^\/applications\/?$/, 2],
  ['GET', /^\/applications\/[^/]+\/extensionProperties\/?$/, 2],
  ['GET', /^\/contracts\/?$/, 3],
  ['POST', /^\/directoryObjects\/getByIds\/?$/, 3],
  ['GET', /^\/domains\/[^/]+\/domainNameReferences\/?$/, 4],
  ['POST', /^\/getObjectsById\/?$/, 3],
  ['GET', /^\/groups\/[^/]+\/members\/?$/, 3],
  ['GET', /^\/groups\/[^/]+\/transitiveMembers\/?$/, 5],
  ['POST', /^\/isMemberOf\/?$/, 4],
  ['POST', new RegExp(`^\\/${ME}\\/checkMemberGroups\\/?$`), 4],
  ['POST', new RegExp(`^\\/${ME}\\/checkMemberObjects\\/?$`), 4],
  ['POST', new RegExp(`^\\/${ME}\\/getMemberGroups\\/?$`), 2],
  ['POST', new RegExp(`^\\/${ME}\\/getMemberObjects\\/?$`), 2],
  ['GET', new RegExp(`^\\/${ME}\\/licenseDetails\\/?$`), 2],
  ['GET', new RegExp(`^\\/${ME}\\/memberOf\\/?$`), 2],
  ['GET', new RegExp(`^\\/${ME}\\/ownedObjects\\/?$`), 2],
  ['GET', new RegExp(`^\\/${ME}\\/transitiveMemberOf\\/?$`), 2],
  ['GET', /^\/oauth2PermissionGrants(?:\/[^/]+)?\/?$/, 2],
  ['GET', /^\/servicePrincipals\/[^/]+\/appRoleAssignments\/?$/, 2],
  ['GET', /^\/subscribedSkus\/?$/, 3],
  ['GET', /^\/users\/?$/, 2],
];

export function resourceUnitCost(req: Pick<SimRequest, 'method' | 'path' | 'query'>): number {
  let cost = RU_COSTS.find(([m, re]) => m === req.method && re.test(req.path))?.[2] ?? 1;
  if (req.query.has('$select')) cost -= 1;
  if (req.query.has('$expand')) cost += 1;
  const top = Number(req.query.get('$top'));
  if (req.query.has('$top') && top < 20) cost -= 1;
  return Math.max(1, cost);
}

export const isWriteMethod = (method: string) => method !== 'GET' && method !== 'HEAD';

// The identity and access reports service (learn.microsoft.com/graph/throttling-limits, "Identity and
// access reports service limits"): auditLogs, including the provisioning log, outside the resource-unit budget.
const isReportsPath = (path: string) => /^\/auditLogs(\/|$)/i.test(path);

export function createThrottle(options: ThrottleOptions): Throttle {
  let enabled = options.enabled;
  const { clock, appId, tenantId } = options;
  const make = (name: string, capacity: number, windowSeconds: number, scope: string, information: string): Bucket => ({
    name,
    capacity,
    windowMs: windowSeconds * 1000,
    tokens: capacity,
    updated: clock.now(),
    scope,
    information,
  });
  let ru: Bucket, appWrites: Bucket, tenantWrites: Bucket, reports: Bucket;
  let used: ThrottleUsage = { requests: 0, writes: 0, resourceUnits: 0, throttled: 0 };
  const reset = () => {
    used = { requests: 0, writes: 0, resourceUnits: 0, throttled: 0 };
    ru = make('resourceUnits', RU_CAPACITY[options.size()], 10, `Tenant_Application/ReadWrite/${appId}/${tenantId}`, 'ResourceUnitLimitExceeded');
    appWrites = make('writes', 3000, 150, `Tenant_Application/Write/${appId}/${tenantId}`, 'WriteLimitExceeded');
    tenantWrites = make('tenantWrites', 18000, 300, `Tenant/Write/${appId}/${tenantId}`, 'WriteLimitExceeded');
    // Identity and access reports (auditLogs, e.g. the provisioning log): 5 requests per 10 s per app per tenant.
    reports = make('reports', 5, 10, `Tenant_Application/Read/${appId}/${tenantId}`, 'ReportsLimitExceeded');
  };
  reset();

  const refill = (b: Bucket, now: number) => {
    if (b.name === 'resourceUnits') b.capacity = RU_CAPACITY[options.size()];
    b.tokens = Math.min(b.capacity, b.tokens + ((now - b.updated) * b.capacity) / b.windowMs);
    b.updated = now;
  };

  function charge(req: SimRequest): Record<string, string> {
    const cost = resourceUnitCost(req);
    const headers: Record<string, string> = { 'x-ms-resource-unit': String(cost) };
    const count = () => {
      used.requests++;
      used.resourceUnits += cost;
      if (isWriteMethod(req.method)) used.writes++;
    };
    if (!enabled) return (count(), headers);
    const now = clock.now();
    const needs: [Bucket, number][] = isReportsPath(req.path) ? [[reports, 1]] : [[ru, cost]];
    if (isWriteMethod(req.method)) needs.push([appWrites, 1], [tenantWrites, 1]);
    for (const [b] of needs) refill(b, now);
    const short = needs.find(([b, n]) => b.tokens < n);
    if (short) {
      used.throttled++;
      throw throttled(short[0], short[1]);
    }
    for (const [b, n] of needs) b.tokens -= n;
    count();
    const share = Math.max(...needs.map(([b]) => 1 - b.tokens / b.capacity));
    if (share > 0.8) headers['x-ms-throttle-limit-percentage'] = share.toFixed(1);
    return headers;
  }

  function throttled(b: Bucket, need: number): GraphError {
    const simWaitMs = ((need - b.tokens) * b.windowMs) / b.capacity;
    const realMs = Math.ceil(clock.toReal(simWaitMs));
    const category =
      b.name === 'reports'
        ? 'reports.app.tenant'
        : b.name === 'resourceUnits'
          ? `aadgraph.app.tenant_${{ S: 'small', M: 'medium', L: 'large' }[options.size()]}`
          : `aadgraph.app.tenant_${b.name === 'writes' ? 'write' : 'tenant_write'}`;
    const message = `Too many requests from Identifier:${appId}+${tenantId} under category:${category}. Please try again later.`;
    return new GraphError(429, 'TooManyRequests', message, undefined, {
      'retry-after': String(Math.max(1, Math.ceil(realMs / 1000))),
      'x-ms-retry-after-ms': String(Math.max(1, realMs)),
      'x-ms-throttle-scope': b.scope,
      'x-ms-throttle-information': b.information,
    });
  }

  return {
    charge,
    reset,
    setEnabled: (value) => {
      enabled = value;
    },
    get enabled() {
      return enabled;
    },
    usage: () => ({ ...used }),
    snapshot: () =>
      [ru, appWrites, tenantWrites, reports].map((b) => {
        refill(b, clock.now());
        return { name: b.name, capacity: b.capacity, windowSeconds: b.windowMs / 1000, available: Math.floor(b.tokens) };
      }),
  };
}
