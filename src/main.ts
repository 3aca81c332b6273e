// Composition root: load config, open the store, start the Graph simulator when no tenant is
// configured, build the SCIM app and the admin surface, start the sync engine.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import express from 'express';
import { accessLog, noteRoute } from './admin/access-log';
import { createAdminData } from './admin/data';
import { createGraphLog, type GraphLog } from './admin/graph-log';
import { type BridgeMetrics, createMetrics } from './admin/metrics';
import { createAdminRouter } from './admin/router';
import type { AdminDataSource } from './admin/types';
import { type Config, loadConfig, usesSimulator } from './config';
import { createGraphClient, type GraphClient } from './graph/client';
import { createLogger, type Logger } from './log';
import { scimListener } from './scim/app';
import { loadSeed, type RunningSimulator, startSimulator } from './simulator';
import { leastGrant } from './graph/permissions';
import { demoSeed } from './demo-tenant';
import { readSimulatorConnection, removeSimulatorConnection, STATE_FILE, writeSimulatorConnection } from './simulator/connection';
import { openStore, type Store } from './store';
import { createSyncEngine, type RunSummary } from './sync/engine';
import { loadTlsPair, type TlsReloader, watchTls } from './tls';

export interface Runtime {
  /** The config in effect: the file's, plus sources added by `sources add` and a minted default. */
  config: Config;
  /** Tokens minted at this start (source id -> token; only on a new data directory), printed once and never logged. */
  mintedTokens: Record<string, string>;
  logger: Logger;
  store: Store;
  simulator?: RunningSimulator;
  graphConfig: Config['graph'];
  engine: ReturnType<typeof createSyncEngine>;
  graphLog: GraphLog;
  metrics: BridgeMetrics;
  /** The read side of the dashboard, /healthz and the CLI's status. */
  admin(): AdminDataSource;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  logger?: Logger;
  /** Start the embedded simulator when no tenant is configured (serve, preflight); default true. */
  simulator?: boolean;
  /** Make a `default` source with a fresh token on a data directory without any source (serve). */
  mintDefaultSource?: boolean;
  /** WAL checkpoints in a worker thread, off the request path (serve). */
  backgroundCheckpoints?: boolean;
  /**
   * One-shot commands: the mode is not recorded (only a serving bridge records a mode change), and
   * with `readOnly` (preflight, plan, status) the engine records nothing either.
   */
  oneShot?: boolean;
  readOnly?: boolean;
}

/** Opens everything the bridge runs on, without listening: the shared start of `serve` and the CLI commands. */
function simulatorSeedNamesRoles(seedFile: string | undefined): boolean {
  return Boolean(seedFile && loadSeed(seedFile).tenant?.roles);
}

