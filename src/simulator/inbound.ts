// Entra's API-driven inbound provisioning, as Microsoft documents it: an inbound provisioning app
// (a service principal with one synchronization job, target Microsoft Entra ID or on-premises AD)
// stages the SCIM records posted to its bulkUpload endpoint and processes them later, in order, on
// the simulator clock: each record is matched by the app's matching attribute (externalId ->
// employeeId by default), creates, updates, disables or is skipped, and leaves one
// provisioningObjectSummary in /auditLogs/provisioning. The tenant keeps the apps, the staged
// records, the provisioning log and the bulk calls of the last 24 hours (persist.ts saves them).
// What is documented and what is assumed: docs/simulator.md, "Inbound provisioning".
import { randomBytes, randomUUID } from 'node:crypto';
import { GraphError } from './errors';
import type { Directory, UserObject } from './directory';
import { userSchema } from './schema';
import type { Json, SeedObject } from './types';
import { checkUserValues, mailProblem, newUserProps, setUserMail, upnProblem } from './user-rules';

type InboundTarget = 'entra' | 'ad';
type InboundJobState = 'Active' | 'Paused' | 'Quarantine' | 'NotRun';

export interface InboundAppConfig {
  servicePrincipalId: string;
  jobId: string;
  displayName: string;
  target: InboundTarget;
  /** SCIM attribute (source) and Graph user property (target) records are matched on. */
  matching: { source: string; target: string };
  state: InboundJobState;
  /** synchronizationQuarantine.reason while state is Quarantine. */
  quarantineReason: string | null;
  /** AD target: the on-premises provisioning agent; inactive, nothing is processed. */
  agentActive: boolean;
  /** How long after its 202 a record is processed (its changes reach the directory). */
  processingDelayMs: number;
  /** How long after processing its provisioning log entry can be read (activityDateTime stays the processing time). */
  logDelayMs: number;
  /** Up to this much more log delay, varying per record, so entries can appear out of activityDateTime order. */
  logDelayJitterMs: number;
  /** Records processed per simulated minute. */
  recordsPerMinute: number;
  /** Bulk calls per 24 hours for the tenant. */
  dailyQuota: number;
  /** Records the job's ingestion queue holds (null: unbounded); a bulk call that would overflow it gets 500 "bucket full". */
  stagingCapacity: number | null;
  /** AD target: the OU new users are created in. */
  adOu: string;
  /** Extra mappings: SCIM source (a core attribute, or `<schema URN>:<attribute>`) -> Graph user property. */
  mappings: Record<string, string>;
}

export interface StagedRecord {
  stagedAt: number;
  bulkId: string;
  data: Json;
}

export interface InboundSeedApp extends Partial<InboundAppConfig> {
  staged?: StagedRecord[];
  stateChangedAt?: number;
}

export interface LoggedSummary {
  visibleAt: number;
  entry: Json;
}

export interface InboundFailure {
  errorCode: string;
  reason: string;
  errorCategory: string;
  times: number;
}

export interface InboundApp {
  config: InboundAppConfig;
  staged: StagedRecord[];
  /** Processing budget (token bucket), made when first needed. */
  bucket?: { tokens: number; at: number };
  stateChangedAt: number;
  /** AD target: when a cycle last found the agent inactive with records due. */
  agentFailedAt?: number;
  /** Users by matching value, valid while the directory's change sequence is `seq` (kept up to date by processing). */
  index?: { map: Map<string, UserObject>; seq: number; dir: Directory };
}

export const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE_USER = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

const STATES = new Set<InboundJobState>(['Active', 'Paused', 'Quarantine', 'NotRun']);
// synchronizationQuarantine.reason (quarantineReason enum, Graph v1.0).
const QUARANTINE_REASONS = new Set([
  'EncounteredBaseEscrowThreshold',
  'EncounteredTotalEscrowThreshold',
  'EncounteredEscrowProportionThreshold',
  'EncounteredQuarantineException',
  'Unknown',
  'QuarantinedOnDemand',
  'TooManyDeletes',
  'IngestionInterrupted',
]);
const DAY_MS = 24 * 60 * 60 * 1000;
const LOG_RETENTION_MS = 30 * DAY_MS;
const RATE_WINDOW_MS = 5000;
const RATE_LIMIT = 40;

