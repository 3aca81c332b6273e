// Checks, before any timing, that the bridge and the baseline answer the benchmark's requests with
// the same SCIM JSON shape (same attribute paths, same list envelope), so that the comparison is
// between equal work. Values such as meta.location hosts naturally differ and are not compared.
import { benchUserName } from './scim-users';

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
