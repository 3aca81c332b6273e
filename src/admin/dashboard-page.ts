// The operator's dashboard: one static page that reads /admin/api/* and renders with
// textContent only, so no value from an IdP can inject markup.
const style = `
body{font:14px system-ui,sans-serif;margin:0;color:#1b1f24;background:#f6f7f9}
header{background:#1f2937;color:#fff;padding:12px 20px;display:flex;gap:16px;align-items:center}
header h1{font-size:18px;margin:0}
.badge{padding:2px 8px;border-radius:10px;font-weight:600;font-size:12px}
.ok,.synced{background:#d1fae5;color:#065f46}.blocked,.error{background:#fee2e2;color:#991b1b}
.degraded,.pending,.paused{background:#fef3c7;color:#92400e}
main{padding:16px 20px;display:grid;gap:16px}
section{background:#fff;border:1px solid #e5e7eb;border-radius:6px;padding:12px 16px}
section h2{font-size:15px;margin:0 0 8px}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #f0f1f3;vertical-align:top}
th{font-weight:600;color:#4b5563}td.mono{font-family:ui-monospace,monospace;font-size:12px;white-space:pre-line}
ul.reasons{margin:4px 0;padding-left:20px}.muted{color:#6b7280}
input{padding:4px 8px;border:1px solid #d1d5db;border-radius:4px}`;

const script = `
const $ = (s) => document.querySelector(s);
function el(tag, text, cls) { const e = document.createElement(tag); if (text !== undefined && text !== null) e.textContent = String(text); if (cls) e.className = cls; return e; }
function table(target, columns, rows) {
  const t = el('table'); const head = el('tr');
  columns.forEach(c => head.appendChild(el('th', c.label))); t.appendChild(head);
  if (!rows.length) { const r = el('tr'); const td = el('td', 'nothing here', 'muted'); td.colSpan = columns.length; r.appendChild(td); t.appendChild(r); }
  rows.forEach(row => { const r = el('tr'); columns.forEach(c => { const v = c.value(row); const td = el('td', null, c.cls); if (v instanceof Node) td.appendChild(v); else td.textContent = v === undefined || v === null ? '' : String(v); r.appendChild(td); }); t.appendChild(r); });
  target.replaceChildren(t);
}
function badge(text) { return el('span', text, 'badge ' + text); }
function reasons(target, title, list) { if (!list || !list.length) return; target.appendChild(el('div', title)); const ul = el('ul', null, 'reasons'); list.forEach(x => ul.appendChild(el('li', x))); target.appendChild(ul); }
async function getJson(path) { const r = await fetch(path, { credentials: 'same-origin' }); if (!r.ok) throw new Error(path + ': ' + r.status); return r.json(); }
let search = '';
async function refresh() {
  try {
    const o = await getJson('api/overview');
    $('#status').replaceChildren(badge(o.health.status));
    $('#mode').textContent = 'mode ' + o.health.mode + (o.health.graph.simulator ? ' · Graph simulator' : ' · ' + o.health.graph.baseUrl) + (o.health.graph.dryRun ? ' · dry run' : '');
    const eng = $('#engine'); eng.replaceChildren(el('div', 'engine: ' + o.health.engine.state));
    reasons(eng, 'blocked because:', o.health.engine.reasons); reasons(eng, 'warnings:', o.health.engine.warnings);
    const q = o.health.queue; table($('#counts'), Object.keys(q).map(k => ({ label: k, value: r => r[k] })), [q]);
    $('#preflight').textContent = JSON.stringify(o.preflight, null, 2);
    table($('#sources'), [{ label: 'source', value: r => r.id }, { label: 'directories', value: r => (r.directories || []).map(d => d.id + ' (' + d.type + (d.jit ? ', jit' : '') + ')').join(', ') }, { label: 'users', value: r => r.users }, { label: 'groups', value: r => r.groups }], o.sources);
    const u = await getJson('api/users?limit=50&search=' + encodeURIComponent(search));
    $('#users-total').textContent = u.total + ' users';
    table($('#users'), [
      { label: 'userName', value: r => r.userName }, { label: 'source', value: r => r.source },
      { label: 'active', value: r => r.active ? 'yes' : 'no' }, { label: 'sync', value: r => badge(r.syncState) },
      { label: 'last error', value: r => r.lastSyncError }, { label: 'Graph id', value: r => r.graphId, cls: 'mono' },
      { label: 'dirSync', value: r => r.dirSyncEnabled ? 'yes' : 'no' }, { label: 'tokens valid from', value: r => r.tokensValidFrom },
      { label: 'attribution', value: r => Object.entries(r.attribution || {}).map(([a, s]) => a + ' ← ' + s.source + ' @ ' + s.at).join('\\n'), cls: 'mono' },
    ], u.items);
    const cols = (keys) => keys.map(k => ({ label: k, value: r => typeof r[k] === 'object' && r[k] !== null ? JSON.stringify(r[k]) : r[k], cls: 'mono' }));
    const queue = await getJson('api/queue?limit=100'); table($('#queue'), cols(queue.length ? Object.keys(queue[0]) : ['queue']), queue);
    const log = await getJson('api/graph-log?limit=100'); table($('#graph-log'), cols(log.length ? Object.keys(log[0]) : ['operations']), log);
    const drift = await getJson('api/drift?limit=100'); table($('#drift'), cols(drift.length ? Object.keys(drift[0]) : ['drift']), drift);
    $('#updated').textContent = 'updated ' + new Date().toLocaleTimeString();
  } catch (err) { $('#updated').textContent = 'refresh failed: ' + err.message; }
}
document.addEventListener('DOMContentLoaded', () => {
  $('#search').addEventListener('input', (e) => { search = e.target.value; refresh(); });
  refresh(); setInterval(refresh, 5000);
});`;

export function dashboardHtml(): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>scim-graph-bridge</title>
<meta name="viewport" content="width=device-width,initial-scale=1"><style>${style}</style></head>
<body><header><h1>scim-graph-bridge</h1><span id="status"></span><span id="mode"></span><span id="updated" class="muted"></span></header>
<main>
<section><h2>Engine</h2><div id="engine"></div><div id="counts"></div></section>
<section><h2>Preflight</h2><pre id="preflight"></pre></section>
<section><h2>Sources</h2><div id="sources"></div></section>
<section><h2>Users <span id="users-total" class="muted"></span></h2><input id="search" placeholder="userName starts with"><div id="users"></div></section>
<section><h2>Queue</h2><div id="queue"></div></section>
<section><h2>Graph operations</h2><div id="graph-log"></div></section>
<section><h2>Drift</h2><div id="drift"></div></section>
</main><script>${script}</script></body></html>`;
}

export function loginHtml(message?: string): string {
  const note = message ? `<p class="error">${message.replace(/[<>&"]/g, '')}</p>` : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>scim-graph-bridge: sign in</title><style>${style}</style></head>
<body><header><h1>scim-graph-bridge</h1></header><main><section><h2>Admin sign-in</h2>${note}
<form method="post" action="login"><input type="password" name="token" placeholder="admin token" autocomplete="current-password" required> <button type="submit">Sign in</button></form>
</section></main></body></html>`;
}
