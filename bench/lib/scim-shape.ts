// Checks, before any timing, that the baseline answers the benchmark's requests with a SCIM shape
// the bridge's answers contain too (every attribute path of the baseline's, the same list envelope
// and number of resources), so that the baseline does not skip work a SCIM answer needs. The bridge
// adds its own (the graphbridge extension's sync state, say). Values are not compared.
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
    else if (onlyBaseline.length || resources(a.body) !== resources(b.body)) {
      lines.push(
        `shape check ${probe}: DIFFERENT (bridge ${resources(a.body)} resources, baseline ${resources(b.body)}); only baseline: ${onlyBaseline.join(', ')}`,
      );
    } else
      lines.push(
        `shape check ${probe}: the baseline's ${pb.size} attribute paths are in the bridge's answer (${resources(a.body)} resources; the bridge adds ${onlyBridge.length})`,
      );
  }
  return lines.join('\n');
}