export async function openRuntime(baseConfig: Config, options: RuntimeOptions = {}): Promise<Runtime> {
  const store = openStore(baseConfig.database, {
    mode: baseConfig.mode,
    sources: baseConfig.sources,
    confirmModeChange: baseConfig.confirmModeChange,
    backgroundCheckpoints: options.backgroundCheckpoints,
    secretsKey: baseConfig.secretsKey,
    recordMode: !options.oneShot && !options.readOnly,
  });
  // openStore mirrored the configured and added sources into the store; a minted default adds its own row.
  const { config, minted } = effectiveSources(baseConfig, store, Boolean(options.mintDefaultSource));
  const logger = options.logger ?? createLogger(config.logLevel);
  let simulator: RunningSimulator | undefined;
  let graphConfig = config.graph;
  let unreachable: string | undefined;
  const dataDir = config.database === ':memory:' ? undefined : dirname(resolve(config.database));
  try {
    if (usesSimulator(config) && options.simulator !== false && (options.oneShot || options.readOnly)) {
      // One-shot commands talk to the simulator of the bridge serving this data directory, never to one of their own.
      const conn = dataDir ? readSimulatorConnection(dataDir) : null;
      if (conn) {
        const { pid: _pid, inspectionToken: _inspectionToken, ...graph } = conn;
        graphConfig = Object.freeze({ ...config.graph, ...graph });
      } else {
        unreachable =
          `no bridge serving from ${dataDir ?? config.database} runs the embedded Graph simulator this command would talk to: ` +
          'start it (npm start) and run the command again, or configure tenant credentials (graph.tenantId, clientId, clientSecret)';
      }
    } else if (usesSimulator(config) && options.simulator !== false) {
      const sim = config.graph.simulator;
      simulator = await startSimulator({
        port: sim.port,
        seed: sim.seedFile ?? demoSeed(),
        timeScale: sim.timeScale,
        throttling: sim.throttling,
        // A long-running bridge needs only the recent requests for inspection, not a test's full history.
        requestLogLimit: 2000,
        dataDir,
        // The trial tenant survives a restart (data/simulator.json).
        ...(dataDir ? { stateFile: join(dataDir, STATE_FILE) } : {}),
      }).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EADDRINUSE') throw err;
        throw new Error(
          `graph.simulator.port ${sim.port} is in use (another bridge or graph-sim is listening there): stop it, ` +
            'or set graph.simulator.port (BRIDGE_GRAPH_SIMULATOR_PORT) to another port or 0 for any free one',
        );
      });
      // The demo tenant's app holds what `scim-graph-bridge permissions` lists for this config,
      // recommended ones included (a seed file naming tenant.roles keeps its own).
      if (!simulatorSeedNamesRoles(sim.seedFile)) simulator.grant(leastGrant(config, config.mode, { optional: true }));
      graphConfig = Object.freeze({
        ...config.graph,
        baseUrl: simulator.url,
        authorityHost: simulator.authorityHost,
        tenantId: simulator.tenantId,
        clientId: simulator.clientId,
        clientSecret: simulator.clientSecret,
        caFile: simulator.caFile,
      });
      if (dataDir) {
        const { baseUrl, authorityHost, tenantId, clientId, clientSecret, caFile } = graphConfig;
        writeSimulatorConnection(dataDir, {
          pid: process.pid,
          baseUrl,
          authorityHost,
          tenantId: tenantId!,
          clientId: clientId!,
          clientSecret: clientSecret!,
          caFile: caFile!,
          inspectionToken: simulator.inspectionToken,
        });
      }
    }
  } catch (err) {
    store.close();
    throw err;
  }
  // Metrics read the engine at scrape time; it needs the Graph log, built below.
  const late: { engine?: ReturnType<typeof createSyncEngine> } = {};
  const metrics = createMetrics(() => late.engine, { seatShortages: () => store.sync.seatShortages() });
  const graphLog = createGraphLog(500, (e) => metrics.observeGraph({ method: e.method, path: e.path, status: e.status }, e.ms / 1000), {
    resolve: (keys) => store.admin.resourceFor(keys),
    secrets: [graphConfig.clientSecret],
  });
  // The client names its own component: a second binding here would print the key twice.
  const graph = graphLog.wrap(unreachable ? unreachableGraph(unreachable) : createGraphClient(graphConfig, { logger }));
  const engine = createSyncEngine({ config, graphConfig, store, graph, logger, readOnly: Boolean(options.readOnly) });
  late.engine = engine;
  engine.onEvent((e) => {
    if (e.type === 'run') metrics.observeRun(e.summary as RunSummary, Date.parse(e.at));
  });
  const adminData = createAdminData({
    config,
    views: store.admin,
    records: store,
    engine,
    graphLog,
    graph: { baseUrl: graphConfig.baseUrl, simulator: Boolean(simulator) },
  });
  return {
    config,
    mintedTokens: minted,
    logger,
    store,
    simulator,
    graphConfig,
    engine,
    graphLog,
    metrics,
    admin: () => adminData,
    async close() {
      await engine.stop();
      if (simulator && dataDir) removeSimulatorConnection(dataDir);
      await simulator?.close();
      store.close();
    },
  };
}

