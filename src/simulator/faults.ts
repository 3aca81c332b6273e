// Fault injection for tests of the bridge's retry paths: an error rate per status, outage windows,
// added latency, and a queue of forced failures for the next matching requests. Failures use the
// error codes Graph gives for these statuses.
import { GraphError } from './errors';
import type { SimRequest } from './types';

export interface OutageWindow {
  /** Epoch ms or ISO 8601. */
  start: number | string;
  end: number | string;
  status?: number;
}

export interface ForcedFailure {
  status: number;
  /** How many matching requests fail; default 1. */
  count?: number;
  method?: string;
  /** Only requests whose path (below /v1.0) starts with this. */
  pathPrefix?: string;
  code?: string;
  message?: string;
}

export interface FaultConfig {
  /** Probability per status, e.g. { "503": 0.1, "500": 0.02 }. */
  errorRates?: Record<string, number>;
  outages?: OutageWindow[];
  /** Added latency per top-level request: a fixed ms value or a range. */
  latencyMs?: number | { min: number; max: number };
  failNext?: ForcedFailure[];
  /**
   * Replication lag: users and groups created within the last N ms are missing from collection
   * queries (GET /users?$filter=..., /groups), as a directory replica that has not caught up yet;
   * GET by id finds them. Entra's reads can lag writes like this. While the fault is set, writes
   * naming such an object fail as Graph documents for recently created objects: 404
   * Request_ResourceNotFound for PATCH, assignLicense, manager/$ref and revokeSignInSessions, and
   * 400 Request_BadRequest (REFERENCE_MISSING) for member adds (members@odata.bind, members/$ref).
   */
  replicationLagMs?: number;
}

/** Graph's answer to a member add naming a group or member a replica has not seen yet (group-post-members). */
export const REFERENCE_MISSING = 'The source resource object or one of the objects being referenced do not exist.';

export const referenceMissing = () => new GraphError(400, 'Request_BadRequest', REFERENCE_MISSING);

/** Created within the replication lag, with the fault still set: not on the replica a write reaches. */
export function notReplicated(obj: { visibleAt?: number }, lagMs: number, now: number): boolean {
  return lagMs > 0 && (obj.visibleAt ?? 0) > now;
}

const DEFAULTS: Record<number, [string, string]> = {
  429: ['TooManyRequests', 'Too many requests.'],
  500: ['generalException', 'General exception while processing.'],
  502: ['BadGateway', 'Bad gateway.'],
  503: ['serviceNotAvailable', 'The service is temporarily unavailable. Please retry later.'],
  504: ['timeout', 'The operation timed out.'],
};

export function faultError(status: number, code?: string, message?: string): GraphError {
  const [c, m] = DEFAULTS[status] ?? ['UnknownError', `Injected failure with status ${status}.`];
  const headers = status === 429 || status === 503 ? { 'retry-after': '1' } : undefined;
  return new GraphError(status, code ?? c, message ?? m, undefined, headers);
}

const ms = (v: number | string) => (typeof v === 'number' ? v : Date.parse(v));

export class FaultInjector {
  private config: FaultConfig = {};
  private forced: ForcedFailure[] = [];
  injected = 0;

  constructor(
    private readonly random: () => number = Math.random,
    /** Wall-clock milliseconds that outage windows are read against. */
    private readonly now: () => number = Date.now,
  ) {}

  /** Replaces the whole configuration (forced failures are queued on top of earlier ones). */
  set(config: FaultConfig): void {
    const { failNext, ...rest } = config;
    this.config = rest;
    for (const f of failNext ?? []) this.forced.push({ ...f, count: f.count ?? 1 });
  }

  get(): FaultConfig & { pending: ForcedFailure[] } {
    return { ...this.config, pending: this.forced.map((f) => ({ ...f })) };
  }

  clear(): void {
    this.config = {};
    this.forced = [];
  }

  get replicationLagMs(): number {
    return this.config.replicationLagMs ?? 0;
  }

  latency(): number {
    const l = this.config.latencyMs;
    if (!l) return 0;
    return typeof l === 'number' ? l : l.min + this.random() * (l.max - l.min);
  }

  /** Throws the injected failure for this request, if any. */
  check(req: Pick<SimRequest, 'method' | 'path'>): void {
    const forced = this.forced.find((f) => (!f.method || f.method === req.method) && (!f.pathPrefix || req.path.startsWith(f.pathPrefix)));
    if (forced) {
      forced.count = (forced.count ?? 1) - 1;
      if (forced.count <= 0) this.forced.splice(this.forced.indexOf(forced), 1);
      this.injected++;
      throw faultError(forced.status, forced.code, forced.message);
    }
    const now = this.now();
    const outage = this.config.outages?.find((o) => ms(o.start) <= now && now < ms(o.end));
    if (outage) {
      this.injected++;
      throw faultError(outage.status ?? 503);
    }
    for (const [status, rate] of Object.entries(this.config.errorRates ?? {})) {
      if (rate > 0 && this.random() < rate) {
        this.injected++;
        throw faultError(Number(status));
      }
    }
  }
}
