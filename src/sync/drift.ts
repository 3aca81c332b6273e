// Drift (SPEC section 8, user-sync and universal-sync): Graph's delta queries name what changed;
// a managed attribute whose Graph value differs from what the bridge last applied was changed
// outside the bridge. Each one is recorded (audit `sync.drift`: what, when, and that the change
// came from outside the bridge; Graph's delta does not say who) and reverted to the applied value.
import { groupRequests, userRequests } from '../graph/requests';
import { driftedProperties } from '../graph/diff';
import { flatten, sameValue, unflatten } from '../graph/paths';
import { managedGraphProperties } from '../graph/mapping';
import type { EngineContext } from './context';
import type { GraphOp, OpOutcome } from './ops';
import type { UserSnapshot } from './user-work';

export interface DriftSummary {
  full: boolean;
  examined: number;
  drifted: { resourceType: 'User' | 'Group'; id: string; graphId: string; attributes: string[] }[];
  reverted: number;
  errors: string[];
  /** reconcile --full: resources recorded synced though applied under another mode, queued to be diffed again. */
  requeued?: number;
}

type Found = DriftSummary['drifted'][number] & { ops: Omit<GraphOp, 'id'>[] };

const USERS_LINK = 'delta.users';
const GROUPS_LINK = 'delta.groups';

function relative(link: string): string {
  return link.replace(/^https?:\/\/[^/]+/i, '').replace(/^\/v1\.0/i, '');
}

// Graph's documented answers to a delta link it can no longer serve: 410 Gone (delta query
// overview, "synchronization reset"), or a 4xx whose code says the sync state is gone
// (syncStateNotFound for identity resources past their seven days; syncStateInvalid, resyncRequired).
const EXPIRED_CODES = /^(syncStateNotFound|syncStateInvalid|resyncRequired)$/i;

export function deltaLinkExpired(res: { status: number; body?: unknown }): boolean {
  if (res.status === 410) return true;
  if (res.status < 400 || res.status >= 500) return false;
  const code = String((res.body as { error?: { code?: unknown } } | undefined)?.error?.code ?? '');
  return EXPIRED_CODES.test(code);
}

/**
 * Follows a delta round page by page, handing each page's items to `onPage` as it arrives, so that
 * no more than one page is held at a time (a first round names every user of the tenant). A saved
 * link Graph no longer serves starts a full round: `onRestart` drops what the earlier pages gave.
 */
async function readDelta(
  ctx: EngineContext,
  saved: string,
  initial: string,
  key: string,
  onPage: (items: Record<string, unknown>[]) => void,
  onRestart: () => void,
): Promise<void> {
  let url: string | null = saved || initial;
  let restarted = !saved;
  while (url) {
    const res = await ctx.graph.send({ method: 'GET', url, write: false });
    // Any other 400 to a saved link (a token Graph no longer understands) is treated the same way:
    // a full round costs reads, a stopped drift check costs correctness.
    if (!restarted && (deltaLinkExpired(res) || res.status === 400)) {
      // The saved link expired: a full round now (what changed meanwhile is found by comparing it all).
      ctx.logger.warn({ status: res.status, key }, 'delta link expired; starting a full round');
      ctx.queries.setMeta(key, '');
      onRestart();
      url = initial;
      restarted = true;
      continue;
    }
    if (res.status !== 200) throw new Error(`GET ${url.split('?')[0]} answered ${res.status}`);
    const body = res.body as { value?: Record<string, unknown>[]; '@odata.nextLink'?: string; '@odata.deltaLink'?: string };
    onPage(body.value ?? []);
    url = body['@odata.nextLink'] ? relative(body['@odata.nextLink']) : null;
    if (body['@odata.deltaLink']) ctx.queries.setMeta(key, relative(body['@odata.deltaLink']));
  }
}

// The managed properties Graph holds differently from what the bridge last applied (graph/diff.ts),
// each with the applied value that reverts it.
function userDrift(ctx: EngineContext, item: Record<string, unknown>, snapshot: UserSnapshot): Map<string, unknown> {
  const applied = flatten(snapshot.properties);
  return new Map(driftedProperties(snapshot, item, ctx.mode).map((path) => [path, applied.get(path) ?? null]));
}