export class InboundState {
  readonly apps = new Map<string, InboundApp>();
  /** provisioningObjectSummary entries in processing order, each readable from `visibleAt`. */
  readonly logs: LoggedSummary[];
  /** Times of the bulk calls counted against the limits, oldest first (the last 24 hours). */
  calls: number[];
  readonly failures = new Map<string, InboundFailure>();
  /** Bumped by every change, so the saved tenant is written again. */
  version = 0;

  constructor(
    seed: SeedObject,
    private readonly tenantId: string,
  ) {
    for (const app of seed.inboundApps ?? []) {
      const config = this.normalise(app, undefined);
      this.apps.set(key(config.servicePrincipalId, config.jobId), {
        config,
        staged: structuredClone(app.staged ?? []),
        stateChangedAt: app.stateChangedAt ?? 0,
      });
    }
    this.logs = structuredClone(seed.provisioningLogs ?? []).map((l) => ('entry' in l ? (l as unknown as LoggedSummary) : { visibleAt: 0, entry: l }));
    this.calls = [...(seed.inboundCalls ?? [])];
  }

  find(servicePrincipalId: string, jobId: string): InboundApp | undefined {
    return this.apps.get(key(servicePrincipalId, jobId));
  }

  /** Creates or replaces the app of (servicePrincipalId, jobId); its staged records are kept on replace. */
  configure(input: Partial<InboundAppConfig>, now: number): InboundAppConfig {
    const existing = input.servicePrincipalId && input.jobId ? this.find(input.servicePrincipalId, input.jobId) : undefined;
    const config = this.normalise(input, undefined);
    this.apps.set(key(config.servicePrincipalId, config.jobId), {
      config,
      staged: existing?.staged ?? [],
      stateChangedAt: existing && existing.config.state === config.state ? existing.stateChangedAt : now,
    });
    this.version++;
    return structuredClone(config);
  }

  update(servicePrincipalId: string, jobId: string, patch: Partial<InboundAppConfig>, now: number): InboundAppConfig | undefined {
    const app = this.find(servicePrincipalId, jobId);
    if (!app) return undefined;
    const { servicePrincipalId: _s, jobId: _j, target: _t, ...rest } = patch;
    const config = this.normalise({ ...app.config, ...rest }, app.config);
    if (config.state !== app.config.state) app.stateChangedAt = now;
    app.config = config;
    this.version++;
    return structuredClone(config);
  }

  failNext(externalId: string, failure: Partial<InboundFailure>): InboundFailure {
    const f: InboundFailure = {
      errorCode: failure.errorCode ?? 'SimulatedFailure',
      reason: failure.reason ?? 'Simulated failure',
      errorCategory: failure.errorCategory ?? 'failure',
      times: failure.times ?? 1,
    };
    if (!Number.isInteger(f.times) || f.times < 1) throw new Error('times must be a positive integer');
    this.failures.set(externalId, f);
    return { ...f };
  }

  /** The app configs, with how many records wait and the bulk calls of the last 24 hours. */
  describe(now: number): Json[] {
    const calls = this.calls.filter((t) => t > now - DAY_MS).length;
    return [...this.apps.values()].map((a) => ({ ...structuredClone(a.config), staged: a.staged.length, callsLast24h: calls }));
  }

  /**
   * Counts a bulk call against 40 per 5 seconds and the daily quota, or throws 429 with Retry-After
   * (the call is then not counted).
   */
  admit(now: number, dailyQuota: number, toReal: (ms: number) => number = (ms) => ms): void {
    while (this.calls.length && this.calls[0] <= now - DAY_MS) this.calls.shift();
    const recent = this.calls.filter((t) => t > now - RATE_WINDOW_MS);
    let retryMs = 0;
    if (recent.length >= RATE_LIMIT) retryMs = recent[recent.length - RATE_LIMIT] + RATE_WINDOW_MS - now;
    if (this.calls.length >= dailyQuota) retryMs = Math.max(retryMs, this.calls[this.calls.length - dailyQuota] + DAY_MS - now);
    if (retryMs > 0) {
      const seconds = Math.max(1, Math.ceil(toReal(retryMs) / 1000));
      throw new GraphError(429, 'TooManyRequests', `Too many requests. Retry after ${seconds} seconds.`, undefined, { 'retry-after': String(seconds) });
    }
    this.calls.push(now);
    this.version++;
  }

