// Prometheus metrics (/metrics). Node's default metrics keep their standard names (process_*,
// nodejs_*) so stock Node.js dashboards work. Request counters and histograms are updated as
// requests finish; gauges are computed at scrape time from the engine, so nothing has to keep
// them in step with the store. Labels are bounded: route patterns and Graph request kinds, never
// raw URLs or ids. Series and their labels are listed in docs/operations.md.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EngineTelemetry, RunSummary } from '../sync/engine';

export interface BridgeMetrics {
  registry: Registry;
  /** One answered SCIM request (or admin/health request when `route` is not under /scim). */
  observeScim(labels: { source: string; method: string; route: string; status: number }, seconds: number): void;
  /** One Graph request (each $batch item counts, with the time of its $batch). */
  observeGraph(labels: { method: string; path: string; status: number | string }, seconds: number): void;
  /** A finished engine run. */
  observeRun(summary: RunSummary, atMs: number): void;
}

const RESOURCE_STATES = ['pending', 'synced', 'error', 'blocked', 'deprovisioning', 'deprovisioned'];
const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

// Segments of a Graph path that are names of collections, actions or types, kept as they are;
// anything else (a GUID, a UPN, a skuId) is an id and becomes {id}.
const WORD = /^[A-Za-z$][A-Za-z.$]*$/;

/** `POST /users/{id}/assignLicense` from `POST /users/0f1.../assignLicense?x=y`: a bounded label. */
export function graphKind(method: string, path: string): string {
  const bare = path
    .split('?')[0]
    .replace(/^https?:\/\/[^/]+/, '')
    .replace(/^\/(v1\.0|beta)(?=\/)/, '');
  const segments = bare.split('/').map((s) => {
    if (s === '') return s;
    // users('id') or users(userPrincipalName='x') key syntax
    const key = /^([A-Za-z$][A-Za-z.$]*)\(.*\)$/.exec(s);
    if (key) return `${key[1]}({id})`;
    return WORD.test(s) ? s : '{id}';
  });
  return `${method.toUpperCase()} ${segments.join('/') || '/'}`;
}

export interface MetricSources {
  /** Users whose licence assignment failed for want of a seat, by SKU. */
  seatShortages?: () => Record<string, number>;
}

