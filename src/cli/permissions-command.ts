// `scim-graph-bridge permissions`: the Graph application permissions the configured mode and
// options need (from src/graph/permissions.ts, itself derived from Microsoft's permission table),
// what each is for, and the az CLI and Microsoft Graph PowerShell commands that grant them.
import { loadConfig, type Mode } from '../config';
import { grantingPermissions, leastGrant, needsFor } from '../graph/permissions';

const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';

export interface PermissionsReport {
  mode: Mode;
  required: { permission: string; for: string[] }[];
  recommended: { permission: string; for: string[]; without: string }[];
}

export function permissionsReport(
  configFile: string | undefined,
  modeOverride: Mode | undefined,
  env: NodeJS.ProcessEnv,
): PermissionsReport & { clientId: string | null } {
  const config = loadConfig({ file: configFile, env, ...(modeOverride ? { overrides: { mode: modeOverride } } : {}) });
  const mode = config.mode;
  const needs = needsFor(config, mode);
  const required = leastGrant(config, mode).map((permission) => ({
    permission,
    for: needs.filter((n) => !n.optional && n.grant === permission).map((n) => n.what),
  }));
  // A need whose grant is not in the least set is covered by a broader one: list it under that one.
  for (const n of needs.filter((x) => !x.optional && !required.some((r) => r.permission === x.grant))) {
    const host = required.find((r) => n.requests.every((req) => grantingPermissions(req).includes(r.permission)));
    if (host) host.for.push(n.what);
  }
  const recommended = needs
    .filter((n) => n.optional && !required.some((r) => r.permission === n.grant))
    .map((n) => ({ permission: n.grant, for: [n.what], without: n.stops }));
  return { mode, required, recommended, clientId: config.graph.clientId ?? null };
}

function azCommands(permissions: string[], clientId: string): string[] {
  return [
    `APP_ID=${clientId}`,
    `GRAPH=${GRAPH_APP_ID}`,
    `for p in ${permissions.join(' ')}; do`,
    `  role=$(az ad sp show --id "$GRAPH" --query "appRoles[?value=='$p' && contains(allowedMemberTypes, 'Application')].id | [0]" -o tsv)`,
    `  az ad app permission add --id "$APP_ID" --api "$GRAPH" --api-permissions "$role=Role"`,
    'done',
    'az ad app permission admin-consent --id "$APP_ID"',
  ];
}

function powershellCommands(permissions: string[], clientId: string): string[] {
  return [
    "Connect-MgGraph -Scopes 'Application.Read.All','AppRoleAssignment.ReadWrite.All'",
    `$graph = Get-MgServicePrincipal -Filter "appId eq '${GRAPH_APP_ID}'"`,
    `$app = Get-MgServicePrincipal -Filter "appId eq '${clientId}'"`,
    `foreach ($p in @(${permissions.map((p) => `'${p}'`).join(', ')})) {`,
    "  $role = $graph.AppRoles | Where-Object { $_.Value -eq $p -and $_.AllowedMemberTypes -contains 'Application' }",
    '  New-MgServicePrincipalAppRoleAssignment -ServicePrincipalId $app.Id -PrincipalId $app.Id -ResourceId $graph.Id -AppRoleId $role.Id',
    '}',
  ];
}

export function permissions(
  configFile: string | undefined,
  opts: { mode?: Mode; json?: boolean },
  print: (line: string) => void,
  env: NodeJS.ProcessEnv,
): number {
  const report = permissionsReport(configFile, opts.mode, env);
  if (opts.json) {
    print(JSON.stringify({ mode: report.mode, required: report.required, recommended: report.recommended }, null, 2));
    return 0;
  }
  const clientId = report.clientId ?? '<application (client) id>';
  print(`Microsoft Graph application permissions for ${report.mode} (admin consent required for each):`);
  for (const r of report.required) print(`  ${r.permission}: ${r.for.join('; ')}`);
  if (report.recommended.length) {
    print('Recommended (without them the rest works):');
    for (const r of report.recommended) print(`  ${r.permission}: ${r.for.join('; ')}; without it: ${r.without}`);
  }
  const all = [...report.required, ...report.recommended].map((r) => r.permission);
  print('');
  print('Grant them with the az CLI:');
  for (const l of azCommands(all, clientId)) print(`  ${l}`);
  print('');
  print('or with Microsoft Graph PowerShell:');
  for (const l of powershellCommands(all, clientId)) print(`  ${l}`);
  print('');
  print('No directory role is needed. Why each permission, and what each preflight reason asks: docs/graph-app.md');
  return 0;
}
