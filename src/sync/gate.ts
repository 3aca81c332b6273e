// The preflight gate (SPEC section 6) and the tenant switch (section 5): preflight blocks every
// row with its reasons, or lifts the block once the tenant is fit; the switch
// PATCH /organization/{id} {onPremisesSyncEnabled:true} is sent once, only when allowed.
import { dirSyncEnabledFor } from '../rules/identity';
import { organizationRequests } from '../graph/requests';
import type { EngineContext } from './context';
import { type PreflightResult, runPreflight } from './preflight';

const TENANT_SWITCH_KEY = 'tenant.dirSyncEnabledByBridge';

export interface Gate {
  check(): Promise<PreflightResult>;
  result(): PreflightResult | null;
  checkedAt(): number;
  ensureTenantSwitch(): Promise<void>;
}

export function createGate(ctx: EngineContext): Gate {
  const { config, store, logger, clock } = ctx;
  let last: PreflightResult | null = null;
  let at = -Infinity;
  const nowIso = () => new Date(clock.now()).toISOString();

  async function check(): Promise<PreflightResult> {
    const tenantSwitchEnabledByBridge = ctx.queries.getMeta(TENANT_SWITCH_KEY) === 'true';
    const { facts, ...pf } = await runPreflight({ config, graph: ctx.graph, tenantSwitchEnabledByBridge, now: () => new Date(clock.now()) }, ctx.mode);
    at = clock.now();
    if (!facts && pf.unreachable) {
      // Graph unreachable: nothing is known to be wrong with the tenant; try again on the next run.
      logger.warn({ reasons: pf.blocked }, 'preflight could not read the tenant');
      return (last = pf);
    }
    if (facts) ctx.facts = facts;
    const wasBlocked = store.sync.blockedReason() !== null;
    if (!pf.ok) {
      store.sync.markBlocked(pf.blocked.join('; '));
      if (!wasBlocked || last?.blocked.join() !== pf.blocked.join()) ctx.emit({ type: 'blocked', reasons: pf.blocked, at: nowIso() });
      logger.error({ reasons: pf.blocked }, 'preflight blocked the sync engine');
    } else if (wasBlocked) {
      store.sync.unblockAll();
      ctx.emit({ type: 'unblocked', at: nowIso() });
    }
    for (const w of pf.warnings) logger.warn({ warning: w }, 'preflight warning');
    return (last = pf);
  }

  async function ensureTenantSwitch(): Promise<void> {
    const f = ctx.facts;
    if (!dirSyncEnabledFor(ctx.mode) || f.tenantSyncEnabled || !f.organizationId || !config.graph.allowTenantDirSync) return;
    const out = await ctx.exec.run([{ id: 'org', ...organizationRequests.enableDirSync(f.organizationId), write: true }]);
    const o = out.get('org');
    if (o?.kind !== 'ok') throw new Error(`enabling organization.onPremisesSyncEnabled failed: ${o && 'message' in o ? o.message : 'no answer'}`);
    ctx.queries.setMeta(TENANT_SWITCH_KEY, 'true');
    f.tenantSyncEnabled = true;
    store.audit.append({ action: 'sync.tenant.dirSyncEnabled', resourceType: 'Organization', resourceId: f.organizationId, detail: { onPremisesSyncEnabled: true } });
    ctx.emit({ type: 'tenant-dirsync-enabled', organizationId: f.organizationId, at: nowIso() });
  }

  return { check, result: () => last, checkedAt: () => at, ensureTenantSwitch };
}
