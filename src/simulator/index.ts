// startSimulator(): the Graph v1.0 stand-in, in-process. It serves Graph under {url}/v1.0, the
// token endpoints under {authorityHost}/{tenantId}, and the inspection API under {url}/_sim.
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCertificates } from './certs';
import { type Clock as SimClock, createClock } from './clock';
import type { SimContext } from './context';
import { Directory } from './directory';
import { FaultInjector } from './faults';
import { createInspector, snapshot, type StateSnapshot } from './inspect';
import type { SimCore } from './pipeline';
import { RequestLog } from './request-log';
import { createSimServer } from './server';
import { createThrottle, type TenantSize, type Throttle } from './throttle';
import { createTokenService } from './tokens';
import { DEFAULT_DIRECTORY_ROLES, DEFAULT_ROLES, DIRECTORY_ROLE_IDS, type Json, type SeedObject } from './types';
import { advanceInbound, type InboundAppConfig, type InboundFailure } from './inbound';
import { runBatch } from './batch';
import { createContractRecorder, type ContractRecorder } from './contract';

export { takeAllContractViolations } from './contract';
import { readSavedTenant, writeSavedTenant } from './persist';
import { processDueLicensing } from './licensing';

export type { SeedObject } from './types';
export type { StateSnapshot } from './inspect';
export type { InboundAppConfig, InboundFailure } from './inbound';

export interface SimulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: '127.0.0.1';
  /** A seed object, or the path of a JSON file holding one. */
  seed?: SeedObject | string;
  /** Budget time runs this many times faster than real time (default 1). */
  timeScale?: number;
  /** Budget time from the caller instead (a benchmark's discrete-event clock); timeScale is then ignored. */
  clock?: SimClock;
  /** Apply Microsoft's identity throttling budgets (default true). */
  throttling?: boolean;
  /** Where the CA certificate is written (default: the OS temp directory). */
  dataDir?: string;
  /** Default page size of collections (Graph's is 100). */
  pageSize?: number;
  /** Request log entries kept, oldest dropped first (default 200,000). */
  requestLogLimit?: number;
  /** Wall-clock milliseconds for the replication-lag fault and outage windows (default Date.now), so a test can move time on. */
  now?: () => number;
  /**
   * Record every request that Microsoft's published v1.0 description does not allow an app to
   * send (unknown path or method, a property that is not writable): see contract.violations.
   * Default true; tests that send off-contract requests on purpose turn it off.
   */
  strictContract?: boolean;
  /** The bearer token of the inspection API under /_sim (default: random, returned as inspectionToken). */
  inspectionToken?: string;
  /**
   * Keep the tenant in this file: loaded at start when it exists (instead of `seed`), written
   * atomically with mode 0600 within `saveEveryMs` of a change and on close (src/simulator/persist.ts).
   */
  stateFile?: string;
  /** How often a changed tenant is written to stateFile (default 1000 ms). */
  saveEveryMs?: number;
  /**
   * Simulated milliseconds between a change to a licensed group's members or licences (or
   * reprocessLicenseAssignment) and the users' licence states (default 5000): group-based licensing
   * is asynchronous in Entra.
   */
  licenseProcessingMs?: number;
}

export interface SimulatorState {
  /** A deep copy of the tenant: users (with manager id), groups (with member ids), devices, SKU seats, deleted items. */
  snapshot(): StateSnapshot;
  /** The live directory, for tests that need to change the tenant behind the bridge's back. */
  readonly directory: Directory;
}

export interface InboundControl {
  /** Creates (or replaces, by servicePrincipalId + jobId) an inbound app; returns it with its ids. */
  configure(app: Partial<InboundAppConfig> & { target: InboundAppConfig['target'] }): InboundAppConfig;
  /** Changes state, quarantineReason, agentActive, rates or mappings of an app. */
  update(servicePrincipalId: string, jobId: string, patch: Partial<InboundAppConfig>): InboundAppConfig;
  /**
   * Processes every staged record now, ignoring delay and rate, and makes their log entries (and those still
   * waiting to be written) readable at once; paused, quarantined or agent-less apps still wait.
   */
  process(filter?: { servicePrincipalId?: string; jobId?: string }): { processed: number };
  /** The next `times` (default 1) records with this externalId fail with this error. */
  failNext(externalId: string, failure?: Partial<InboundFailure>): InboundFailure;
  /** The apps, with staged record counts and the bulk calls of the last 24 hours. */
  apps(): Json[];
  /** Every provisioning log entry in processing order, also those not yet readable through Graph (log delay). */
  logs(): Json[];
}

