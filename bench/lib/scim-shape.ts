// Checks, before any timing, that the bridge and the baseline answer the benchmark's requests with
// the same SCIM JSON shape (same attribute paths, same list envelope), so that the comparison is
// between equal work. Values such as meta.location hosts naturally differ and are not compared.
import Database from 'better-sqlite3';
import { benchUser, benchUserName } from './scim-users';

function paths(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) return value.length ? paths(value[0], `${prefix}[]`) : [`${prefix}[]`];
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => paths(v, prefix ? `${prefix}.${k}` : k));
  }
  return [prefix];
}

async function getJson(url: string, headers: Record<string, string>): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { headers });
  return { status: res.status, body: await res.json().catch(() => null) };
}

export async function compareShapes(bridgeUrl: string, baselineUrl: string, headers: Record<string, string>, users: number): Promise<string> {
  const filter = encodeURIComponent(`userName eq "${benchUserName(Math.floor(users / 3))}"`);
  const probes = [`/scim/v2/Users?filter=${filter}`, `/scim/v2/Users?startIndex=${Math.floor(users / 2)}&count=100`];
  const lines: string[] = [];
  for (const probe of probes) {
    const [a, b] = await Promise.all([getJson(bridgeUrl + probe, headers), getJson(baselineUrl + probe, headers)]);
    const pa = new Set(paths(a.body));
    const pb = new Set(paths(b.body));
    const onlyBridge = [...pa].filter((p) => !pb.has(p));
    const onlyBaseline = [...pb].filter((p) => !pa.has(p));
    const resources = (x: unknown) => ((x as { Resources?: unknown[] })?.Resources ?? []).length;
    if (a.status !== 200 || b.status !== 200) lines.push(`shape check ${probe}: statuses ${a.status} / ${b.status}`);
    else if (onlyBridge.length || onlyBaseline.length || resources(a.body) !== resources(b.body)) {
      lines.push(`shape check ${probe}: DIFFERENT (bridge ${resources(a.body)} resources, baseline ${resources(b.body)}); only bridge: ${onlyBridge.join(', ') || '-'}; only baseline: ${onlyBaseline.join(', ') || '-'}`);
    } else lines.push(`shape check ${probe}: same SCIM shape (${pa.size} attribute paths, ${resources(a.body)} resources)`);
  }
  return lines.join('\n');
}

function rowCounts(database: string): Record<string, number> {
  const db = new Database(database, { readonly: true });
  try {
    const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).pluck().all() as string[];
    return Object.fromEntries(tables.map((t) => [t, db.prepare(`SELECT count(*) FROM "${t}"`).pluck().get() as number]));
  } finally {
    db.close();
  }
}

/** One POST /Users to each server: the same rows must appear in the same tables of each file. */
export async function compareWrites(servers: { url: string; database: string }[], headers: Record<string, string>): Promise<string> {
  const added: string[] = [];
  for (const [i, s] of servers.entries()) {
    const before = rowCounts(s.database);
    const res = await fetch(`${s.url}/scim/v2/Users`, { method: 'POST', headers, body: JSON.stringify(benchUser(`write-check-${i}`)) });
    await res.arrayBuffer();
    const after = rowCounts(s.database);
    added.push(`${res.status} ${Object.keys(after).sort().map((t) => `${t}+${after[t] - (before[t] ?? 0)}`).join(' ')}`);
  }
  return added.every((a) => a === added[0]) ? `write check: one POST adds the same rows on both (${added[0]})` : `write check: DIFFERENT rows per POST: bridge ${added[0]}; baseline ${added[1]}`;
}

/** The tables and indexes of both files, after both servers opened them. */
export function compareSchemas(a: string, b: string): string {
  const schema = (database: string) => {
    const db = new Database(database, { readonly: true });
    try {
      return (db.prepare(`SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_master ORDER BY name`).pluck().all() as string[]).map((s) => s.replace(/\s+/g, ' '));
    } finally {
      db.close();
    }
  };
  const [sa, sb] = [schema(a), schema(b)];
  const diff = [...sa.filter((x) => !sb.includes(x)).map((x) => `bridge only: ${x}`), ...sb.filter((x) => !sa.includes(x)).map((x) => `baseline only: ${x}`)];
  return diff.length ? `schema check: DIFFERENT\n  ${diff.join('\n  ')}` : `schema check: same ${sa.length} tables, indexes and triggers in both files`;
}
