// One Graph request through the simulator: fault injection, throttling, the route, and Graph's
// error body for anything refused. Top-level requests and $batch items both pass through here.
import { GraphError, errorBody } from './errors';
import type { SimContext } from './context';
import type { ContractRecorder } from './contract';
import type { FaultInjector } from './faults';
import type { RequestLog } from './request-log';
import { advanceInbound } from './inbound';
import { isInboundServicePath } from './inbound-api';
import { processDueLicensing } from './licensing';
import { dispatch } from './routes';
import type { Throttle } from './throttle';
import type { SimRequest, SimResponse } from './types';

export interface SimCore {
  ctx: SimContext;
  throttle: Throttle;
  faults: FaultInjector;
  log: RequestLog;
  contract?: ContractRecorder;
  /** Runs a $batch envelope; set by batch.ts to keep the dependency one-way. */
  batch?: (core: SimCore, req: SimRequest) => SimResponse;
}

export function toErrorResponse(err: unknown, req: Pick<SimRequest, 'requestId' | 'clientRequestId'>): SimResponse {
  const e =
    err instanceof GraphError ? err : new GraphError(500, 'InternalServerError', err instanceof Error ? err.message : 'An internal server error occurred.');
  return { status: e.status, headers: e.headers, body: errorBody(e, req.requestId, req.clientRequestId) };
}

export function handleGraph(core: SimCore, req: SimRequest): SimResponse {
  core.contract?.check(req);
  try {
    core.faults.check(req);
    const isBatch = req.path === '/$batch' && !req.inBatch;
    // The inbound provisioning service works on its own: what is due is processed before any request is answered.
    advanceInbound(core.ctx.dir, core.ctx.clock());
    const charge = isBatch || isInboundServicePath(req.path) ? undefined : core.throttle.charge(req);
    if (!isBatch) processDueLicensing(core.ctx);
    const res = isBatch && core.batch ? core.batch(core, req) : dispatch(core.ctx, req);
    if (charge) res.headers = { ...charge, ...res.headers };
    return res;
  } catch (err) {
    return toErrorResponse(err, req);
  }
}
