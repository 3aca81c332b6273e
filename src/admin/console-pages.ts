// The console's pages, rendered on the server from ConsoleData. Values from IdPs and from Graph
// only ever reach the page through the escaping `html` tag.
import type { ResourceType } from '../store';
import type { ConsoleAuditRow } from '../store/console-queries';
import type { PreflightResult } from '../sync/engine';
import { badge, clip, type Html, href, html, number, when } from './console-html';
import type { GraphLogEntry } from './graph-log';
import type { ConsoleData, ResourceDetail } from './types';

export const PAGE_SIZE = 50;
const STATES = ['pending', 'synced', 'error', 'blocked'];

// ---------- small pieces ----------

const SCHEMA_PREFIXES: [string, string][] = [
  ['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:', 'enterprise.'],
  ['urn:ietf:params:scim:schemas:extension:graphbridge:2.0:User:', 'bridge.'],
  ['urn:ietf:params:scim:schemas:extension:graphbridge:2.0:Group:', 'bridge.'],
  ['urn:ietf:params:scim:schemas:core:2.0:User:', ''],
  ['urn:ietf:params:scim:schemas:core:2.0:Group:', ''],
];

/** `urn:…:enterprise:2.0:User:department` -> `enterprise.department`; other URNs keep their last part. */
export function shortAttribute(key: string): string {
  for (const [prefix, short] of SCHEMA_PREFIXES) if (key.startsWith(prefix)) return short + key.slice(prefix.length);
  if (key.startsWith('urn:')) return key.slice(key.lastIndexOf(':') + 1);
  return key;
}

function formatValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value !== 'object') return String(value);
  if (Array.isArray(value)) {
    return value
      .map((v) => {
        if (v && typeof v === 'object' && 'value' in v) {
          const o = v as Record<string, unknown>;
          const notes = [o.type, o.primary === true ? 'primary' : undefined].filter(Boolean).join(', ');
          return `${String(o.value)}${notes ? ` (${notes})` : ''}`;
        }
        return typeof v === 'object' ? JSON.stringify(v) : String(v);
      })
      .join('; ');
  }
  const o = value as Record<string, unknown>;
  if ('value' in o && Object.keys(o).every((k) => ['value', '$ref', 'displayName', 'display'].includes(k))) return String(o.value);
  return JSON.stringify(value);
}

/** The resource as attribution keys (SPEC section 3): extension attributes by URN, single complex ones by sub-attribute. */
function attributeRows(resource: Record<string, unknown>): [string, unknown][] {
  const rows: [string, unknown][] = [];
  for (const [key, value] of Object.entries(resource)) {
    if (key === 'schemas' || key === 'id' || key === 'meta' || key === 'members' || key === 'password') continue;
    if (key.startsWith('urn:') && value && typeof value === 'object' && !Array.isArray(value)) {
      for (const [name, v] of Object.entries(value)) rows.push([`${key}:${name}`, v]);
    } else if (value && typeof value === 'object' && !Array.isArray(value) && !('value' in value)) {
      for (const [sub, v] of Object.entries(value)) rows.push([`${key}.${sub}`, v]);
    } else rows.push([key, value]);
  }
  return rows;
}

function flattenSnapshot(snapshot: unknown): [string, unknown][] {
  if (!snapshot || typeof snapshot !== 'object') return [];
  const rows: [string, unknown][] = [];
  for (const [key, value] of Object.entries(snapshot as Record<string, unknown>)) {
    if (/password/i.test(key)) continue;
    if (key === 'properties' && value && typeof value === 'object') {
      for (const [p, v] of Object.entries(value as Record<string, unknown>)) if (!/password/i.test(p)) rows.push([p, v]);
    } else rows.push([key, value]);
  }
  return rows;
}

function pager(base: string, query: Record<string, string | undefined>, page: number, total: number, noun: string): Html {
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const first = total === 0 ? 0 : (page - 1) * PAGE_SIZE + 1;
  const last = Math.min(total, page * PAGE_SIZE);
  return html`<div class="pager"><span class="count">${number(first)}–${number(last)} of ${number(total)} ${total === 1 ? noun.replace(/s$/, '') : noun}</span>
${page > 1 ? html`<a rel="prev" href="${href(base, { ...query, page: page - 1 })}">‹ Previous</a>` : ''}
<span class="muted">page ${number(page)} of ${number(pages)}</span>
${page < pages ? html`<a rel="next" href="${href(base, { ...query, page: page + 1 })}">Next ›</a>` : ''}</div>`;
}

