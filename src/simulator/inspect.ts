// The inspection API, in-process (SimulatorState) and over HTTP under /_sim for the standalone mode:
// GET /_sim/state, GET /_sim/requests, GET|POST|DELETE /_sim/faults, GET|POST /_sim/throttling, POST /_sim/reset,
// and the inbound provisioning apps: GET /_sim/inbound, POST /_sim/inbound/apps, PATCH /_sim/inbound/apps/{spId}/{jobId},
// POST /_sim/inbound/process, POST /_sim/inbound/fail.
import type { Directory, GroupObject, UserObject } from './directory';
import type { FaultConfig, FaultInjector } from './faults';
import { advanceInbound, type InboundAppConfig, type InboundFailure } from './inbound';
import type { RequestLog } from './request-log';
import type { Throttle } from './throttle';
import type { Json, SimResponse } from './types';

export interface StateSnapshot {
  tenantId: string;
  organization: Json;
  users: Json[];
  groups: Json[];
  devices: Json[];
  subscribedSkus: { skuId: string; skuPartNumber: string; seats: number; consumed: number }[];
  deletedItems: Json[];
}

const userView = (u: UserObject): Json => ({ ...u.props, manager: u.managerId ?? null, hasPassword: Boolean(u.password) });
const groupView = (g: GroupObject): Json => ({ ...g.props, members: [...g.members] });

export function snapshot(dir: Directory): StateSnapshot {
  return structuredClone({
    tenantId: dir.tenantId,
    organization: dir.organization,
    users: [...dir.users.values()].map(userView),
    groups: [...dir.groups.values()].map(groupView),
    devices: [...dir.devices.values()],
    subscribedSkus: [...dir.skus.values()].map((s) => ({ skuId: s.skuId, skuPartNumber: s.skuPartNumber, seats: s.seats, consumed: s.consumed })),
    deletedItems: [...dir.deleted.values()].map((o) =>
      o.kind === 'user' ? { '@odata.type': '#microsoft.graph.user', ...userView(o) } : { '@odata.type': '#microsoft.graph.group', ...groupView(o) },
    ),
  });
}

export interface InspectParts {
  dir: () => Directory;
  log: RequestLog;
  faults: FaultInjector;
  throttle: Throttle;
  reset: () => void;
  /** The inbound provisioning clock (SimContext.clock). */
  clock: () => number;
}

const badRequest = (message: string): SimResponse => ({ status: 400, body: { error: { code: 'BadRequest', message } } });

/** The inbound provisioning control API; undefined for other paths. */
function inboundControl(parts: InspectParts, method: string, path: string, body: unknown): SimResponse | undefined {
  const dir = parts.dir();
  const now = parts.clock();
  const input = (body ?? {}) as Json;
  advanceInbound(dir, now);
  try {
    if (method === 'GET' && path === '/_sim/inbound') return { status: 200, body: { apps: dir.inbound.describe(now) } };
    if (method === 'POST' && path === '/_sim/inbound/apps') return { status: 201, body: dir.inbound.configure(input as Partial<InboundAppConfig>, now) };
    const m = /^\/_sim\/inbound\/apps\/([^/]+)\/([^/]+)$/.exec(path);
    if (method === 'PATCH' && m) {
      const updated = dir.inbound.update(decodeURIComponent(m[1]), decodeURIComponent(m[2]), input as Partial<InboundAppConfig>, now);
      return updated
        ? { status: 200, body: updated }
        : { status: 404, body: { error: { code: 'NotFound', message: 'No inbound provisioning app with these ids.' } } };
    }
    if (method === 'POST' && path === '/_sim/inbound/process') {
      const sp = typeof input.servicePrincipalId === 'string' ? input.servicePrincipalId.toLowerCase() : undefined;
      const job = typeof input.jobId === 'string' ? input.jobId : undefined;
      const only = (c: InboundAppConfig) => (!sp || c.servicePrincipalId.toLowerCase() === sp) && (!job || c.jobId === job);
      return { status: 200, body: { processed: advanceInbound(dir, now, { force: true, only }) } };
    }
    if (method === 'POST' && path === '/_sim/inbound/fail') {
      if (typeof input.externalId !== 'string' || !input.externalId) return badRequest('externalId is required');
      return { status: 200, body: dir.inbound.failNext(input.externalId, input as Partial<InboundFailure>) };
    }
  } catch (err) {
    return badRequest((err as Error).message);
  }
  return undefined;
}

export function createInspector(parts: InspectParts) {
  return (method: string, path: string, body: unknown, query: URLSearchParams): SimResponse | undefined => {
    const key = `${method} ${path.replace(/\/$/, '')}`;
    if (path.startsWith('/_sim/inbound')) return inboundControl(parts, method, path.replace(/\/$/, ''), body);
    switch (key) {
      case 'GET /_sim/state':
        return { status: 200, body: snapshot(parts.dir()) };
      case 'GET /_sim/requests':
        return { status: 200, body: { value: parts.log.list({ method: query.get('method') ?? undefined, pathPrefix: query.get('path') ?? undefined }) } };
      case 'DELETE /_sim/requests':
        parts.log.clear();
        return { status: 204 };
      case 'GET /_sim/faults':
        return { status: 200, body: parts.faults.get() };
      case 'POST /_sim/faults':
        parts.faults.set((body ?? {}) as FaultConfig);
        return { status: 200, body: parts.faults.get() };
      case 'DELETE /_sim/faults':
        parts.faults.clear();
        return { status: 204 };
      case 'GET /_sim/throttling':
        return { status: 200, body: { enabled: parts.throttle.enabled, buckets: parts.throttle.snapshot(), usage: parts.throttle.usage() } };
      case 'POST /_sim/throttling':
        if (typeof (body as Json)?.enabled === 'boolean') parts.throttle.setEnabled((body as Json).enabled as boolean);
        if ((body as Json)?.reset) parts.throttle.reset();
        return { status: 200, body: { enabled: parts.throttle.enabled, buckets: parts.throttle.snapshot(), usage: parts.throttle.usage() } };
      case 'POST /_sim/reset':
        parts.reset();
        return { status: 204 };
      default:
        return undefined;
    }
  };
}