  stage(app: InboundApp, records: { bulkId: string; data: Json }[], now: number): void {
    const capacity = app.config.stagingCapacity;
    if (capacity !== null && app.staged.length + records.length > capacity)
      throw new GraphError(
        500,
        'generalException',
        'The bucket that stores the ingested data is full, please wait for the synchronization service to process the ingested data and retry this request.',
      );
    for (const r of records) app.staged.push({ stagedAt: now, bulkId: r.bulkId, data: structuredClone(r.data) });
    this.version++;
  }

  /**
   * The inbound part of a saved tenant. It shares the staged records and log entries with the live
   * state: serialise it at once (writeSavedTenant does), no copy first.
   */
  toSeed(): Pick<SeedObject, 'inboundApps' | 'provisioningLogs' | 'inboundCalls'> {
    return {
      inboundApps: [...this.apps.values()].map((a) => ({ ...a.config, staged: a.staged, stateChangedAt: a.stateChangedAt })),
      provisioningLogs: this.logs,
      inboundCalls: this.calls,
    };
  }

  private normalise(input: Partial<InboundAppConfig>, previous: InboundAppConfig | undefined): InboundAppConfig {
    const target = input.target ?? previous?.target;
    if (target !== 'entra' && target !== 'ad') throw new Error("target must be 'entra' or 'ad'");
    const state = input.state ?? 'Active';
    if (!STATES.has(state)) throw new Error(`state must be one of ${[...STATES].join(', ')}`);
    const quarantineReason = state === 'Quarantine' ? (input.quarantineReason ?? 'EncounteredQuarantineException') : null;
    if (quarantineReason !== null && !QUARANTINE_REASONS.has(quarantineReason))
      throw new Error(`quarantineReason must be one of ${[...QUARANTINE_REASONS].join(', ')}`);
    const positive = (name: string, v: unknown, dflt: number) => {
      const n = v === undefined ? dflt : v;
      if (typeof n !== 'number' || !(n >= 0) || !Number.isFinite(n)) throw new Error(`${name} must be a non-negative number`);
      return n;
    };
    const matching = input.matching ?? { source: 'externalId', target: 'employeeId' };
    if (typeof matching !== 'object' || typeof matching.source !== 'string' || !userSchema.properties.has(matching.target))
      throw new Error('matching needs a SCIM source attribute and a Graph user property as target');
    const mappings = input.mappings ?? {};
    if (typeof mappings !== 'object' || Array.isArray(mappings)) throw new Error('mappings must be an object of SCIM source -> Graph user property');
    for (const [source, prop] of Object.entries(mappings)) {
      if (!userSchema.properties.has(prop) || userSchema.readOnly.has(prop)) throw new Error(`mapping ${source}: '${prop}' is not a writable user property`);
    }
    const hex = this.tenantId.replace(/-/g, '');
    const recordsPerMinute = positive('recordsPerMinute', input.recordsPerMinute, 100);
    if (recordsPerMinute === 0) throw new Error('recordsPerMinute must be positive');
    return {
      servicePrincipalId: input.servicePrincipalId ?? randomUUID(),
      jobId: input.jobId ?? `${target === 'ad' ? 'API2AD' : 'API2AAD'}.${hex}.${randomUUID()}`,
      displayName:
        input.displayName ?? (target === 'ad' ? 'API-driven provisioning to on-premises Active Directory' : 'API-driven provisioning to Microsoft Entra ID'),
      target,
      matching: { source: matching.source, target: matching.target },
      state,
      quarantineReason,
      agentActive: input.agentActive ?? true,
      processingDelayMs: positive('processingDelayMs', input.processingDelayMs, 0),
      logDelayMs: positive('logDelayMs', input.logDelayMs, 5 * 60 * 1000),
      logDelayJitterMs: positive('logDelayJitterMs', input.logDelayJitterMs, 0),
      recordsPerMinute,
      dailyQuota: positive('dailyQuota', input.dailyQuota, 2000),
      stagingCapacity: input.stagingCapacity === undefined || input.stagingCapacity === null ? null : positive('stagingCapacity', input.stagingCapacity, 0),
      adOu: input.adOu ?? 'OU=Users,DC=contoso,DC=com',
      mappings: { ...mappings },
    };
  }
}

const key = (sp: string, job: string) => `${sp.toLowerCase()} ${job}`;