function resourceLink(type: string | null, id: string | null, label?: string | null): Html {
  if (!id) return html``;
  if (type === 'User') return html`<a href="users/${encodeURIComponent(id)}">${label ?? id}</a>`;
  if (type === 'Group') return html`<a href="groups/${encodeURIComponent(id)}">${label ?? id}</a>`;
  return html`<span class="mono">${label ?? id}</span>`;
}

type Names = Map<string, string>;
const NO_NAMES: Names = new Map();

/** A link to a resource's page, labelled with its userName / displayName when known. */
function named(names: Names, type: string | null, id: string | null): Html {
  if (!id) return html``;
  return resourceLink(type, id, names.get(`${type}:${id}`) ?? `${type ?? ''} ${id.slice(0, 8)}`.trim());
}

function detailText(detail: unknown): string {
  if (detail === null || detail === undefined) return '';
  if (typeof detail !== 'object') return String(detail);
  return Object.entries(detail as Record<string, unknown>)
    .map(
      ([k, v]) =>
        `${k}: ${Array.isArray(v) ? v.map((x) => (typeof x === 'string' ? shortAttribute(x) : JSON.stringify(x))).join(', ') : typeof v === 'object' ? JSON.stringify(v) : String(v)}`,
    )
    .join('; ');
}

function auditTable(rows: ConsoleAuditRow[], names: Names = NO_NAMES, withResource = true): Html {
  if (!rows.length) return html`<p class="muted">No entries.</p>`;
  return html`<table><thead><tr><th>When</th><th>Action</th><th>Source</th>${withResource ? html`<th>Resource</th>` : ''}<th>Detail</th></tr></thead><tbody>
${rows.map(
  (r) =>
    html`<tr><td>${when(r.at)}</td><td class="mono nowrap">${r.action}</td><td>${r.sourceId ?? html`<span class="muted">bridge</span>`}</td>${
      withResource ? html`<td>${named(names, r.resourceType, r.resourceId)}</td>` : ''
    }<td>${clip(detailText(r.detail), 140)}</td></tr>`,
)}</tbody></table>`;
}

function graphTable(entries: GraphLogEntry[], names: Names = NO_NAMES, withResource = true): Html {
  if (!entries.length) return html`<p class="muted">No Graph requests recorded.</p>`;
  return html`<table class="graph"><thead><tr><th>When</th><th>Request</th><th>Status</th>${withResource ? html`<th>Resource</th>` : ''}<th>Graph's message</th><th class="num">ms</th></tr></thead><tbody>
${entries.map(
  (e) =>
    html`<tr><td>${when(e.at)}</td><td class="mono">${e.method} ${e.path}</td><td>${
      typeof e.status === 'number' && e.status < 400 ? badge(String(e.status)) : html`<span class="badge s-error">${e.status}</span>`
    }</td>${withResource ? html`<td>${e.resource ? html`${named(names, e.resource.type, e.resource.id)}${e.more ? ` and ${e.more} more` : ''}` : ''}</td>` : ''}<td>${clip(e.error, 120)}</td><td class="num">${e.ms}</td></tr>`,
)}</tbody></table>`;
}

function stateOptions(selected: string | undefined): Html {
  return html`<option value="">any</option>${STATES.map((s) => html`<option${s === selected ? html` selected` : ''}>${s}</option>`)}`;
}

function sourceOptions(data: ConsoleData, selected: string | undefined): Html {
  return html`<option value="">any</option>${data.sources().map((s) => html`<option${s.id === selected ? html` selected` : ''}>${s.id}</option>`)}`;
}

function actionForm(action: string, csrf: string, label: string, cls = '', extra: { confirm?: string; busy?: string } = {}): Html {
  return html`<form method="post" action="${action}"${extra.confirm ? html` data-confirm="${extra.confirm}"` : ''}><input type="hidden" name="csrf" value="${csrf}"><button type="submit" class="${cls}"${
    extra.busy ? html` data-busy="${extra.busy}"` : ''
  }>${label}</button></form>`;
}

// ---------- overview ----------

interface Check {
  name: string;
  match: RegExp;
  todo: string;
  applies?: (mode: string) => boolean;
}