export interface RunningSimulator {
  url: string;
  authorityHost: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  caFile: string;
  caPem: string;
  /** Authorization: Bearer <inspectionToken> opens the inspection API under {url}/_sim. */
  inspectionToken: string;
  state: SimulatorState;
  requests: RequestLog;
  faults: FaultInjector;
  throttle: Throttle;
  /**
   * Grants the app these app roles (and directory roles, by name or template id) from now on, as an
   * admin consenting after the registration; tokens issued before keep their claims until they expire.
   */
  grant(roles: string[], directoryRoles?: string[]): void;
  /** Requests real Graph would not route for an app (when strictContract). */
  contract: ContractRecorder;
  /** API-driven inbound provisioning apps: the same control as /_sim/inbound (docs/simulator.md). */
  inbound: InboundControl;
  /** Back to the seeded tenant; clears the request log, faults and throttle buckets. */
  reset(): void;
  close(): Promise<void>;
}

export function loadSeed(seed: SeedObject | string | undefined): SeedObject {
  if (seed === undefined) return {};
  if (typeof seed !== 'string') return seed;
  try {
    return JSON.parse(readFileSync(seed, 'utf8')) as SeedObject;
  } catch (err) {
    throw new Error(`graph simulator seed ${seed}: ${(err as Error).message}`, { cause: err });
  }
}

