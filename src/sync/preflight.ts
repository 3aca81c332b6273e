// Preflight (SPEC section 6): refuse what Okta's Office 365 integration refuses, each with a
// reason an operator can act on. Blocked reasons stop Graph writes; SCIM ingress carries on.
import type { Config, Mode } from '../config';
import { dirSyncEnabledFor, syncedThroughAd } from '../rules/identity';
import { isRetryableFailure } from '../graph/errors';
import { getJson, type SyncGraph } from './graph-port';
import { missingPermissions, missingReason } from '../graph/permissions';
import { inboundRequests } from '../graph/inbound';

export interface PreflightResult {
  ok: boolean;
  /** Graph could not be reached: nothing is known to be wrong with the tenant. */
  unreachable?: boolean;
  blocked: string[];
  warnings: string[];
  checkedAt: string;
}

export interface TenantFacts {
  organizationId: string | null;
  tenantSyncEnabled: boolean;
  /** Another sync engine (Entra Connect, AAD Sync, DirSync) has synchronised this tenant. */
  otherSyncEngine: boolean;
  /** skuPartNumber (upper case) and skuId (lower case) -> skuId. */
  skus: Map<string, string>;
  /** skuPartNumber as Graph spells it -> skuId. */
  skuByPart: Record<string, string>;
  /** organization.verifiedDomains of type Federated: their users need onPremisesImmutableId. */
  federatedDomains: string[];
  /** Why /subscribedSkus could not be read, when a Graph-compatible server refuses it. */
  skusUnreadable?: string;
}

export interface PreflightInput {
  config: Config;
  graph: SyncGraph;
  /** The bridge itself turned the tenant switch on (so onPremisesSyncEnabled is not another engine's). */
  tenantSwitchEnabledByBridge: boolean;
  now?: () => Date;
}

// The parts of Graph's organization and subscribedSku resources preflight reads.
interface GraphOrganization {
  id?: string;
  onPremisesSyncEnabled?: boolean | null;
  onPremisesLastSyncDateTime?: string | null;
  verifiedDomains?: { name?: string; type?: string }[];
}
interface GraphSubscribedSku {
  skuId?: string;
  skuPartNumber?: string;
}

export function writesGroups(config: Config, mode: Mode = config.mode): boolean {
  return mode === 'universal-sync' || (mode !== 'license-only' && config.groups.push);
}

export async function readTenantFacts(graph: SyncGraph, tenantSwitchEnabledByBridge: boolean): Promise<TenantFacts> {
  const org: GraphOrganization = (await getJson<{ value?: GraphOrganization[] }>(graph, '/organization')).value?.[0] ?? {};
  const tenantSyncEnabled = org.onPremisesSyncEnabled === true;
  const skus = new Map<string, string>();
  const skuByPart: Record<string, string> = {};
  let subscribed: { value?: GraphSubscribedSku[] } = {};
  let skusUnreadable: string | undefined;
  try {
    subscribed = await getJson<{ value?: GraphSubscribedSku[] }>(graph, '/subscribedSkus');
  } catch (err) {
    // A Graph stand-in without licensing still serves users: only license writes depend on this list.
    if (isRetryableFailure(err)) throw err;
    skusUnreadable = (err as Error).message;
  }
  for (const s of subscribed.value ?? []) {
    if (!s.skuId) continue;
    if (s.skuPartNumber) skuByPart[String(s.skuPartNumber)] = s.skuId;
    if (s.skuPartNumber) skus.set(String(s.skuPartNumber).toUpperCase(), s.skuId);
    skus.set(String(s.skuId).toLowerCase(), s.skuId);
  }
  return {
    organizationId: org.id ?? null,
    tenantSyncEnabled,
    otherSyncEngine: tenantSyncEnabled && Boolean(org.onPremisesLastSyncDateTime) && !tenantSwitchEnabledByBridge,
    skus,
    skuByPart,
    federatedDomains: (org.verifiedDomains ?? []).filter((d) => d.type === 'Federated' && d.name).map((d) => String(d.name)),
    ...(skusUnreadable ? { skusUnreadable } : {}),
  };
}

