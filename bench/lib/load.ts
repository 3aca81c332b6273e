// Drives HTTP load with autocannon (programmatic API) against 127.0.0.1 for a bounded time and
// reduces its result to the figures the benchmarks compare: successful requests per second and
// latency percentiles in milliseconds.

// autocannon ships no type declarations; this is the part of its API used here.
interface AutocannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  setupRequest?: (req: AutocannonRequest, context: Record<string, unknown>) => AutocannonRequest;
}
interface AutocannonResult {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  latency: { p50: number; p90: number; p99: number; max: number; average: number };
  statusCodeStats: Record<string, { count: number }>;
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;
// eslint-disable-next-line @typescript-eslint/no-require-imports -- untyped CommonJS module
const autocannon: Autocannon = require('autocannon');

export interface LoadSpec {
  url: string;
  connections: number;
  durationSeconds: number;
  requests: AutocannonRequest[];
}

export interface LoadFigures {
  rps: number; // successful (2xx) responses per second
  p50: number;
  p90: number;
  p99: number;
  max: number;
  ok: number;
  failed: number; // non-2xx responses, connection errors and timeouts
  statuses: Record<string, number>;
}

export async function runLoad(spec: LoadSpec): Promise<LoadFigures> {
  const result = await autocannon({
    url: spec.url,
    connections: spec.connections,
    duration: spec.durationSeconds,
    requests: spec.requests,
    timeout: 10,
  });
  const statuses: Record<string, number> = {};
  let ok = 0;
  for (const [code, { count }] of Object.entries(result.statusCodeStats ?? {})) {
    statuses[code] = Number(count);
    if (code.startsWith('2')) ok += Number(count);
  }
  return {
    rps: ok / result.duration,
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    max: result.latency.max,
    ok,
    failed: result.non2xx + result.errors + result.timeouts,
    statuses,
  };
}

export type { AutocannonRequest };