const SYNC_MODES = (mode: string) => mode === 'user-sync' || mode === 'universal-sync';
const CHECKS: Check[] = [
  {
    name: 'Graph reachable, tenant readable',
    match: /cannot read the tenant|cannot check for hybrid/,
    todo: 'Check graph.tenantId, graph.clientId and the client secret or certificate, and that the bridge reaches login.microsoftonline.com and graph.microsoft.com.',
  },
  {
    name: 'App permissions of the Graph token',
    match: /app role|app roles/,
    todo: 'In the Entra admin center, add the named application permission to the app registration (API permissions) and grant admin consent.',
  },
  {
    name: 'No other sync engine on the tenant',
    match: /another sync engine/,
    todo: 'Entra Connect or Cloud Sync owns this tenant: switch it off first, or run profile-sync (users mastered on-premises then get licenses only).',
  },
  {
    name: 'Tenant directory-sync switch',
    match: /tenant switch/,
    todo: 'Set graph.allowTenantDirSync: true to let the bridge turn organization.onPremisesSyncEnabled on, or choose profile-sync.',
    applies: SYNC_MODES,
  },
  {
    name: 'No hybrid Azure AD join',
    match: /hybrid/,
    todo: 'user-sync and universal-sync cannot run beside hybrid-joined devices; use profile-sync for this tenant.',
    applies: SYNC_MODES,
  },
  {
    name: 'No JIT directory in universal-sync',
    match: /JIT directory/,
    todo: 'Remove jit from that directory of the source, or choose user-sync.',
    applies: (m) => m === 'universal-sync',
  },
  {
    name: 'Licenses named in the configuration exist',
    match: /license|subscribedSkus/i,
    todo: 'Name SKUs the tenant has (skuPartNumber or skuId as /subscribedSkus lists them) in licenses.skus and licenses.groups.',
  },
];

export function preflightChecks(
  pf: PreflightResult | null,
  mode: string,
): { name: string; result: 'pass' | 'warn' | 'block' | 'n/a' | 'not run'; messages: string[]; todo: string }[] {
  const rows = CHECKS.map((c) => {
    if (!pf) return { name: c.name, result: 'not run' as const, messages: [], todo: '' };
    if (c.applies && !c.applies(mode)) return { name: c.name, result: 'n/a' as const, messages: [`not checked in ${mode}`], todo: '' };
    const blocked = pf.blocked.filter((m) => c.match.test(m));
    const warned = pf.warnings.filter((m) => c.match.test(m));
    const result = blocked.length ? ('block' as const) : warned.length ? ('warn' as const) : ('pass' as const);
    return { name: c.name, result, messages: [...blocked, ...warned], todo: result === 'pass' ? '' : c.todo };
  });
  if (pf) {
    const other = [...pf.blocked, ...pf.warnings].filter((m) => !CHECKS.some((c) => c.match.test(m)));
    if (other.length)
      rows.push({
        name: 'Other',
        result: pf.blocked.some((m) => other.includes(m)) ? 'block' : 'warn',
        messages: other,
        todo: "See docs/console.md and the README's preflight section.",
      });
  }
  return rows;
}

function duration(seconds: number): string {
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  if (seconds < 3600) return `${Math.ceil(seconds / 60)} min`;
  return `${Math.floor(seconds / 3600)} h ${Math.ceil((seconds % 3600) / 60)} min`;
}

/** Initial-load progress: resources synced of all live ones, and the time the write budget needs for the queue. */
export function loadProgress(
  counts: Record<ResourceType, Record<string, number>>,
  queueDepth: number,
  budget: { writes: number; perSeconds: number; available: number },
) {
  const live = (t: ResourceType) => STATES.reduce((n, s) => n + (counts[t][s] ?? 0), 0);
  const total = live('User') + live('Group');
  const synced = (counts.User.synced ?? 0) + (counts.Group.synced ?? 0);
  const rate = budget.writes / budget.perSeconds;
  // At least one write per queued resource; the bucket's available writes go out at once.
  const etaSeconds = Math.max(0, queueDepth - budget.available) / rate;
  return { total, synced, percent: total ? Math.floor((synced / total) * 100) : 100, queueDepth, etaSeconds, rate };
}

