// What the inbound writer (inbound-writer.ts: staging and sending records) and its log follower
// (inbound-follow.ts: settling them from the provisioning logs) share: whether the writer is in use,
// its config, and the in-memory budgets of one store (bulkUpload calls, log reads).
import type { EngineContext } from './context';
import { createWindowLimit, type WindowLimit } from './throttle';

/**
 * The identity and access reports service, which serves /auditLogs/provisioning: 5 requests per 10 s
 * per app and tenant (learn.microsoft.com/graph/throttling-limits). A read of many pages is paced to it.
 */
export const REPORTS_LIMIT = { requests: 5, perSeconds: 10 };

export interface InboundState {
  /** bulkUpload calls, within graph.inbound.rate in any window of its length. */
  rate: WindowLimit;
  /** Provisioning-log reads, within the reports service's limit. */
  reads: WindowLimit;
  /** When the partial request last logged as waiting goes: logged once, not at every run. */
  loggedWait?: number;
  /**
   * A poll of the provisioning logs under way: the next page (the service's nextLink), read by a later run
   * once the reports service's budget has a read free. In memory: after a restart the next poll starts
   * from RESUME_KEY instead.
   */
  poll?: LogPoll;
}

/** A read of the provisioning logs: the next page (null when read to the end), where it began, the newest entry read, pages read. */
export interface LogPoll {
  url: string | null;
  since: number;
  newest: number;
  pages: number;
}

const states = new WeakMap<EngineContext['store'], InboundState>();

/** The inbound writer is in use for this mode (license-only writes no profile). */
export function usesInbound(ctx: EngineContext): boolean {
  return ctx.config.graph.writer === 'inbound' && Boolean(ctx.config.graph.inbound) && ctx.mode !== 'license-only';
}

export function inboundConfig(ctx: EngineContext) {
  return ctx.config.graph.inbound!;
}

export function stateOf(ctx: EngineContext): InboundState {
  let s = states.get(ctx.store);
  if (!s) {
    s = { rate: createWindowLimit(inboundConfig(ctx).rate, ctx.clock), reads: createWindowLimit(REPORTS_LIMIT, ctx.clock) };
    states.set(ctx.store, s);
  }
  return s;
}

export const pollMs = (ctx: EngineContext) => inboundConfig(ctx).pollSeconds * 1000;
export const iso = (ms: number) => new Date(ms).toISOString();
