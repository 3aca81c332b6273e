// HTML building blocks of the operator's console: an escaping template tag (every interpolated
// value is text unless it is already Html), the page layout with its navigation, and the two
// static assets (stylesheet and the small script for confirmations), served by the bridge so the
// pages run under a CSP without inline scripts or styles.

export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (ch) => ESCAPES[ch]);
}

function part(value: unknown): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return value.map(part).join('');
  return escapeHtml(value);
}

/** Template tag: interpolations are escaped, Html values and arrays of them are inserted as they are. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0];
  values.forEach((v, i) => {
    out += part(v) + strings[i + 1];
  });
  return new Html(out);
}

export const raw = (s: string) => new Html(s);

/** A URL with query parameters (empty ones left out). */
export function href(path: string, query: Record<string, string | number | undefined | null> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

export function badge(state: string): Html {
  return html`<span class="badge s-${state.replace(/[^a-z-]/gi, '')}">${state}</span>`;
}

export function when(iso: string | null | undefined): Html {
  if (!iso) return html`<span class="muted">never</span>`;
  return html`<time datetime="${iso}" title="${iso}">${iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</time>`;
}

export function number(n: number): string {
  return n.toLocaleString('en-US');
}

/** A one-line cell: long text cut with the whole of it in the title. */
export function clip(text: string | null | undefined, max = 90): Html {
  if (!text) return html``;
  return text.length <= max ? html`${text}` : html`<span title="${text}">${text.slice(0, max - 1)}…</span>`;
}

export interface Page {
  title: string;
  nav: 'overview' | 'users' | 'groups' | 'deletions' | 'drift' | 'audit' | 'graph';
  body: Html;
  csrf: string;
  notice?: string;
}

const NAV: [Page['nav'], string, string][] = [
  ['overview', 'Overview', './'],
  ['users', 'Users', 'users'],
  ['groups', 'Groups', 'groups'],
  ['deletions', 'Pending deletions', 'deletions'],
  ['drift', 'Drift', 'drift'],
  ['audit', 'Audit log', 'audit'],
  ['graph', 'Graph requests', 'graph'],
];

/** Every console page: header with navigation and sign-out, an optional notice, the body. */
export function layout(page: Page, base: string): string {
  return `<!doctype html>${html`<html lang="en"><head><meta charset="utf-8"><title>${page.title} · scim-graph-bridge</title>
<meta name="viewport" content="width=device-width,initial-scale=1"><base href="${base}"><link rel="icon" href="favicon.svg"><link rel="stylesheet" href="console.css"><script src="console.js" defer></script></head>
<body><header><span class="brand">scim-graph-bridge</span><nav>${NAV.map(
    ([key, label, link]) => html`<a href="${link}"${key === page.nav ? raw(' aria-current="page"') : ''}>${label}</a>`,
  )}</nav><form method="post" action="logout" class="logout"><input type="hidden" name="csrf" value="${page.csrf}"><button type="submit">Sign out</button></form></header>
<main>${page.notice ? html`<p class="notice" role="status">${page.notice}</p>` : ''}${page.body}</main></body></html>`}`;
}

export function loginPage(message?: string): string {
  return `<!doctype html>${html`<html lang="en"><head><meta charset="utf-8"><title>Sign in · scim-graph-bridge</title>
<meta name="viewport" content="width=device-width,initial-scale=1"><link rel="icon" href="favicon.svg"><link rel="stylesheet" href="console.css"></head>
<body><header><span class="brand">scim-graph-bridge</span></header><main><section class="narrow"><h1>Admin sign-in</h1>${message ? html`<p class="error">${message}</p>` : ''}
<form method="post" action="login"><label>Admin token <input type="password" name="token" autocomplete="current-password" required autofocus></label> <button type="submit">Sign in</button></form>
<p class="muted">The admin token is <code>adminToken</code> in the configuration (or <code>BRIDGE_ADMIN_TOKEN</code>); <code>serve</code> prints one when none is set.</p>
</section></main></body></html>`}`;
}

export const faviconSvg =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#1f2937"/><path d="M4 8h8M8 4v8" stroke="#10b981" stroke-width="2"/></svg>';

export const consoleCss = `
*{box-sizing:border-box}
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1b1f24;background:#f6f7f9}
header{background:#1f2937;color:#fff;padding:8px 16px;display:flex;gap:16px;align-items:center;flex-wrap:wrap}
header .brand{font-weight:700;font-size:15px;margin-right:8px}
header nav{display:flex;gap:4px;flex-wrap:wrap;flex:1}
header nav a{color:#d1d5db;text-decoration:none;padding:4px 10px;border-radius:4px}
header nav a:hover{background:#374151;color:#fff}
header nav a[aria-current=page]{background:#4b5563;color:#fff}
header .logout button{background:transparent;color:#d1d5db;border:1px solid #4b5563}
main{padding:14px 16px;display:grid;gap:14px;max-width:1340px}
h1{font-size:19px;margin:0 0 4px}h2{font-size:15px;margin:0 0 8px}
section{background:#fff;border:1px solid #e5e7eb;border-radius:6px;padding:10px 14px;min-width:0}
section.narrow{max-width:520px}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:14px}
table{border-collapse:collapse;width:100%;table-layout:auto}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #f0f1f3;vertical-align:top}
th{font-weight:600;color:#4b5563;font-size:13px;white-space:nowrap}
td{overflow-wrap:anywhere}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
time,td.nowrap{white-space:nowrap}
#users td:nth-child(2){white-space:nowrap}
.mono,code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px}
.muted{color:#6b7280}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-weight:600;font-size:12px;background:#e5e7eb;color:#374151;white-space:nowrap}
.s-ok,.s-synced,.s-pass,.s-running{background:#d1fae5;color:#065f46}
.s-blocked,.s-error,.s-block{background:#fee2e2;color:#991b1b}
.s-degraded,.s-pending,.s-paused,.s-warn{background:#fef3c7;color:#92400e}
.s-deprovisioned,.s-n-a{background:#e5e7eb;color:#4b5563}
.notice{background:#eff6ff;border:1px solid #bfdbfe;border-radius:6px;padding:8px 12px;margin:0}
.error{color:#991b1b}
form.filters{display:flex;gap:8px;flex-wrap:wrap;align-items:end;margin-bottom:8px}
form.filters label{display:flex;flex-direction:column;font-size:12px;color:#4b5563;gap:2px}
input,select{padding:4px 8px;border:1px solid #d1d5db;border-radius:4px;font:inherit}
button{padding:4px 12px;border:1px solid #9ca3af;border-radius:4px;background:#fff;font:inherit;cursor:pointer}
button.primary{background:#1d4ed8;border-color:#1d4ed8;color:#fff}
button.danger{background:#b91c1c;border-color:#b91c1c;color:#fff}
button:disabled{opacity:.6;cursor:wait}
.actions{display:flex;gap:8px;align-items:center;flex-wrap:wrap}
.actions form{margin:0}
.pager{display:flex;gap:12px;align-items:center;margin:6px 0}
progress{width:100%;height:12px;accent-color:#10b981}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:0}
dl.kv dt{color:#4b5563}dl.kv dd{margin:0;overflow-wrap:anywhere}
ul.checks{list-style:none;padding:0;margin:0}
ul.checks li{padding:4px 0;border-bottom:1px solid #f0f1f3}
ul.checks .todo{color:#4b5563;font-size:13px;margin-top:2px}
`;

// Confirms destructive actions and shows that a posted action is running; nothing else runs in the page.
export const consoleJs = `
document.addEventListener('submit', function (e) {
  var form = e.target;
  var question = form.getAttribute('data-confirm');
  if (question && !window.confirm(question)) { e.preventDefault(); return; }
  var button = form.querySelector('button[type=submit]');
  if (button && form.method.toLowerCase() === 'post') { button.disabled = true; if (button.dataset.busy) button.textContent = button.dataset.busy; }
});
`;