export function overviewPage(data: ConsoleData): Html {
  const status = data.status();
  const counts = data.counts();
  const { settings } = data;
  const wb = status.budget.writes;
  const ru = status.budget.resourceUnits;
  const progress = loadProgress(counts, status.queueDepth, { writes: wb.capacity, perSeconds: wb.perSeconds, available: wb.available });
  const usedWrites = data.graphLog.writesWithin(wb.perSeconds * 1000);
  const checks = preflightChecks(status.preflight, settings.mode);
  const names = data.names(status.lastErrors);
  // skipped: groups the mode (or groups.push) does not push.
  const cols = ['pending', 'synced', 'error', 'blocked', 'skipped', 'deprovisioning', 'deprovisioned'];
  return html`<h1>Overview</h1>
<div class="grid2">
<section id="engine"><h2>Engine</h2>
<p>${badge(status.state)} <span class="muted">mode</span> <strong>${settings.mode}</strong> · ${settings.simulator ? 'Graph simulator' : 'Microsoft Graph'}${settings.dryRun ? ' · dry run' : ''}</p>
${status.reasons.length ? html`<p><strong>${status.state === 'blocked' ? 'Blocked because:' : 'Held because:'}</strong></p><ul class="reasons">${status.reasons.map((r) => html`<li>${r}</li>`)}</ul>` : ''}
${status.lastRun ? html`<p class="muted">Last run ${when(status.lastRun.startedAt)}: ${status.lastRun.created} created, ${status.lastRun.applied} updated, ${status.lastRun.failed} failed, ${status.lastRun.deprovisioned} deprovisioned, ${status.lastRun.writes} writes${status.lastRun.error ? html`; <span class="error">${status.lastRun.error}</span>` : ''}.</p>` : ''}
<table id="counts"><thead><tr><th>Resources</th>${cols.map((c) => html`<th class="num">${c}</th>`)}</tr></thead><tbody>
${(['User', 'Group'] as const).map(
  (t) =>
    html`<tr><th>${t === 'User' ? 'Users' : 'Groups'}</th>${cols.map(
      (c) =>
        html`<td class="num">${
          (counts[t][c] ?? 0) === 0 || c === 'deprovisioned'
            ? number(counts[t][c] ?? 0)
            : c === 'deprovisioning'
              ? html`<a href="deletions">${number(counts[t][c])}</a>`
              : html`<a href="${href(t === 'User' ? 'users' : 'groups', { state: c })}">${number(counts[t][c])}</a>`
        }</td>`,
    )}</tr>`,
)}</tbody></table>
</section>
<section id="progress"><h2>Load progress</h2>
<p><strong>${number(progress.synced)}</strong> of ${number(progress.total)} resources synced (${progress.percent}%).</p>
<progress max="100" value="${progress.percent}">${progress.percent}%</progress>
<p id="eta">${
    progress.queueDepth === 0
      ? 'Nothing queued.'
      : status.state === 'blocked'
        ? html`${number(progress.queueDepth)} queued; nothing is sent while preflight blocks.`
        : progress.etaSeconds === 0
          ? html`${number(progress.queueDepth)} queued: within the write budget available now (${number(wb.available)} writes).`
          : html`${number(progress.queueDepth)} queued: about ${duration(progress.etaSeconds)} left at the write budget (${number(wb.capacity)} writes per ${wb.perSeconds} s, at least one write per resource).`
  }</p>
<h2>Graph budget</h2>
<dl class="kv" id="budget">
<dt>Writes</dt><dd>${number(usedWrites)} sent in the last ${wb.perSeconds} s of ${number(wb.capacity)} allowed; ${number(wb.available)} available now</dd>
<dt>Resource units</dt><dd>${number(ru.available)} of ${number(ru.capacity)} per ${ru.perSeconds} s available now</dd>
<dt>Throttling</dt><dd>${wb.pausedUntil ? html`<span class="error">paused by Graph (429) until ${when(wb.pausedUntil)}</span>` : 'no pause in force'}; ${number(status.graph.throttled)} throttled answers since start</dd>
<dt>Since start</dt><dd>${number(status.graph.requests)} requests, ${number(status.graph.writes)} writes in ${number(status.graph.batches)} batches</dd>
</dl>
</section>
</div>
<section id="preflight"><h2>Preflight ${status.preflight ? html`<span class="muted">checked ${when(status.preflight.checkedAt)}</span>` : ''}</h2>
<ul class="checks">${checks.map(
    (c) =>
      html`<li><span class="badge s-${c.result === 'n/a' ? 'n-a' : c.result === 'not run' ? 'pending' : c.result}">${c.result}</span> <strong>${c.name}</strong>${c.messages.map((m) => html`<div>${m}</div>`)}${c.todo ? html`<div class="todo">What to do: ${c.todo}</div>` : ''}</li>`,
  )}</ul>
</section>
<div class="grid2">
<section id="sources"><h2>Sources</h2><table><thead><tr><th>Source</th><th>Directories</th><th class="num">Users</th><th class="num">Groups</th></tr></thead><tbody>
${data
  .sources()
  .map(
    (s) =>
      html`<tr><td><a href="${href('users', { source: s.id })}">${s.id}</a></td><td>${(s.directories as { id: string; type: string; jit?: boolean }[]).map((d) => `${d.id} (${d.type}${d.jit ? ', jit' : ''})`).join(', ') || html`<span class="muted">none</span>`}</td><td class="num">${number(s.users)}</td><td class="num">${number(s.groups)}</td></tr>`,
  )}</tbody></table></section>
<section id="errors"><h2>Latest errors</h2>${
    status.lastErrors.length
      ? html`<table><thead><tr><th>Resource</th><th>Graph's message</th></tr></thead><tbody>${status.lastErrors
          .slice(0, 10)
          .map((e) => html`<tr><td>${named(names, e.type, e.id)}</td><td>${clip(e.lastError, 120)}</td></tr>`)}</tbody></table>`
      : html`<p class="muted">No resource in error.</p>`
  }${status.pendingDeletions.length ? html`<p><a href="deletions">${status.pendingDeletions.map((h) => `${h.pending} deletions held for ${h.sourceId}`).join('; ')}</a></p>` : ''}</section>
</div>`;
}

