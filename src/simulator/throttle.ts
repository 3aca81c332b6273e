// Identity and access throttling as Microsoft publishes it (learn.microsoft.com/graph/throttling-limits,
// "Identity and access service limits"): token buckets per app+tenant for resource units (S 3,500 /
// M 5,000 / L 8,000 per 10 s by tenant size: under 50 users, up to 500, above) and for writes (3,000
// per 150 s), and per tenant for writes (18,000 per 5 min). Requests over a limit get 429 with
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
}

const RU_CAPACITY: Record<TenantSize, number> = { S: 3500, M: 5000, L: 8000 };

// Base resource-unit costs from the published table; any other identity path costs 1.
const RU_COSTS: [string, RegExp, number][] = [
  ['GET', /^\/users\/?$/, 2],
  ['GET', /^\/subscribedSkus\/?$/, 3],
  ['GET', /^\/groups\/[^/]+\/members\/?$/, 3],
  ['GET', /^\/groups\/[^/]+\/transitiveMembers\/?$/, 5],
  ['POST', /^\/directoryObjects\/getByIds\/?$/, 3],
  ['GET', /^\/users\/[^/]+\/memberOf\/?$/, 2],
  ['GET', /^\/users\/[^/]+\/licenseDetails\/?$/, 2],
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

export function createThrottle(options: ThrottleOptions): Throttle {
  let enabled = options.enabled;
  const { clock, appId, tenantId } = options;
  const make = (name: string, capacity: number, windowSeconds: number, scope: string, information: string): Bucket => ({
    name, capacity, windowMs: windowSeconds * 1000, tokens: capacity, updated: clock.now(), scope, information,
  });
  let ru: Bucket, appWrites: Bucket, tenantWrites: Bucket;
  const reset = () => {
    ru = make('resourceUnits', RU_CAPACITY[options.size()], 10, `Tenant_Application/ReadWrite/${appId}/${tenantId}`, 'ResourceUnitLimitExceeded');
    appWrites = make('writes', 3000, 150, `Tenant_Application/Write/${appId}/${tenantId}`, 'WriteLimitExceeded');
    tenantWrites = make('tenantWrites', 18000, 300, `Tenant/Write/${appId}/${tenantId}`, 'WriteLimitExceeded');
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
    if (!enabled) return headers;
    const now = clock.now();
    const needs: [Bucket, number][] = [[ru, cost]];
    if (isWriteMethod(req.method)) needs.push([appWrites, 1], [tenantWrites, 1]);
    for (const [b] of needs) refill(b, now);
    const short = needs.find(([b, n]) => b.tokens < n);
    if (short) throw throttled(short[0], short[1]);
    for (const [b, n] of needs) b.tokens -= n;
    const used = Math.max(...needs.map(([b]) => 1 - b.tokens / b.capacity));
    if (used > 0.8) headers['x-ms-throttle-limit-percentage'] = used.toFixed(1);
    return headers;
  }

  function throttled(b: Bucket, need: number): GraphError {
    const simWaitMs = ((need - b.tokens) * b.windowMs) / b.capacity;
    const realMs = Math.ceil(clock.toReal(simWaitMs));
    const category = b.name === 'resourceUnits' ? `aadgraph.app.tenant_${{ S: 'small', M: 'medium', L: 'large' }[options.size()]}` : `aadgraph.app.tenant_${b.name === 'writes' ? 'write' : 'tenant_write'}`;
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
    setEnabled: (value) => { enabled = value; },
    get enabled() { return enabled; },
    snapshot: () => [ru, appWrites, tenantWrites].map((b) => {
      refill(b, clock.now());
      return { name: b.name, capacity: b.capacity, windowSeconds: b.windowMs / 1000, available: Math.floor(b.tokens) };
    }),
  };
}