function appRuns(config: InboundAppConfig): boolean {
  return config.state === 'Active' && (config.target !== 'ad' || config.agentActive);
}

/** The public view of an app's job status (synchronizationStatus), for GET .../jobs/{id}. */
export function jobStatus(app: InboundApp): Json {
  const c = app.config;
  const iso = (ms: number) => new Date(ms).toISOString().slice(0, 19) + 'Z';
  const agentDown = c.target === 'ad' && !c.agentActive && app.agentFailedAt !== undefined;
  return {
    code: c.state,
    countSuccessiveCompleteFailures: agentDown ? 1 : 0,
    escrowsPruned: false,
    lastExecution: agentDown
      ? {
          activityIdentifier: null,
          countEntitled: 0,
          countEntitledForProvisioning: 0,
          countEscrowed: 0,
          countEscrowedRaw: 0,
          countExported: 0,
          countExports: 0,
          countImported: 0,
          countImportedDeltas: 0,
          countImportedReferenceDeltas: 0,
          state: 'Failed',
          error: { code: 'AgentUnavailable', message: 'The on-premises provisioning agent is inactive.', tenantActionable: true },
          timeBegan: iso(app.agentFailedAt!),
          timeEnded: iso(app.agentFailedAt!),
        }
      : null,
    lastSuccessfulExecution: null,
    lastSuccessfulExecutionWithExports: null,
    progress: [],
    quarantine:
      c.state === 'Quarantine'
        ? {
            currentBegan: iso(app.stateChangedAt),
            nextAttempt: iso(app.stateChangedAt + 40 * 60 * 1000),
            reason: c.quarantineReason,
            seriesBegan: iso(app.stateChangedAt),
            seriesCount: 1,
            error: null,
          }
        : null,
    steadyStateFirstAchievedTime: '0001-01-01T00:00:00Z',
    steadyStateLastAchievedTime: '0001-01-01T00:00:00Z',
    synchronizedEntryCountByType: [],
    troubleshootingUrl: null,
  };
}

// ---- Processing.

/**
 * Processes the records that are due (processingDelayMs after their 202, within each app's
 * recordsPerMinute) of every running app, or with `force` every staged record of the apps `only`
 * accepts, regardless of delay and rate (paused, quarantined and agent-less apps still wait); each
 * leaves a log entry readable logDelayMs later (at once when forced). Drops entries older than 30 days.
 * Returns how many records were processed.
 *
 * The service runs whether or not anyone looks: each record is processed at the time it would have
 * been (its due time, or when the rate's token bucket next holds a token, or when the job became
 * active), not at the time of this call, and that is the time its log entry and its user carry. So
 * a pass after a long gap (a discrete-event clock that jumps hours) has processed just as much as
 * passes every second would have: the bucket's one-minute burst is not all a gap earns.
 */
