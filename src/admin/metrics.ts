// Prometheus metrics. Gauges are computed at scrape time from the admin data source, so
// nothing has to keep them in step with the store.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { AdminDataSource } from './types';

export interface BridgeMetrics {
  registry: Registry;
  scimRequests: Counter<'method' | 'status'>;
  graphRequests: Counter<'method' | 'status'>;
}

export function createMetrics(data: () => AdminDataSource | undefined): BridgeMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'bridge_process_' });
  const scimRequests = new Counter({
    name: 'bridge_scim_requests_total',
    help: 'SCIM requests answered, by method and status',
    labelNames: ['method', 'status'] as const,
    registers: [registry],
  });
  const graphRequests = new Counter({
    name: 'bridge_graph_requests_total',
    help: 'Graph requests sent (each $batch item counts), by method and status',
    labelNames: ['method', 'status'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'bridge_resources',
    help: 'Resources by sync state',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      this.reset();
      const queue = data()?.health().queue ?? {};
      for (const [state, count] of Object.entries(queue)) this.set({ state }, count);
    },
  });
  new Gauge({
    name: 'bridge_engine_blocked',
    help: '1 when preflight blocks the sync engine',
    registers: [registry],
    collect() {
      this.set(data()?.health().engine.state === 'blocked' ? 1 : 0);
    },
  });
  return { registry, scimRequests, graphRequests };
}