function configuredSkus(config: Config): { key: string; sku: string }[] {
  const list = [
    ...config.licenses.default.map((sku) => ({ key: 'licenses.default', sku })),
    ...config.licenses.skus.map((sku) => ({ key: 'licenses.skus', sku })),
  ];
  for (const [group, skus] of Object.entries(config.licenses.groups)) {
    for (const sku of skus) list.push({ key: `licenses.groups.${group}`, sku });
  }
  return list;
}

export function resolveSku(facts: Pick<TenantFacts, 'skus'>, sku: string): string | undefined {
  return facts.skus.get(sku.toUpperCase()) ?? facts.skus.get(sku.toLowerCase());
}

export async function runPreflight(input: PreflightInput, mode: Mode = input.config.mode): Promise<PreflightResult & { facts: TenantFacts | null }> {
  const { config, graph } = input;
  const blocked: string[] = [];
  const warnings: string[] = [];
  const checkedAt = (input.now?.() ?? new Date()).toISOString();
  const syncMode = dirSyncEnabledFor(mode);
  await checkRoles(input, mode, blocked, warnings);
  let facts: TenantFacts;
  try {
    facts = await readTenantFacts(graph, input.tenantSwitchEnabledByBridge);
  } catch (err) {
    const unreachable = isRetryableFailure(err);
    blocked.push(`cannot read the tenant: ${(err as Error).message}`);
    return { ok: false, ...(unreachable ? { unreachable } : {}), blocked, warnings, checkedAt, facts: null };
  }

  if (mode === 'universal-sync') {
    for (const s of config.sources) {
      for (const d of s.directories.filter((x) => x.jit)) {
        blocked.push(
          `universal-sync refuses JIT directory "${d.id}" of source "${s.id}" (sources[].directories[].jit): its users would be marked synced without an authoritative directory`,
        );
      }
    }
  }
  // The inbound app provisions into AD: Entra Connect or Cloud Sync owns sync, and is expected here.
  const realSync = syncedThroughAd(config, mode);
  if (config.graph.writer === 'inbound' && mode !== 'license-only' && config.graph.inbound) {
    const unreachable = await checkInboundJob(input, mode, blocked, warnings);
    if (unreachable) return { ok: false, unreachable: true, blocked: [unreachable], warnings, checkedAt, facts: null };
  }
  if (facts.otherSyncEngine && !realSync) {
    const msg =
      'another sync engine owns the tenant (Entra Connect, AAD Sync or DirSync): organization.onPremisesSyncEnabled is true with an onPremisesLastSyncDateTime';
    if (syncMode) blocked.push(`${msg}; ${mode} would fight it`);
    else if (mode === 'profile-sync') warnings.push(`${msg}; users mastered on-premises (onPremisesSyncEnabled true) get licenses only`);
  }
  if (syncMode && !realSync && !facts.tenantSyncEnabled && !config.graph.allowTenantDirSync) {
    blocked.push(`${mode} needs the tenant switch organization.onPremisesSyncEnabled, which is off; set graph.allowTenantDirSync to let the bridge turn it on`);
  }
  if (syncMode && !realSync) {
    if (config.graph.hybridJoin) blocked.push(`${mode} refuses a tenant with hybrid Azure AD join (graph.hybridJoin is set)`);
    else {
      try {
        const devices = await getJson<{ value: unknown[] }>(graph, "/devices?$filter=trustType eq 'ServerAd'&$select=id&$top=1");
        if ((devices.value ?? []).length > 0) blocked.push(`${mode} refuses a tenant with hybrid-joined devices (/devices with trustType 'ServerAd' exist)`);
      } catch (err) {
        // A transient failure says nothing about the tenant: try again on the next run, as for /organization.
        if (isRetryableFailure(err)) {
          return {
            ok: false,
            unreachable: true,
            blocked: [`cannot check for hybrid-joined devices: ${(err as Error).message}`],
            warnings,
            checkedAt,
            facts: null,
          };
        }
        blocked.push(`cannot check for hybrid-joined devices: ${(err as Error).message}`);
      }
    }
  }
  if (facts.skusUnreadable) warnings.push(`cannot read /subscribedSkus (${facts.skusUnreadable}): license entitlements cannot be resolved`);
  for (const { key, sku } of configuredSkus(config)) {
    if (!resolveSku(facts, sku)) blocked.push(`license "${sku}" named in ${key} is not in the tenant's /subscribedSkus`);
  }
  if (config.licenses.skus.length) {
    const allowed = new Set(config.licenses.skus.map((a) => resolveSku(facts, a)));
    for (const sku of config.licenses.default) {
      const id = resolveSku(facts, sku);
      if (id && !allowed.has(id)) blocked.push(`license "${sku}" named in licenses.default is not in licenses.skus, the only SKUs the bridge may assign`);
    }
  }
  return { ok: blocked.length === 0, blocked, warnings, checkedAt, facts };
}