export function advanceInbound(dir: Directory, now: number, options: { force?: boolean; only?: (c: InboundAppConfig) => boolean } = {}): number {
  const state = dir.inbound;
  // Entra keeps activity logs 30 days with P1/P2, which inbound provisioning needs (Microsoft Entra data retention).
  let expired = 0;
  while (expired < state.logs.length && Date.parse(String(state.logs[expired].entry.activityDateTime)) < now - LOG_RETENTION_MS) expired++;
  if (expired) {
    state.logs.splice(0, expired);
    state.version++;
  }
  // A forced pass also writes the log entries of what it processes (and of what waits to be written) at once.
  if (options.force) {
    const jobs = new Set([...state.apps.values()].filter((a) => !options.only || options.only(a.config)).map((a) => a.config.jobId));
    for (const l of state.logs) if (l.visibleAt > now && (!options.only || jobs.has(String(l.entry.jobId)))) l.visibleAt = now;
  }
  let processed = 0;
  for (const app of state.apps.values()) {
    if (!app.staged.length || (options.only && !options.only(app.config))) continue;
    const c = app.config;
    if (!appRuns(c)) {
      if (c.target === 'ad' && c.state === 'Active' && !c.agentActive && app.staged[0].stagedAt + c.processingDelayMs <= now) app.agentFailedAt ??= now;
      continue;
    }
    app.agentFailedAt = undefined;
    const perMs = c.recordsPerMinute / 60000;
    // A service idle until the first record fell due holds a full minute's budget then.
    const bucket = (app.bucket ??= { tokens: c.recordsPerMinute, at: Math.min(now, app.staged[0].stagedAt + c.processingDelayMs) });
    let index: Map<string, UserObject> | undefined;
    const cycleId = randomUUID();
    // A mapping onto the matching property can move a user in the index: rebuild each pass then.
    const cached = app.index && app.index.dir === dir && app.index.seq === dir.currentSeq && !Object.values(c.mappings).includes(c.matching.target);
    // Taken from the front in one splice at the end: shift() per record is quadratic on a large queue.
    let done = 0;
    try {
      while (done < app.staged.length) {
        const rec = app.staged[done];
        let at = now;
        if (!options.force) {
          // When the service gets to this record: due, the job running, and a token in the bucket.
          at = Math.max(rec.stagedAt + c.processingDelayMs, bucket.at, app.stateChangedAt);
          let tokens = Math.min(c.recordsPerMinute, bucket.tokens + (at - bucket.at) * perMs);
          if (tokens < 1) {
            at += Math.ceil((1 - tokens) / perMs);
            tokens = 1; // what the whole milliseconds waited refill, rounding aside
          }
          if (at > now) break;
          bucket.tokens = tokens - 1;
          bucket.at = at;
        }
        index ??= cached ? app.index!.map : matchIndex(dir, c);
        done++;
        const entry = processRecord(dir, c, rec, at, cycleId, index);
        const jitter = c.logDelayJitterMs ? (((state.logs.length * 7919) % 1000) / 1000) * c.logDelayJitterMs : 0;
        state.logs.push({ visibleAt: options.force ? now : at + c.logDelayMs + Math.round(jitter), entry });
      }
    } finally {
      app.staged.splice(0, done);
      processed += done;
    }
    if (index) app.index = { map: index, seq: dir.currentSeq, dir };
  }
  if (processed) state.version++;
  return processed;
}

function matchIndex(dir: Directory, c: InboundAppConfig): Map<string, UserObject> {
  const index = new Map<string, UserObject>();
  for (const u of dir.users.values()) {
    // The AD app matches in AD: only users synced from on-premises are there.
    if (c.target === 'ad' && u.props.onPremisesSyncEnabled !== true) continue;
    const v = u.props[c.matching.target];
    if (typeof v === 'string' && v !== '') index.set(v, u);
  }
  return index;
}

/** A value of a SCIM record: a core attribute ("name.givenName"), or "<schema URN>:<attribute>". */
function sourceValue(data: Json, path: string): unknown {
  if (path.startsWith('urn:')) {
    const at = path.lastIndexOf(':');
    const ext = data[path.slice(0, at)];
    return ext && typeof ext === 'object' ? (ext as Json)[path.slice(at + 1)] : undefined;
  }
  let v: unknown = data;
  for (const part of path.split('.')) v = v && typeof v === 'object' ? (v as Json)[part] : undefined;
  return v;
}

const entryOfType = (list: unknown, type: string): Json | undefined =>
  Array.isArray(list) ? (list.find((e) => e && typeof e === 'object' && (e as Json).type === type) as Json | undefined) : undefined;

interface Mapped {
  props: Json;
  /** The manager's matching value (enterprise manager.value), when sent. */
  manager?: string;
}