// ---------- users and groups ----------

export interface ListQuery {
  state?: string;
  source?: string;
  q?: string;
  page: number;
}

interface ListPage {
  title: string;
  /** The page's path, also its table's id and the pager's noun. */
  path: 'users' | 'groups';
  placeholder?: string;
  head: Html;
  rows: Html[];
  total: number;
  /** The row shown when nothing matches, across every column. */
  empty: Html;
}

// The users and groups lists: the same filters (state, source, text), pager above and below the table.
function listPage(data: ConsoleData, query: ListQuery, p: ListPage): Html {
  const keep = { state: query.state, source: query.source, q: query.q };
  return html`<h1>${p.title}</h1><section>
<form class="filters" method="get" action="${p.path}">
<label>Sync state <select name="state">${stateOptions(query.state)}</select></label>
<label>Source <select name="source">${sourceOptions(data, query.source)}</select></label>
<label>Name, id or externalId <input name="q" value="${query.q ?? ''}"${p.placeholder ? html` placeholder="${p.placeholder}"` : ''} size="32"></label>
<button type="submit">Filter</button>${query.state || query.source || query.q ? html` <a href="${p.path}">Clear</a>` : ''}
</form>
${pager(p.path, keep, query.page, p.total, p.path)}
<table id="${p.path}"><thead>${p.head}</thead><tbody>
${p.rows.length ? p.rows : p.empty}</tbody></table>
${pager(p.path, keep, query.page, p.total, p.path)}
</section>`;
}

export function usersPage(data: ConsoleData, query: ListQuery): Html {
  const list = data.users({ state: query.state, source: query.source, text: query.q, offset: (query.page - 1) * PAGE_SIZE, limit: PAGE_SIZE });
  return listPage(data, query, {
    title: 'Users',
    path: 'users',
    placeholder: 'start of userName or a name',
    head: html`<tr><th>userName</th><th>Display name</th><th>Source</th><th>Active</th><th>Sync</th><th>Graph's last message</th></tr>`,
    rows: list.items.map(
      (u) =>
        html`<tr><td><a href="users/${encodeURIComponent(u.id)}">${u.userName}</a></td><td>${u.displayName ?? ''}</td><td>${u.source}</td><td>${u.active ? 'yes' : 'no'}</td><td>${badge(u.syncState)}</td><td>${clip(u.lastError, 80)}</td></tr>`,
    ),
    total: list.total,
    empty: html`<tr><td colspan="6" class="muted">No user matches.</td></tr>`,
  });
}

export function groupsPage(data: ConsoleData, query: ListQuery): Html {
  const list = data.groups({ state: query.state, source: query.source, text: query.q, offset: (query.page - 1) * PAGE_SIZE, limit: PAGE_SIZE });
  return listPage(data, query, {
    title: 'Groups',
    path: 'groups',
    head: html`<tr><th>Display name</th><th>Source</th><th class="num">Members</th><th>Sync</th><th>Graph's last message</th></tr>`,
    rows: list.items.map(
      (g) =>
        html`<tr><td><a href="groups/${encodeURIComponent(g.id)}">${g.displayName}</a></td><td>${g.source}</td><td class="num">${number(g.members)}</td><td>${badge(g.syncState)}</td><td>${clip(g.lastError, 80)}</td></tr>`,
    ),
    total: list.total,
    empty: html`<tr><td colspan="5" class="muted">No group matches.</td></tr>`,
  });
}