export function createMetrics(engine: () => { telemetry(): EngineTelemetry } | undefined, sources: MetricSources = {}): BridgeMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // One engine reading per scrape: every collector below runs in the same turn of the event loop
  // (prom-client calls them one after another), and each reading counts the sync table.
  let reading: { t: EngineTelemetry | undefined } | null = null;
  const telemetry = (): EngineTelemetry | undefined => {
    if (!reading) {
      reading = { t: engine()?.telemetry() };
      setImmediate(() => {
        reading = null;
      });
    }
    return reading.t;
  };

  const scimRequests = new Counter({
    name: 'bridge_scim_requests_total',
    help: 'HTTP requests answered, by SCIM source (or "-" without a valid token), method, route pattern and status',
    labelNames: ['source', 'method', 'route', 'status'] as const,
    registers: [registry],
  });
  const scimDuration = new Histogram({
    name: 'bridge_scim_request_duration_seconds',
    help: 'Time to answer an HTTP request, by SCIM source, method, route pattern and status',
    labelNames: ['source', 'method', 'route', 'status'] as const,
    buckets: SECONDS_BUCKETS,
    registers: [registry],
  });
  const graphRequests = new Counter({
    name: 'bridge_graph_requests_total',
    help: 'Graph requests sent (each $batch item counts), by kind (method and path pattern) and status',
    labelNames: ['kind', 'status'] as const,
    registers: [registry],
  });
  const graphDuration = new Histogram({
    name: 'bridge_graph_request_duration_seconds',
    help: 'Graph request latency by kind; a $batch item counts the time of its whole $batch',
    labelNames: ['kind'] as const,
    buckets: SECONDS_BUCKETS,
    registers: [registry],
  });
  const runs = new Counter({
    name: 'bridge_sync_runs_total',
    help: 'Engine runs by outcome: ok, blocked (preflight) or failed',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  let lastSuccessMs = 0;

  // Gauges and counters read from the engine at scrape time. A counter's value is replaced with the
  // engine's own running total, so a scrape never double-counts.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- prom-client calls collect on its own Gauge or Counter; each setter knows which
  const fromEngine = (set: (this: any, t: EngineTelemetry) => void) =>
    function collect(this: Gauge | Counter) {
      this.reset();
      const t = telemetry();
      if (t) set.call(this, t);
    };
  const setCounter = (c: Counter, v: number) => v > 0 && c.inc(v);
  /** A gauge of one engine figure (0 while the engine is not there). */
  const engineGauge = (name: string, help: string, value: (t: EngineTelemetry) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect: fromEngine(function (this: Gauge, t) {
        this.set(value(t));
      }) as () => void,
    });

  /** A counter of one engine running total. */
  const engineCounter = (name: string, help: string, value: (t: EngineTelemetry) => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect: fromEngine(function (this: Counter, t) {
        setCounter(this, value(t));
      }) as () => void,
    });

  new Gauge({
    name: 'bridge_resources',
    help: 'Resources by type (User, Group) and state (pending, synced, error, blocked; deleted ones deprovisioning, deprovisioned)',
    labelNames: ['type', 'state'] as const,
    registers: [registry],
    collect: fromEngine(function (this: Gauge, t) {
      for (const type of ['User', 'Group']) for (const state of RESOURCE_STATES) this.set({ type, state }, 0);
      for (const r of t.resources) this.set({ type: r.type, state: r.state }, r.count);
    }) as () => void,
  });
  engineGauge('bridge_engine_blocked', '1 when preflight blocks the sync engine', (t) => (t.blocked ? 1 : 0));
  engineGauge('bridge_queue_depth', 'Resources with changes not yet applied to Graph (blocked ones excluded)', (t) => t.queueDepth);
  engineGauge('bridge_queue_oldest_change_age_seconds', 'Age of the oldest change still waiting for Graph; 0 with an empty queue', (t) =>
    t.oldestChangeAt ? Math.max(0, (Date.now() - Date.parse(t.oldestChangeAt)) / 1000) : 0,
  );
  new Gauge({
    name: 'bridge_pending_deletions',
    help: 'Deprovisions held by the deletion threshold until approved, by source',
    labelNames: ['source'] as const,
    registers: [registry],
    collect: fromEngine(function (this: Gauge, t) {
      for (const h of t.pendingDeletions) this.set({ source: h.sourceId }, h.pending);
    }) as () => void,
  });
  engineCounter('bridge_graph_throttled_total', 'Graph answers with status 429 (a $batch envelope or item) that paused the engine', (t) => t.graph.throttled);
  engineCounter(
    'bridge_graph_retry_after_seconds_total',
    'Time the engine held all Graph writes for Retry-After (overlapping pauses counted once)',
    (t) => t.graph.throttledMs / 1000,
  );
  const budget = (name: string, what: string, pick: (t: EngineTelemetry) => EngineTelemetry['writeBudget']) => {
    engineGauge(`bridge_graph_${name}_capacity`, `Size of the ${what} bucket`, (t) => pick(t).capacity);
    engineGauge(`bridge_graph_${name}_available`, `${what} that could be spent now without waiting (0 during a Retry-After pause)`, (t) => pick(t).available);
    engineCounter(`bridge_graph_${name}_spent_total`, `${what} spent since the process started`, (t) => pick(t).spent);
  };
  budget('write_budget', 'Graph write budget (writes)', (t) => t.writeBudget);
  budget('resource_units', 'Graph resource units', (t) => t.resourceUnits);
  new Gauge({
    name: 'bridge_last_successful_run_timestamp_seconds',
    help: 'Unix time at which the last engine run that was neither blocked nor failed finished; 0 before the first',
    registers: [registry],
    collect() {
      this.set(lastSuccessMs / 1000);
    },
  });
  engineGauge(
    'bridge_sync_consecutive_failed_runs',
    'Engine runs in a row that failed as a whole (0 once one completes); bridge_sync_runs_total counts them all',
    (t) => t.consecutiveFailedRuns,
  );
  new Gauge({
    name: 'bridge_license_seat_shortage_users',
    help: 'Users whose licence assignment failed because the SKU has no free seat (each shows it in lastSyncError), by SKU',
    labelNames: ['sku'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [sku, count] of Object.entries(sources.seatShortages?.() ?? {})) this.set({ sku }, count);
    },
  });

  const scimChildren = new Map<string, { count: { inc(): void }; duration: { observe(seconds: number): void } }>();
  return {
    registry,
    observeScim({ source, method, route, status }, seconds) {
      // One pair of children per label set (a bounded set: routes are patterns): prom-client hashes
      // the labels on every inc or observe given them, a cost each SCIM request paid twice.
      const key = `${source}\0${method}\0${route}\0${status}`;
      let child = scimChildren.get(key);
      if (!child) {
        const labels = { source, method, route, status: String(status) };
        child = { count: scimRequests.labels(labels), duration: scimDuration.labels(labels) };
        scimChildren.set(key, child);
      }
      child.count.inc();
      child.duration.observe(seconds);
    },
    observeGraph({ method, path, status }, seconds) {
      const kind = graphKind(method, path);
      graphRequests.inc({ kind, status: String(status) });
      graphDuration.observe({ kind }, seconds);
    },
    observeRun(summary, atMs) {
      const outcome = summary.error ? 'failed' : summary.blocked ? 'blocked' : 'ok';
      runs.inc({ outcome });
      if (outcome === 'ok') lastSuccessMs = atMs;
    },
  };
}