// Licenses the bridge assigned and someone removed are assigned again; the manager the bridge set
// is set again (or removed again). Licenses assigned outside the bridge are not the bridge's.
function linkDrift(ctx: EngineContext, item: Record<string, unknown>, snapshot: UserSnapshot): { attributes: string[]; ops: Omit<GraphOp, 'id'>[] } {
  const gid = String(item.id);
  const attributes: string[] = [];
  const ops: Omit<GraphOp, 'id'>[] = [];
  if (Array.isArray(item.assignedLicenses)) {
    const have = new Set((item.assignedLicenses as { skuId?: string }[]).map((l) => String(l.skuId).toLowerCase()));
    const missing = snapshot.licenses.filter((s) => !have.has(s.toLowerCase()));
    if (missing.length) {
      attributes.push('assignedLicenses');
      ops.push({
        ...userRequests.assignLicense(gid, { addLicenses: missing.map((skuId) => ({ disabledPlans: [], skuId })), removeLicenses: [] }),
        write: true,
      });
    }
  }
  const delta = item['manager@delta'] as { id: string }[] | undefined;
  if (Array.isArray(delta) && snapshot.manager !== undefined) {
    const want = snapshot.manager ? (ctx.store.sync.get('User', snapshot.manager)?.graphId ?? null) : null;
    const now = delta[0]?.id ?? null;
    if (want !== now && (want || now)) {
      attributes.push('manager');
      ops.push(want ? { ...userRequests.setManager(ctx.graphBaseUrl, gid, want), write: true } : { ...userRequests.removeManager(gid), write: true });
    }
  }
  return { attributes, ops };
}

export async function checkDrift(ctx: EngineContext, full: boolean): Promise<DriftSummary> {
  const summary: DriftSummary = { full, examined: 0, drifted: [], reverted: 0, errors: [] };
  // manager is a navigation property: $select=manager yields manager@delta.
  const select = [...new Set(['id', 'assignedLicenses', 'manager', ...managedGraphProperties(ctx.mode).map((p) => p.split('.')[0])])];
  const saved = full ? '' : (ctx.queries.getMeta(USERS_LINK) ?? '');
  const found: Found[] = [];
  // Each page is examined as it arrives; the resource an item is linked to is looked up by its Graph id.
  const examineUser = (item: Record<string, unknown>): void => {
    const id = ctx.queries.linkedTo('User', String(item.id));
    if (!id) return;
    summary.examined++;
    const row = ctx.store.sync.get('User', id);
    const snapshot = row?.appliedSnapshot as UserSnapshot | null;
    if (!row || !snapshot || snapshot.onPremisesMastered || snapshot.deprovisioned) return;
    if (item['@removed']) {
      // Deleted in Entra: restore it from the recycle bin.
      found.push({
        resourceType: 'User',
        id,
        graphId: String(item.id),
        attributes: ['deleted'],
        ops: [{ method: 'POST', url: `/directory/deletedItems/${encodeURIComponent(String(item.id))}/restore`, body: {}, write: true }],
      });
      return;
    }
    const revert = userDrift(ctx, item, snapshot);
    const links = linkDrift(ctx, item, snapshot);
    if (!revert.size && !links.ops.length) return;
    const ops: Omit<GraphOp, 'id'>[] = revert.size ? [{ ...userRequests.patch(String(item.id), unflatten(revert)), write: true }] : [];
    found.push({ resourceType: 'User', id, graphId: String(item.id), attributes: [...revert.keys(), ...links.attributes], ops: [...ops, ...links.ops] });
  };
  try {
    await readDelta(
      ctx,
      saved,
      `/users/delta?$select=${select.join(',')}`,
      USERS_LINK,
      (items) => items.forEach(examineUser),
      () => {
        found.length = 0;
        summary.examined = 0;
      },
    );
  } catch (err) {
    summary.errors.push(`users: ${(err as Error).message}`);
  }
  if (ctx.mode === 'universal-sync') await groupDrift(ctx, full, found, summary);
  const ops: GraphOp[] = found.flatMap((d, i) => d.ops.map((op, j) => ({ ...op, id: `${i}-${j}` })));
  // graph.dryRun: drift is found and recorded, but no revert is sent, so none is recorded as done.
  const dryRun = ctx.config.graph.dryRun;
  for (const op of dryRun ? ops : []) ctx.logger.info({ method: op.method, url: op.url.split('?')[0] }, 'dry run: planned drift revert');
  const out = dryRun ? new Map<string, OpOutcome>() : await ctx.exec.run(ops);
  found.forEach((d, i) => {
    const bad = d.ops.map((_, j) => out.get(`${i}-${j}`)).find((o) => o?.kind !== 'ok');
    const reverted = !dryRun && !bad;
    if (reverted) summary.reverted++;
    else if (!dryRun) summary.errors.push(`${d.resourceType} ${d.id}: revert failed: ${bad ? (bad as { message: string }).message : 'no answer'}`);
    const at = new Date(ctx.clock.now()).toISOString();
    ctx.store.audit.append({
      action: 'sync.drift',
      resourceType: d.resourceType,
      resourceId: d.id,
      detail: {
        graphId: d.graphId,
        attributes: d.attributes,
        changedBy: 'outside the bridge (Graph delta)',
        detectedAt: at,
        reverted,
        ...(dryRun ? { dryRun } : {}),
      },
    });
    ctx.emit({ type: 'drift', resourceType: d.resourceType, id: d.id, graphId: d.graphId, attributes: d.attributes, at });
  });
  summary.drifted = found.map(({ ops: _ops, ...d }) => d);
  return summary;
}