// The default attribute mapping. Null and empty values are not flowed: clearing attributes is an
// opt-in (preview) setting of the app that the simulator does not model.
function mapRecord(data: Json, c: InboundAppConfig): Mapped {
  const props: Json = {};
  const set = (prop: string, v: unknown) => {
    if (v !== undefined && v !== null && v !== '') props[prop] = v;
  };
  const userName = typeof data.userName === 'string' ? data.userName : undefined;
  set('userPrincipalName', userName);
  if (userName) set('mailNickname', userName.split('@')[0].replace(/[^\x21-\x7e]|[@()\\[\]";:<>,]/g, ''));
  if (typeof data.active === 'boolean') props.accountEnabled = data.active;
  set('displayName', data.displayName);
  set('givenName', sourceValue(data, 'name.givenName'));
  set('surname', sourceValue(data, 'name.familyName'));
  set('jobTitle', data.title);
  set('employeeType', data.userType);
  set('preferredLanguage', data.preferredLanguage);
  set('mail', entryOfType(data.emails, 'work')?.value);
  const phone = entryOfType(data.phoneNumbers, 'work')?.value;
  if (typeof phone === 'string' && phone) props.businessPhones = [phone];
  set('mobilePhone', entryOfType(data.phoneNumbers, 'mobile')?.value);
  const address = entryOfType(data.addresses, 'work');
  if (address) {
    set('streetAddress', address.streetAddress);
    set('city', address.locality);
    set('state', address.region);
    set('postalCode', address.postalCode);
    set('country', address.country);
  }
  const ent = (data[ENTERPRISE_USER] ?? {}) as Json;
  set('department', ent.department);
  set('companyName', ent.organization);
  for (const [source, prop] of Object.entries(c.mappings)) set(prop, sourceValue(data, source));
  const manager = (ent.manager as Json | undefined)?.value;
  return { props, ...(typeof manager === 'string' && manager ? { manager } : {}) };
}

interface Outcome {
  action: 'create' | 'update' | 'disable' | 'other';
  status: 'success' | 'skipped' | 'failure';
  error?: { errorCode: string; reason: string; errorCategory: string };
  target?: UserObject;
  modified: { displayName: string; oldValue: string | null; newValue: string | null }[];
}

const text = (v: unknown): string | null => (v === undefined || v === null ? null : typeof v === 'string' ? v : JSON.stringify(v));
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 19) + 'Z';
const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

function processRecord(dir: Directory, c: InboundAppConfig, rec: StagedRecord, now: number, cycleId: string, index: Map<string, UserObject>): Json {
  const data = rec.data;
  const matchValue = sourceValue(data, c.matching.source);
  const externalId = typeof matchValue === 'string' ? matchValue : '';
  const mapped = mapRecord(data, c);
  const existing = externalId ? index.get(externalId) : undefined;
  let outcome: Outcome;
  const forced = externalId ? dir.inbound.failures.get(externalId) : undefined;
  if (forced) {
    if (--forced.times <= 0) dir.inbound.failures.delete(externalId);
    const action = existing ? (mapped.props.accountEnabled === false && existing.props.accountEnabled !== false ? 'disable' : 'update') : 'create';
    outcome = { action, status: 'failure', error: { errorCode: forced.errorCode, reason: forced.reason, errorCategory: forced.errorCategory }, modified: [] };
  } else if (!externalId) {
    outcome = failure('other', 'InvalidMatchingAttributeValue', `The record has no value for the matching attribute '${c.matching.source}'.`);
  } else if (!existing) {
    outcome =
      mapped.props.accountEnabled === false
        ? skip('NotEffectivelyEntitled', 'The user is not active and does not exist in the target.')
        : create(dir, c, mapped, externalId, now, index);
  } else {
    outcome = update(dir, c, existing, mapped, now, index);
  }
  return logEntry(dir, c, rec, now, cycleId, externalId, outcome);
}

function failure(action: Outcome['action'], errorCode: string, reason: string, errorCategory = 'nonServiceFailure'): Outcome {
  return { action, status: 'failure', error: { errorCode, reason, errorCategory }, modified: [] };
}

function skip(errorCode: string, reason: string): Outcome {
  return { action: 'other', status: 'skipped', error: { errorCode, reason, errorCategory: 'success' }, modified: [] };
}

function targetName(c: InboundAppConfig): string {
  return c.target === 'ad' ? 'Active Directory' : 'Microsoft Entra ID';
}

function valueProblem(props: Json): string | null {
  try {
    checkUserValues(props);
    return null;
  } catch (err) {
    if (err instanceof GraphError) return err.message;
    throw err;
  }
}

function create(dir: Directory, c: InboundAppConfig, mapped: Mapped, externalId: string, now: number, index: Map<string, UserObject>): Outcome {
  const props = { ...mapped.props, [c.matching.target]: externalId };
  const upn = typeof props.userPrincipalName === 'string' ? props.userPrincipalName : '';
  const upnIssue = upnProblem(dir, upn);
  if (upnIssue)
    return failure('create', 'AzureActiveDirectoryInvalidUserPrincipalName', `Failed to create User '${externalId}' in ${targetName(c)}: ${upnIssue}`);
  if (typeof props.displayName !== 'string')
    return failure(
      'create',
      'AzureActiveDirectoryRequiredPropertyMissing',
      `Failed to create User '${externalId}' in ${targetName(c)}: displayName is required.`,
    );
  const problem = valueProblem(props);
  if (problem) return failure('create', 'AzureActiveDirectoryInvalidValue', `Failed to create User '${externalId}' in ${targetName(c)}: ${problem}`);
  const mailIssue = mailProblem(dir, props.mail);
  if (mailIssue) return failure('create', 'AzureActiveDirectoryConflict', `Failed to create User '${externalId}' in ${targetName(c)}: ${mailIssue}`);
  const created = iso(now);
  const id = randomUUID();
  const onPrem: Json =
    c.target === 'ad'
      ? {
          onPremisesSyncEnabled: true,
          onPremisesImmutableId: randomBytes(16).toString('base64'),
          onPremisesSamAccountName: upn.split('@')[0].slice(0, 20),
          onPremisesUserPrincipalName: upn,
          onPremisesDistinguishedName: `CN=${props.displayName},${c.adOu}`,
          onPremisesDomainName: domainOf(c.adOu),
          onPremisesLastSyncDateTime: created,
        }
      : { onPremisesSyncEnabled: null, onPremisesLastSyncDateTime: null };
  const user: UserObject = {
    kind: 'user',
    id,
    // The provisioning service sets a random password; nobody is told it.
    password: randomBytes(18).toString('base64url') + 'aA1!',
    seq: 0,
    props: { accountEnabled: true, ...newUserProps(props, created), ...onPrem, id },
  };
  dir.addUser(user);
  index.set(externalId, user);
  const modified = Object.keys(props)
    .sort()
    .map((k) => ({ displayName: k, oldValue: null, newValue: text(props[k]) }));
  const manager = mapped.manager ? index.get(mapped.manager) : undefined;
  if (manager) {
    user.managerId = manager.id;
    modified.push({ displayName: 'manager', oldValue: null, newValue: manager.id });
  }
  return { action: 'create', status: 'success', target: user, modified };
}

function domainOf(ou: string): string {
  return [...ou.matchAll(/DC=([^,]+)/gi)].map((m) => m[1]).join('.');
}

function update(dir: Directory, c: InboundAppConfig, user: UserObject, mapped: Mapped, now: number, index: Map<string, UserObject>): Outcome {
  const changes = Object.entries(mapped.props).filter(([k, v]) => !same(user.props[k], v));
  const manager = mapped.manager ? index.get(mapped.manager) : undefined;
  const managerChanges = manager !== undefined && manager.id !== user.managerId;
  if (!changes.length && !managerChanges) return skip('RedundantExport', 'No changes to apply: the user in the target already has these values.');
  const action = mapped.props.accountEnabled === false && user.props.accountEnabled !== false ? 'disable' : 'update';
  // The Entra app writes Entra: a user mastered on-premises refuses the write, as Graph does.
  if (c.target === 'entra' && user.props.onPremisesSyncEnabled === true)
    return {
      ...failure(
        action,
        'AzureActiveDirectoryCannotUpdateObjectsMasteredOnPremises',
        'Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.',
      ),
      target: user,
    };
  const upn = mapped.props.userPrincipalName;
  if (typeof upn === 'string' && upn.toLowerCase() !== String(user.props.userPrincipalName).toLowerCase()) {
    const issue = upnProblem(dir, upn, user.id);
    if (issue)
      return { ...failure(action, 'AzureActiveDirectoryInvalidUserPrincipalName', `Failed to update User in ${targetName(c)}: ${issue}`), target: user };
  }
  const problem = valueProblem(Object.fromEntries(changes));
  if (problem) return { ...failure(action, 'AzureActiveDirectoryInvalidValue', `Failed to update User in ${targetName(c)}: ${problem}`), target: user };
  const mailIssue = changes.some(([k]) => k === 'mail') ? mailProblem(dir, mapped.props.mail, user.id) : null;
  if (mailIssue) return { ...failure(action, 'AzureActiveDirectoryConflict', `Failed to update User in ${targetName(c)}: ${mailIssue}`), target: user };
  const modified = changes
    .map(([k, v]) => ({ displayName: k, oldValue: text(user.props[k]), newValue: text(v) }))
    .sort((a, b) => a.displayName.localeCompare(b.displayName));
  for (const [k, v] of changes) {
    if (k === 'userPrincipalName') {
      dir.renameUser(user, String(v));
      if (c.target === 'ad') user.props.onPremisesUserPrincipalName = v;
    } else if (k === 'mail') setUserMail(dir, user, String(v));
    else user.props[k] = v;
  }
  if (managerChanges) {
    modified.push({ displayName: 'manager', oldValue: user.managerId ?? null, newValue: manager.id });
    user.managerId = manager.id;
  }
  if (c.target === 'ad') user.props.onPremisesLastSyncDateTime = iso(now);
  dir.touch(user);
  return { action, status: 'success', target: user, modified };
}

const STEP_NAMES: Record<Outcome['action'], [string, string]> = {
  create: ['EntrySynchronizationAdd', 'EntryExportAdd'],
  update: ['EntrySynchronizationUpdate', 'EntryExportUpdate'],
  disable: ['EntrySynchronizationUpdate', 'EntryExportUpdate'],
  other: ['EntrySynchronizationSkip', 'EntryExportSkip'],
};

function logEntry(dir: Directory, c: InboundAppConfig, rec: StagedRecord, now: number, cycleId: string, externalId: string, o: Outcome): Json {
  const displayName = typeof rec.data.displayName === 'string' ? rec.data.displayName : '';
  const targetId = o.target ? (c.target === 'ad' ? guidOf(String(o.target.props.onPremisesImmutableId)) : o.target.id) : '';
  const [matchStep, exportStep] = STEP_NAMES[o.action];
  const where = targetName(c);
  const steps: Json[] = [
    { name: 'EntryImport', provisioningStepType: 'import', status: 'success', description: `Received User '${externalId}' from API`, details: {} },
  ];
  if (o.status === 'skipped') {
    steps.push({ name: matchStep, provisioningStepType: 'matching', status: 'skipped', description: o.error!.reason, details: {} });
  } else {
    const verb = o.action === 'create' ? 'created' : o.action === 'disable' ? 'disabled' : 'updated';
    const matchText =
      o.action === 'create'
        ? `User '${externalId}' will be created in ${where} (no matching User was found in ${where})`
        : `User '${externalId}' will be ${verb} in ${where} (a matching User was found by ${c.matching.target})`;
    steps.push({ name: matchStep, provisioningStepType: 'matching', status: 'success', description: matchText, details: {} });
    steps.push({
      name: exportStep,
      provisioningStepType: 'export',
      status: o.status,
      description: o.status === 'success' ? `User '${externalId}' was ${verb} in ${where}` : `Failed to ${o.action} User '${externalId}' in ${where}`,
      details: {},
    });
  }
  return {
    id: randomUUID(),
    activityDateTime: iso(now),
    tenantId: dir.tenantId,
    jobId: c.jobId,
    cycleId,
    changeId: randomUUID(),
    provisioningAction: o.action,
    durationInMilliseconds: Math.round(60000 / c.recordsPerMinute),
    initiatedBy: { id: '', displayName: 'Azure AD Provisioning Service', initiatorType: 'system' },
    servicePrincipal: { id: c.servicePrincipalId, displayName: c.displayName },
    sourceSystem: { id: c.servicePrincipalId, displayName: 'API', details: {} },
    targetSystem: { id: dir.tenantId, displayName: where, details: {} },
    sourceIdentity: { id: externalId, displayName, identityType: 'User', details: {} },
    targetIdentity: { id: targetId, displayName: o.target ? String(o.target.props.displayName ?? '') : displayName, identityType: 'User', details: {} },
    modifiedProperties: o.status === 'success' ? o.modified : [],
    provisioningSteps: steps,
    provisioningStatusInfo: {
      status: o.status,
      errorInformation: o.error
        ? { errorCode: o.error.errorCode, reason: o.error.reason, additionalDetails: null, errorCategory: o.error.errorCategory, recommendedAction: null }
        : null,
    },
  };
}

/** The AD objectGUID whose base64 is the onPremisesImmutableId (Entra Connect's sourceAnchor). */
function guidOf(immutableId: string): string {
  const b = Buffer.from(immutableId, 'base64');
  if (b.length !== 16) return '';
  const h = b.toString('hex');
  // objectGUID bytes are little-endian for the first three groups.
  const le = (s: string) => s.match(/../g)!.reverse().join('');
  return `${le(h.slice(0, 8))}-${le(h.slice(8, 12))}-${le(h.slice(12, 16))}-${h.slice(16, 20)}-${h.slice(20)}`;
}