// Every permission the config needs, from the table in src/graph/permissions.ts (derived from
// Microsoft's permission table): a missing one blocks with what it stops, an optional one warns.
async function checkRoles(input: PreflightInput, mode: Mode, blocked: string[], warnings: string[]): Promise<void> {
  const roles = await input.graph.tokenRoles().catch(() => null);
  if (roles === null) {
    warnings.push('cannot read the app roles of the Graph token; permissions unchecked');
    return;
  }
  for (const m of missingPermissions(roles, input.config, mode)) (m.need.optional ? warnings : blocked).push(missingReason(m, mode));
}

interface GraphSynchronizationJob {
  status?: {
    code?: string;
    quarantine?: { reason?: string } | null;
    lastExecution?: { state?: string; error?: { code?: string; message?: string } | null } | null;
  };
}

/**
 * graph.writer "inbound": the provisioning job must be running (synchronizationStatus code Active, not
 * Paused, Quarantine or NotRun) and, as far as Graph reports it, its on-premises agent reachable; records
 * sent meanwhile would only wait (inbound-provisioning-api-issues). Returns a reason when Graph could
 * not be asked (try again later).
 */
async function checkInboundJob(input: PreflightInput, mode: Mode, blocked: string[], warnings: string[]): Promise<string | null> {
  const { servicePrincipalId, jobId } = input.config.graph.inbound!;
  let job: GraphSynchronizationJob;
  try {
    job = await getJson<GraphSynchronizationJob>(input.graph, inboundRequests.job(servicePrincipalId, jobId).url);
  } catch (err) {
    if (isRetryableFailure(err)) return `cannot read the inbound provisioning job: ${(err as Error).message}`;
    const status = (err as { status?: number }).status;
    if (status === 403)
      warnings.push(`cannot read the inbound provisioning job ${jobId} (${(err as Error).message}); grant Synchronization.Read.All to let preflight check it`);
    else
      blocked.push(
        `the inbound provisioning job ${jobId} of service principal ${servicePrincipalId} cannot be read: ${(err as Error).message}; check graph.inbound`,
      );
    return null;
  }
  const code = job.status?.code ?? 'unknown';
  if (code === 'Quarantine')
    blocked.push(
      `the inbound provisioning job ${jobId} is in quarantine (${job.status?.quarantine?.reason ?? 'no reason given'}); fix it in the Entra admin center and restart provisioning`,
    );
  else if (code !== 'Active')
    blocked.push(`the inbound provisioning job ${jobId} is ${code}, not running: start provisioning in the Entra admin center; records sent now would wait`);
  const error = job.status?.lastExecution?.error;
  if (error && /agent/i.test(error.code ?? ''))
    blocked.push(
      `the inbound provisioning job ${jobId} reports its on-premises provisioning agent unavailable (${error.code}: ${error.message ?? ''}); ${mode} waits until it is active`,
    );
  return null;
}
