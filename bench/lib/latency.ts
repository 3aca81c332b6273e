// Latency of one request at a time, timed with sub-millisecond precision (autocannon's histogram
// keeps whole milliseconds): a keep-alive client sends the next request when the previous
// response has been read, for a bounded time.
import http from 'node:http';

export interface LatencyFigures {
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  ok: number;
  failed: number;
}

function once(agent: http.Agent, url: URL, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path, headers, agent }, (res) => {
      res.on('data', () => undefined);
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

export async function measureLatency(base: string, nextPath: () => string, headers: Record<string, string>, seconds: number): Promise<LatencyFigures> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const url = new URL(base);
  const times: number[] = [];
  let failed = 0;
  const end = performance.now() + seconds * 1000;
  try {
    while (performance.now() < end) {
      const started = performance.now();
      const status = await once(agent, url, nextPath(), headers);
      if (status >= 200 && status < 300) times.push(performance.now() - started);
      else failed++;
    }
  } finally {
    agent.destroy();
  }
  const sorted = [...times].sort((a, b) => a - b);
  return {
    rps: times.length / seconds,
    p50: pct(sorted, 50),
    p90: pct(sorted, 90),
    p99: pct(sorted, 99),
    max: sorted[sorted.length - 1] ?? NaN,
    ok: times.length,
    failed,
  };
}
