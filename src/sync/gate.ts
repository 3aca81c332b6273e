// The preflight gate (SPEC section 6) and the tenant switch (section 5): preflight blocks every
// row with its reasons, or lifts the block once the tenant is fit; the switch
// PATCH /organization/{id} {onPremisesSyncEnabled:true} is sent once, only when allowed.
import { dirSyncEnabledFor, syncedThroughAd } from '../rules/identity';
import { organizationRequests } from '../graph/requests';
import type { EngineContext } from './context';
import { type PreflightResult, runPreflight } from './preflight';

const TENANT_SWITCH_KEY = 'tenant.dirSyncEnabledByBridge';
/** Graph refused the switch: {reason, config} until `retry` or a config change. */
export const TENANT_SWITCH_REFUSED_KEY = 'tenant.dirSyncRefused';

export interface Gate {
  check(): Promise<PreflightResult>;
  result(): PreflightResult | null;
  checkedAt(): number;
  /** Sends the switch when due; Graph's refusal blocks the engine with its reason (returned). */
  ensureTenantSwitch(): Promise<string | null>;
  /** Forget the last result: the next run checks again. */
  invalidate(): void;
}

export function createGate(ctx: EngineContext): Gate {
  const { config, store, logger, clock } = ctx;
  let last: PreflightResult | null = null;
  let at = -Infinity;
  const nowIso = () => new Date(clock.now()).toISOString();

  // What the refusal depends on: another mode, tenant, app or allowTenantDirSync makes it stale.
  const switchConfig = () => JSON.stringify([ctx.mode, config.graph.tenantId ?? null, config.graph.clientId ?? null, config.graph.allowTenantDirSync]);
  const switchRefused = (): string | null => {
    const raw = ctx.queries.getMeta(TENANT_SWITCH_REFUSED_KEY);
    if (!raw) return null;
    const saved = JSON.parse(raw) as { reason: string; config: string };
    return saved.config === switchConfig() ? saved.reason : null;
  };

  async function check(): Promise<PreflightResult> {
    const tenantSwitchEnabledByBridge = ctx.queries.getMeta(TENANT_SWITCH_KEY) === 'true';
    const { facts, ...result } = await runPreflight({ config, graph: ctx.graph, tenantSwitchEnabledByBridge, now: () => new Date(clock.now()) }, ctx.mode);
    const refused = facts && !facts.tenantSyncEnabled ? switchRefused() : null;
    const pf = refused ? { ...result, ok: false, blocked: [...result.blocked, refused] } : result;
    at = clock.now();
    if (!facts && pf.unreachable) {
      // Graph unreachable: nothing is known to be wrong with the tenant; try again on the next run.
      logger.warn({ reasons: pf.blocked }, 'preflight could not read the tenant');
      return (last = pf);
    }
    if (facts) ctx.facts = facts;
    // A what-if (preflight, plan) answers and records nothing.
    if (ctx.readOnly) return (last = pf);
    const wasBlocked = store.sync.blockedReason() !== null;
    if (!pf.ok) {
      store.sync.markBlocked(pf.blocked.join('; '));
      if (!wasBlocked || last?.blocked.join() !== pf.blocked.join()) ctx.emit({ type: 'blocked', reasons: pf.blocked, at: nowIso() });
      logger.error({ reasons: pf.blocked }, 'preflight blocked the sync engine');
    } else {
      // Once per result that differs from the last one: a passing preflight is not repeated on every check.
      if (!last?.ok || wasBlocked) logger.info({ mode: ctx.mode, warnings: pf.warnings.length, unblocked: wasBlocked }, 'preflight passed');
      if (wasBlocked) {
        store.sync.unblockAll();
        ctx.emit({ type: 'unblocked', at: nowIso() });
      }
    }
    for (const w of pf.warnings) logger.warn({ warning: w }, 'preflight warning');
    return (last = pf);
  }

  async function ensureTenantSwitch(): Promise<string | null> {
    const f = ctx.facts;
    if (!dirSyncEnabledFor(ctx.mode) || f.tenantSyncEnabled || !f.organizationId || !config.graph.allowTenantDirSync) return null;
    // Users the inbound app creates in AD are synced by Entra Connect or Cloud Sync, which own the switch.
    if (syncedThroughAd(config, ctx.mode)) return null;
    const out = await ctx.exec.run([{ id: 'org', ...organizationRequests.enableDirSync(f.organizationId), write: true }]);
    const o = out.get('org');
    if (o?.kind === 'failed') {
      // A refusal is not transient: block with Graph's reason until `retry` or a config change.
      const hint = o.status === 403 ? '; grant Organization.ReadWrite.All (docs/graph-app.md), then run retry' : '; run retry once the tenant allows it';
      const reason = `Graph refused the tenant switch PATCH /organization/{id} {onPremisesSyncEnabled: true} (${o.status} ${o.code}: ${o.message})${hint}`;
      ctx.queries.setMeta(TENANT_SWITCH_REFUSED_KEY, JSON.stringify({ reason, config: switchConfig() }));
      const blocked = [...(last?.blocked ?? []), reason];
      last = { ...(last ?? { warnings: [], checkedAt: nowIso() }), ok: false, blocked };
      store.sync.markBlocked(blocked.join('; '));
      ctx.emit({ type: 'blocked', reasons: blocked, at: nowIso() });
      logger.error({ reasons: blocked }, 'Graph refused the tenant switch; the sync engine is blocked');
      return reason;
    }
    if (o?.kind !== 'ok') throw new Error(`enabling organization.onPremisesSyncEnabled failed: ${o && 'message' in o ? o.message : 'no answer'}`);
    ctx.queries.setMeta(TENANT_SWITCH_KEY, 'true');
    f.tenantSyncEnabled = true;
    store.audit.append({
      action: 'sync.tenant.dirSyncEnabled',
      resourceType: 'Organization',
      resourceId: f.organizationId,
      detail: { onPremisesSyncEnabled: true },
    });
    ctx.emit({ type: 'tenant-dirsync-enabled', organizationId: f.organizationId, at: nowIso() });
    return null;
  }

  return {
    check,
    result: () => last,
    checkedAt: () => at,
    ensureTenantSwitch,
    invalidate: () => {
      last = null;
    },
  };
}