function tenantSize(dir: Directory, seed: SeedObject): TenantSize {
  if (seed.tenant?.size) return seed.tenant.size;
  const n = dir.users.size;
  return n < 50 ? 'S' : n <= 500 ? 'M' : 'L';
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const saved = options.stateFile ? readSavedTenant(options.stateFile) : null;
  const seed = saved ? saved.seed : loadSeed(options.seed);
  const tenantId = seed.tenant?.id ?? randomUUID();
  const clientId = seed.tenant?.clientId ?? randomUUID();
  const clientSecret = seed.tenant?.clientSecret ?? randomBytes(24).toString('base64url');
  const certs = await makeCertificates(options.dataDir ?? join(tmpdir(), 'graph-sim'));
  const wids = (seed.tenant?.directoryRoles ?? DEFAULT_DIRECTORY_ROLES).map((r) => DIRECTORY_ROLE_IDS[r] ?? r);
  const tokens = createTokenService({ tenantId, clientId, clientSecret, roles: seed.tenant?.roles ?? DEFAULT_ROLES, wids });
  const clock = options.clock ?? createClock(options.timeScale ?? 1);
  const faults = new FaultInjector(Math.random, options.now ?? Date.now);
  const ctx: SimContext = {
    dir: new Directory(structuredClone(seed), tenantId),
    baseUrl: '',
    pageSize: options.pageSize ?? 100,
    replicationLagMs: () => faults.replicationLagMs,
    now: options.now ?? Date.now,
    clock: options.now ?? clock.now,
    toReal: options.now ? (ms) => ms : clock.toReal,
    licenseProcessingMs: options.licenseProcessingMs ?? 5000,
  };
  if (saved) ctx.dir.advanceSeq(saved.seq);
  const throttle = createThrottle({ enabled: options.throttling ?? true, clock, tenantId, appId: clientId, size: () => tenantSize(ctx.dir, seed) });
  const log = new RequestLog(options.requestLogLimit);
  const contract = createContractRecorder(options.strictContract ?? true);
  const core: SimCore = { ctx, throttle, faults, log, contract, batch: runBatch };
  const reset = () => {
    ctx.dir = new Directory(structuredClone(seed), tenantId);
    log.clear();
    faults.clear();
    throttle.reset();
  };
  const inspect = createInspector({ dir: () => ctx.dir, log, faults, throttle, reset, clock: ctx.clock });
  const inspectionToken = options.inspectionToken ?? randomBytes(24).toString('base64url');
  const server = createSimServer(
    { core, tokens, tenantId, authorityHost: () => ctx.baseUrl, inspect, inspectionToken },
    { cert: certs.certPem, key: certs.keyPem },
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  ctx.baseUrl = `https://127.0.0.1:${port}`;
  // Persistence: the tenant (with its credentials, so a restart keeps them) is saved when it changed.
  const stateFile = options.stateFile;
  const tenant = { ...seed.tenant, id: tenantId, clientId, clientSecret };
  let savedAt = { changes: log.changes, dir: ctx.dir, inbound: ctx.dir.inbound.version };
  // A save blocks the event loop for as long as the tenant takes to serialise; a large tenant that keeps
  // changing is saved at most once per hundred times that, so saving stays under a hundredth of the time
  // (a twentieth was measured as 3% of a bridge's SCIM POST load with the simulator embedded).
  let nextSaveAt = 0;
  const save = (force = false) => {
    const same = savedAt.changes === log.changes && savedAt.dir === ctx.dir && savedAt.inbound === ctx.dir.inbound.version;
    if (!stateFile || (same && existsSync(stateFile))) return;
    const started = Date.now();
    if (!force && started < nextSaveAt) return;
    savedAt = { changes: log.changes, dir: ctx.dir, inbound: ctx.dir.inbound.version };
    writeSavedTenant(stateFile, ctx.dir, tenant);
    nextSaveAt = started + 100 * (Date.now() - started);
  };
  const saveQuietly = (force = false) => {
    try {
      save(force);
    } catch {
      // A full disk, say: the next interval (or close) tries again; the tenant in memory is intact.
    }
  };
  const saver = stateFile ? setInterval(() => saveQuietly(), options.saveEveryMs ?? 1000) : undefined;
  saver?.unref();
  // The inbound provisioning service processes what is due even when nobody asks.
  const processor = setInterval(() => {
    try {
      advanceInbound(ctx.dir, ctx.clock());
    } catch {
      // Never the process's end: the next Graph request runs the same pass and answers 500 with the error.
    }
  }, 1000);
  processor.unref();
  return {
    url: ctx.baseUrl,
    authorityHost: ctx.baseUrl,
    tenantId,
    clientId,
    clientSecret,
    caFile: certs.caFile,
    caPem: certs.caPem,
    inspectionToken,
    state: {
      snapshot: () => {
        processDueLicensing(ctx);
        return snapshot(ctx.dir);
      },
      get directory() {
        return ctx.dir;
      },
    },
    requests: log,
    faults,
    throttle,
    contract,
    inbound: {
      configure: (app) => {
        // What the service did up to now, under the app's old settings.
        advanceInbound(ctx.dir, ctx.clock());
        return ctx.dir.inbound.configure(app, ctx.clock());
      },
      update: (servicePrincipalId, jobId, patch) => {
        advanceInbound(ctx.dir, ctx.clock());
        const updated = ctx.dir.inbound.update(servicePrincipalId, jobId, patch, ctx.clock());
        if (!updated) throw new Error(`no inbound provisioning app ${servicePrincipalId} / ${jobId}`);
        return updated;
      },
      process: (filter = {}) => ({
        processed: advanceInbound(ctx.dir, ctx.clock(), {
          force: true,
          only: (c) => (!filter.servicePrincipalId || c.servicePrincipalId === filter.servicePrincipalId) && (!filter.jobId || c.jobId === filter.jobId),
        }),
      }),
      failNext: (externalId, failure = {}) => ctx.dir.inbound.failNext(externalId, failure),
      apps: () => ctx.dir.inbound.describe(ctx.clock()),
      logs: () => structuredClone(ctx.dir.inbound.logs.map((l) => l.entry)),
    },
    grant: (roles, directoryRoles) =>
      tokens.setGrant(
        roles,
        directoryRoles?.map((r) => DIRECTORY_ROLE_IDS[r] ?? r),
      ),
    reset,
    close: () =>
      new Promise<void>((resolve) => {
        if (saver) clearInterval(saver);
        clearInterval(processor);
        server.closeAllConnections();
        server.close(() => {
          saveQuietly(true);
          rmSync(certs.caFile, { force: true });
          resolve();
        });
      }),
  };
}
