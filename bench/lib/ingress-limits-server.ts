// Child-process entry for bench/ingress-limits.ts: the SCIM app with the default limits on a fresh
// SQLite file, a /healthz that reads the store as the admin one does (counts by sync state), and
// /_bench/loop, which reports (and resets) the longest event-loop block seen by perf_hooks'
// monitorEventLoopDelay in this process and the CPU time the process used since the last call (on a
// loaded machine, wall-clock blocks stretch while the process waits for a core; CPU time does not).
import { monitorEventLoopDelay } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/log';
import { createApp } from '../../src/scim/app';
import { openStore } from '../../src/store';
import { reportListening, reportStartFailure } from './child-server';

try {
  const args = JSON.parse(process.argv[2]) as { database: string; token: string; sourceId: string };
  const config = loadConfig({
    env: {},
    overrides: { database: args.database, mode: 'profile-sync', logLevel: 'warn', sources: [{ id: args.sourceId, token: args.token }] },
  });
  const store = openStore(config.database, { mode: config.mode, sources: config.sources });
  const app = createApp({ config, store, logger: createLogger(config.logLevel) });
  const reader = new Database(config.database, { readonly: true });
  const counts = reader.prepare('SELECT state, count(*) AS n FROM sync_state GROUP BY state');
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', counts: counts.all() });
  });
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  // The same block measured in CPU time: the process's CPU use between two ticks of a 5 ms timer. A
  // turn that computes for X ms shows as at least X whether or not the machine let the process run.
  let lastTick = process.cpuUsage();
  let maxCpuTurnMs = 0;
  setInterval(() => {
    const used = process.cpuUsage(lastTick);
    maxCpuTurnMs = Math.max(maxCpuTurnMs, (used.user + used.system) / 1000);
    lastTick = process.cpuUsage();
  }, 5).unref();
  let cpu = process.cpuUsage();
  app.get('/_bench/loop', (_req, res) => {
    const maxMs = loop.max / 1e6;
    const used = process.cpuUsage(cpu);
    res.json({ maxMs, cpuMs: (used.user + used.system) / 1000, maxCpuTurnMs });
    loop.reset();
    maxCpuTurnMs = 0;
    cpu = process.cpuUsage();
  });
  const server = app.listen(0, '127.0.0.1', () => reportListening((server.address() as { port: number }).port));
  process.on('SIGTERM', () => server.close(() => (reader.close(), store.close(), process.exit(0))));
} catch (err) {
  reportStartFailure(err);
}