// Groups: property changes are reverted; members the bridge added and someone removed are added
// back (marked pending again); members added outside the bridge to a bridge group are removed.
async function groupDrift(ctx: EngineContext, full: boolean, found: Found[], summary: DriftSummary): Promise<void> {
  const saved = full ? '' : (ctx.queries.getMeta(GROUPS_LINK) ?? '');
  try {
    // Groups are few: their round is read whole before it is examined (the examination writes to the store).
    const items: Record<string, unknown>[] = [];
    await readDelta(
      ctx,
      saved,
      '/groups/delta?$select=id,displayName,description,members',
      GROUPS_LINK,
      (page) => items.push(...page),
      () => (items.length = 0),
    );
    for (const item of items) {
      const id = ctx.queries.linkedTo('Group', String(item.id));
      if (!id || item['@removed']) continue;
      summary.examined++;
      const snapshot = ctx.store.sync.get('Group', id)?.appliedSnapshot as { properties: Record<string, unknown> } | null;
      const attributes: string[] = [];
      const revert: Record<string, unknown> = {};
      for (const key of ['displayName', 'description']) {
        if (snapshot && key in item && key in snapshot.properties && !sameValue(item[key] ?? null, snapshot.properties[key] ?? null)) {
          revert[key] = snapshot.properties[key];
          attributes.push(key);
        }
      }
      const inGraph = new Set(ctx.queries.membersInGraph(id));
      const ops: Omit<GraphOp, 'id'>[] = Object.keys(revert).length ? [{ ...groupRequests.patch(String(item.id), revert), write: true }] : [];
      let touched = false;
      for (const m of (item['members@delta'] as { id: string; '@removed'?: unknown }[] | undefined) ?? []) {
        const scimId = ctx.queries.linkedTo('User', m.id) ?? undefined;
        if (m['@removed']) {
          if (scimId && inGraph.has(scimId)) {
            ctx.queries.memberMissingInGraph(id, scimId);
            touched = true;
            attributes.push(`members: ${scimId} removed`);
          }
        } else if (!(scimId && (inGraph.has(scimId) || ctx.store.groups.isMember(id, scimId)))) {
          ops.push({ ...groupRequests.removeMember(String(item.id), m.id), write: true });
          attributes.push(`members: ${m.id} added`);
        }
      }
      if (touched) ctx.queries.touch('Group', id);
      if (attributes.length) found.push({ resourceType: 'Group', id, graphId: String(item.id), attributes, ops });
    }
  } catch (err) {
    summary.errors.push(`groups: ${(err as Error).message}`);
  }
}