/** A Graph client for a one-shot command with no simulator to talk to: each request fails with the reason. */
function unreachableGraph(reason: string): GraphClient {
  const fail = async (): Promise<never> => {
    throw new Error(reason);
  };
  return { baseUrl: 'https://graph.microsoft.com', request: fail, batch: fail, accessToken: fail };
}

export interface Bridge extends Runtime {
  server: Server;
  scimUrl: string;
  adminToken: string;
  /** With tls configured: reload the certificate and key now (as on SIGHUP or a file change). */
  tls: TlsReloader | null;
}

/**
 * Configured sources, then those added with `sources add` (token hashes from the store). On a new
 * data directory without any source, `serve` makes a `default` source whose token is printed once
 * and kept as a hash like an added source's, so it survives restarts and can be rotated.
 */
function effectiveSources(config: Config, store: Store, mintDefault: boolean): { config: Config; minted: Record<string, string> } {
  const minted: Record<string, string> = {};
  if (mintDefault && config.sources.length === 0 && store.sourceTokens.list().length === 0) {
    const token = randomBytes(32).toString('base64url');
    if (store.sourceTokens.add('default', createHash('sha256').update(token).digest('hex'), [])) minted.default = token;
  }
  const configured = new Set(config.sources.map((s) => s.id));
  const managed = store.sourceTokens.list().filter((m) => !configured.has(m.id));
  if (!managed.length) return { config, minted };
  const sources: unknown[] = [...config.sources, ...managed.map((m) => ({ id: m.id, tokenSha256: m.tokenSha256, directories: m.directories }))];
  return { config: loadConfig({ env: {}, overrides: { ...structuredClone(config), sources } }), minted };
}

export async function startBridge(baseConfig: Config, options: RuntimeOptions = {}): Promise<Bridge> {
  const runtime = await openRuntime(baseConfig, { mintDefaultSource: true, backgroundCheckpoints: true, ...options });
  const { config } = runtime;
  const adminToken = config.adminToken ?? randomBytes(24).toString('base64url');
  const app = express();
  app.disable('x-powered-by');
  if (config.trustProxy) app.set('trust proxy', config.trustProxy);
  const tlsFiles = config.tls.certFile && config.tls.keyFile ? { certFile: config.tls.certFile, keyFile: config.tls.keyFile } : null;
  app.use(createAdminRouter({ adminToken, data: runtime.admin(), metrics: runtime.metrics.registry }));
  // One access log line per request; SCIM requests go to the SCIM router without passing through express.
  const access = accessLog(runtime.logger.child({ component: 'http' }), runtime.metrics);
  const route = scimListener(app, { config, store: runtime.store, logger: runtime.logger, noteRoute });
  const listener = (req: IncomingMessage, res: ServerResponse) => access(req, res, () => route(req, res));
  let server: Server;
  let tlsReloader: TlsReloader | null = null;
  try {
    const pair = tlsFiles ? loadTlsPair(tlsFiles) : null;
    // Not app.listen: Express 5 calls its callback on failure too.
    server = await new Promise<Server>((resolveListen, reject) => {
      const s = pair ? createHttpsServer(pair, listener) : createServer(listener);
      s.once('error', reject);
      s.listen(config.port, config.host, () => resolveListen(s));
    });
  } catch (err) {
    // Port taken, say: let go of the simulator and the store so the process can exit with the reason.
    await runtime.close();
    throw err;
  }
  if (tlsFiles) tlsReloader = watchTls(server as HttpsServer, tlsFiles, runtime.logger);
  const { port } = server.address() as AddressInfo;
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  runtime.engine.start();
  return {
    ...runtime,
    server,
    scimUrl: `${tlsFiles ? 'https' : 'http'}://${shownHost}:${port}/scim/v2`,
    tls: tlsReloader,
    adminToken,
    async close() {
      tlsReloader?.close();
      const closed = new Promise<void>((done) => server.close(() => done()));
      // Idle keep-alive connections would otherwise hold close() open.
      server.closeIdleConnections();
      await closed;
      await runtime.close();
    },
  };
}