function syncSection(detail: ResourceDetail): Html {
  const s = detail.sync;
  if (!s) return html`<p class="muted">Not yet seen by the engine.</p>`;
  const next =
    s.nextAttemptAt >= Number.MAX_SAFE_INTEGER ? 'on the next change or a retry' : s.nextAttemptAt > 0 ? new Date(s.nextAttemptAt).toISOString() : 'now';
  return html`<dl class="kv" id="sync">
<dt>State</dt><dd>${badge(s.deleted && s.state === 'synced' ? 'deprovisioned' : s.state)}${s.desiredVersion > s.appliedVersion ? html` <span class="muted">(version ${s.appliedVersion} applied of ${s.desiredVersion})</span>` : ''}</dd>
<dt>Graph's last message</dt><dd id="last-error">${s.lastError ?? html`<span class="muted">none</span>`}</dd>
<dt>Graph id</dt><dd class="mono">${s.graphId ?? html`<span class="muted">not linked</span>`}</dd>
<dt>Attempts</dt><dd>${s.attempts}${s.state !== 'synced' ? html` · next ${next}` : ''}</dd>
${s.type === 'User' ? html`<dt>dirSyncEnabled</dt><dd>${s.dirSyncEnabled === null ? '' : s.dirSyncEnabled ? 'yes' : 'no'}</dd><dt>Tokens valid from</dt><dd>${when(s.tokensValidFrom)}${s.graphTokensValidFrom ? html` · Graph reports ${when(s.graphTokensValidFrom)}` : ''}</dd>` : ''}
</dl>`;
}

function attributesSection(detail: ResourceDetail): Html {
  const by = new Map(detail.attribution.map((a) => [a.attribute, a]));
  const rows = attributeRows(detail.resource).filter(
    ([key]) => !/^urn:ietf:params:scim:schemas:extension:graphbridge:2\.0:(User|Group):(syncState|lastSyncError|source)$/.test(key),
  );
  return html`<table id="attributes"><thead><tr><th>Attribute</th><th>Value</th><th>Set by</th><th>When</th></tr></thead><tbody>
${rows.map(([key, value]) => {
  const a = by.get(key) ?? by.get(key.split('.')[0]);
  return html`<tr><td class="mono" title="${key}">${shortAttribute(key)}</td><td>${clip(formatValue(value), 120)}</td><td>${a?.sourceId ?? ''}</td><td>${a ? when(a.setAt) : ''}</td></tr>`;
})}</tbody></table>`;
}

function appliedSection(detail: ResourceDetail): Html {
  const rows = flattenSnapshot(detail.sync?.appliedSnapshot);
  if (!rows.length) return html`<p class="muted">Nothing applied yet.</p>`;
  return html`<table id="applied"><thead><tr><th>Graph property</th><th>Value last applied</th></tr></thead><tbody>
${rows.map(([k, v]) => html`<tr><td class="mono">${k}</td><td>${clip(formatValue(v), 140)}</td></tr>`)}</tbody></table>`;
}

export interface ResourcePageQuery {
  ran?: number;
  refused?: boolean;
  /** The engine was still busy with a run when the page answered. */
  waiting?: boolean;
  page: number;
}

function syncNowResult(data: ConsoleData, type: ResourceType, id: string, query: ResourcePageQuery): Html {
  if (query.ran === undefined) return html``;
  if (query.refused) {
    const reasons = data.status().reasons;
    return html`<section id="sync-now" class="notice"><h2>Sync now</h2><p>Nothing was sent: ${
      data.settings.dryRun ? 'graph.dryRun is set.' : reasons.length ? reasons.join('; ') : 'preflight has not passed.'
    }</p></section>`;
  }
  const entries = data.graphLog.forResource(type, id, { afterSeq: query.ran, limit: 30 });
  const table = entries.length ? graphTable(entries.slice().reverse(), NO_NAMES, false) : html``;
  if (query.waiting) {
    return html`<section id="sync-now"><h2>Sync now: waiting for the engine</h2><p>The engine is finishing a run; this sync follows it. Reload the page to see its Graph requests.</p>${table}</section>`;
  }
  return html`<section id="sync-now"><h2>Sync now: ${entries.length} Graph ${entries.length === 1 ? 'request' : 'requests'}</h2>${
    entries.length ? table : html`<p>No Graph request was needed: Graph already holds what the bridge last applied.</p>`
  }</section>`;
}

export function userPage(data: ConsoleData, detail: ResourceDetail, query: ResourcePageQuery, csrf: string): Html {
  const r = detail.resource;
  const id = detail.id;
  const action = `users/${encodeURIComponent(id)}`;
  const groups = data.groupsOfUser(id);
  return html`<h1>${String(r.userName ?? id)} ${badge(detail.deleted ? 'deleted' : (detail.sync?.state ?? 'pending'))}</h1>
<p class="muted">${String(r.displayName ?? '')} · source ${detail.sourceId} · SCIM id <span class="mono">${id}</span> · <a href="users">all users</a></p>
<div class="actions">${actionForm(`${action}/sync`, csrf, 'Sync now', 'primary', { busy: 'Syncing…' })}${actionForm(`${action}/retry`, csrf, 'Retry')}<span class="muted">Sync now runs the engine for this user at once and lists the Graph requests it made; Retry queues it for the next run.</span></div>
${syncNowResult(data, 'User', id, query)}
<div class="grid2">
<section><h2>Sync</h2>${syncSection(detail)}</section>
<section><h2>Graph values last applied</h2>${appliedSection(detail)}</section>
</div>
<section><h2>Attributes</h2>${attributesSection(detail)}</section>
<section><h2>Groups</h2>${groups.length ? html`<p id="groups-of">${groups.map((g, i) => html`${i ? ', ' : ''}<a href="groups/${encodeURIComponent(g.id)}">${g.displayName}</a>`)}</p>` : html`<p class="muted">Member of no group.</p>`}</section>
<section id="graph-requests"><h2>Graph requests for this user</h2>${graphTable(data.graphLog.forResource('User', id, { limit: 30 }), NO_NAMES, false)}</section>
<section id="timeline"><h2>Audit timeline</h2>${auditTable(data.auditOf('User', id, 50), NO_NAMES, false)}</section>`;
}

export function groupPage(data: ConsoleData, detail: ResourceDetail, query: ResourcePageQuery, csrf: string): Html {
  const id = detail.id;
  const action = `groups/${encodeURIComponent(id)}`;
  const members = data.groupMembers(id, { offset: (query.page - 1) * PAGE_SIZE, limit: PAGE_SIZE });
  return html`<h1>${String(detail.resource.displayName ?? id)} ${badge(detail.deleted ? 'deleted' : (detail.sync?.state ?? 'pending'))}</h1>
<p class="muted">source ${detail.sourceId} · SCIM id <span class="mono">${id}</span> · <a href="groups">all groups</a></p>
<div class="actions">${actionForm(`${action}/sync`, csrf, 'Sync now', 'primary', { busy: 'Syncing…' })}${actionForm(`${action}/retry`, csrf, 'Retry')}</div>
${syncNowResult(data, 'Group', id, query)}
<div class="grid2">
<section><h2>Sync</h2>${syncSection(detail)}</section>
<section><h2>Attributes</h2>${attributesSection(detail)}</section>
</div>
${
  data.settings.pushesGroups
    ? ''
    : html`<p class="notice" id="not-pushed">${data.settings.mode} ${data.settings.mode === 'license-only' ? 'does not write groups' : 'writes groups only with groups.push'}: this group and its members are kept for SCIM (and licenses.groups) and are not sent to Graph.</p>`
}
<section id="members"><h2>Members</h2><table><thead><tr><th>Member</th><th>Type</th><th>In Graph</th></tr></thead><tbody>
${
  members.items.length
    ? members.items.map(
        (m) =>
          html`<tr><td>${resourceLink(m.type, m.id, m.name ?? m.id)}</td><td>${m.type}</td><td>${
            data.settings.pushesGroups
              ? html`<span class="badge s-${m.status === 'in Graph' ? 'synced' : 'pending'}">${m.status}</span>`
              : html`<span class="badge s-n-a">not pushed</span>`
          }</td></tr>`,
      )
    : html`<tr><td colspan="3" class="muted">No members.</td></tr>`
}</tbody></table>${pager(`groups/${encodeURIComponent(id)}`, {}, query.page, members.total, 'members')}</section>
<section id="graph-requests"><h2>Graph requests for this group</h2>${graphTable(data.graphLog.forResource('Group', id, { limit: 30 }), NO_NAMES, false)}</section>
<section id="timeline"><h2>Audit timeline</h2>${auditTable(data.auditOf('Group', id, 50), NO_NAMES, false)}</section>`;
}

// ---------- deletions, drift, audit, Graph log ----------

export function deletionsPage(data: ConsoleData, csrf: string): Html {
  const status = data.status();
  const held = new Map(status.pendingDeletions.map((h) => [h.sourceId, h]));
  const { bySource, items } = data.deletions();
  const threshold = data.settings.deletionThreshold;
  return html`<h1>Pending deletions</h1>
<p class="muted">Users deleted or deprovisioned by their source whose deprovisioning in Graph is still to do. More than ${threshold} from one source within an hour pauses that source's deprovisioning until you approve or reject.</p>
${
  bySource.length
    ? bySource.map((s) => {
        const h = held.get(s.sourceId);
        const who = items.filter((i) => i.sourceId === s.sourceId);
        return html`<section class="deletions" data-source="${s.sourceId}"><h2>${s.sourceId}: ${number(s.count)} pending ${h ? badge('paused') : badge('pending')}</h2>
${
  h
    ? html`<div class="actions">${actionForm(`deletions/${encodeURIComponent(s.sourceId)}/approve`, csrf, `Approve ${h.pending} deletions`, 'danger', {
        confirm: `Deprovision ${h.pending} users of ${s.sourceId} in Entra?`,
      })}${actionForm(`deletions/${encodeURIComponent(s.sourceId)}/reject`, csrf, 'Reject', '', {
        confirm: `Leave the ${h.pending} Entra accounts of ${s.sourceId} as they are?`,
      })}<span class="muted">Approve deprovisions them in Graph; Reject leaves the Entra accounts as they are and records it in the audit log.</span></div>`
    : html`<p class="muted">Under the threshold: the engine deprovisions these on its next run.</p>`
}
<table><thead><tr><th>userName</th><th>Deleted</th><th>Graph id</th></tr></thead><tbody>${who.map(
          (u) =>
            html`<tr><td><a href="users/${encodeURIComponent(u.id)}">${u.userName}</a></td><td>${when(u.deletedAt)}</td><td class="mono">${u.graphId ?? ''}</td></tr>`,
        )}</tbody></table>${who.length < s.count ? html`<p class="muted">${number(s.count - who.length)} more not shown.</p>` : ''}</section>`;
      })
    : html`<section><p>No deletion is pending.</p></section>`
}`;
}

export function driftPage(data: ConsoleData): Html {
  const rows = data.drift(200);
  const names = data.names(rows.map((r) => ({ type: r.resourceType, id: r.resourceId })));
  return html`<h1>Drift</h1>
<p class="muted">Changes made in Entra outside the bridge, found by the delta queries (user-sync and universal-sync) and reverted.</p>
<section><table id="drift"><thead><tr><th>Detected</th><th>Resource</th><th>Attributes</th><th>Changed by</th><th>Reverted</th></tr></thead><tbody>
${
  rows.length
    ? rows.map((r) => {
        const d = (r.detail ?? {}) as { attributes?: string[]; changedBy?: string; reverted?: boolean; detectedAt?: string };
        return html`<tr><td>${when(d.detectedAt ?? r.at)}</td><td>${named(names, r.resourceType, r.resourceId)}</td><td>${(d.attributes ?? []).join(', ')}</td><td>${d.changedBy ?? ''}</td><td>${d.reverted ? html`<span class="badge s-synced">yes</span>` : html`<span class="badge s-error">no</span>`}</td></tr>`;
      })
    : html`<tr><td colspan="5" class="muted">No drift recorded.</td></tr>`
}</tbody></table></section>`;
}

export interface AuditQuery {
  action?: string;
  source?: string;
  resource?: string;
  before?: number;
}

export function auditPage(data: ConsoleData, query: AuditQuery): Html {
  const rows = data.audit({ action: query.action, source: query.source, resourceId: query.resource, beforeSeq: query.before, limit: PAGE_SIZE });
  const keep = { action: query.action, source: query.source, resource: query.resource };
  return html`<h1>Audit log</h1><section>
<form class="filters" method="get" action="audit">
<label>Action <input name="action" value="${query.action ?? ''}" placeholder="user.create, or sync. for a prefix" size="28"></label>
<label>Source <select name="source">${sourceOptions(data, query.source)}</select></label>
<label>Resource id <input name="resource" value="${query.resource ?? ''}" size="38"></label>
<button type="submit">Filter</button>${query.action || query.source || query.resource ? html` <a href="audit">Clear</a>` : ''}
</form>
<div id="audit">${auditTable(rows, data.names(rows.map((r) => ({ type: r.resourceType, id: r.resourceId }))))}</div>
<div class="pager">${query.before ? html`<a href="${href('audit', keep)}">Newest</a>` : ''}${
    rows.length === PAGE_SIZE ? html`<a rel="next" href="${href('audit', { ...keep, before: rows[rows.length - 1].seq })}">Older ›</a>` : ''
  }</div></section>`;
}

export function graphPage(data: ConsoleData): Html {
  const entries = data.graphLog.entries(200);
  const names = data.names(entries.flatMap((e) => (e.resource ? [e.resource] : [])));
  return html`<h1>Graph requests</h1><p class="muted">The latest requests the bridge sent to Graph (bodies are never kept).</p><section id="graph-log">${graphTable(entries, names)}</section>`;
}
